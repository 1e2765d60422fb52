"""call_tool: the direct route, one method call with explicit arguments, no code written.

The call goes through LangGraph's ``ToolNode`` over the chosen service's method tools, so
argument validation and error capture are the standard ones. A failed direct call is not
the end: routing falls back to writing code, which can look at the error and try harder.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from aibroker.catalog import CatalogError
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import State, TraceEntry
from aibroker.nodes.calls import group_calls
from aibroker.nodes.common import context_of, tail
from aibroker.tools.methods import method_tools, tool_name


async def call_tool(
    state: State, runtime: Runtime[Context], config: RunnableConfig, *, deps: AgentDeps
) -> dict[str, Any]:
    """Make the direct call rerank proposed and record it as trace entry 0."""
    context = context_of(runtime)
    direct = state["direct"]
    if direct is None:
        raise CatalogError("call_tool ran without a direct call", hint="this is a routing bug")
    entry = await asyncio.to_thread(deps.get_catalog().get, direct["service"])
    if entry is None:
        raise CatalogError(f"service {direct['service']!r} left the catalog during the request")
    timeout = context.exec_timeout or (await asyncio.to_thread(deps.get_settings)).exec_timeout
    tools = await asyncio.to_thread(method_tools, entry, timeout=timeout)
    name = tool_name(direct["service"], direct["method"])
    request = AIMessage(
        content="", tool_calls=[{"name": name, "args": direct["args"], "id": "direct-call"}]
    )
    started = time.perf_counter()
    reply = await ToolNode(tools, handle_tool_errors=True).ainvoke({"messages": [request]}, config)
    call_s = round(time.perf_counter() - started, 4)
    message = reply["messages"][-1]
    if not isinstance(message, ToolMessage):
        raise CatalogError(f"ToolNode answered {type(message).__name__}, not a ToolMessage")
    content = message.content if isinstance(message.content, str) else json.dumps(message.content)
    rendered = f"{direct['service']}.{direct['method']}(**{json.dumps(direct['args'])})"
    trace_entry = TraceEntry(
        attempt=0,
        kind="direct",
        code=rendered,
        check="skipped",
        exit_code=None,
        stdout_tail=tail(content, context.tail_chars),
        stderr_tail="",
        error=None,
        durations={"call": call_s},
        tokens={"input": 0, "output": 0},
        calls=[],
        calls_truncated=False,
    )
    if message.status == "error":
        error = {
            "stage": "direct",
            "kind": "tool_error",
            "message": content,
            "service": direct["service"],
            "method": direct["method"],
        }
        trace_entry["error"] = error
        return {"trace": [*state["trace"], trace_entry]}
    call = {"service": entry.name, "method": entry.rpc_name(direct["method"])}
    trace_entry["calls"] = group_calls([call | {"params": direct["args"]}])
    return {
        "trace": [*state["trace"], trace_entry],
        "status": "success",
        "stdout": content,
        "result": message.artifact,
    }
