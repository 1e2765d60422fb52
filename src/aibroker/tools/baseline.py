"""The tool-calling baseline: a ReAct loop over every method tool, for the benchmarks.

It is what code mode is measured against: the same model sees ALL method tools of all
services (one JSON schema each, resent on every call) and calls them one step at a time,
reading each result before the next step. A hand-rolled two-node LangGraph (``agent`` <->
``tools``) rather than a prebuilt agent, so the step cap is an explicit counter in state
compared in a routing function (the project's convention), and reaching it is a status,
not a ``GraphRecursionError``.

Small local models served by llama.cpp often write their tool calls as text (```json blocks
or ``<tool_call>`` tags) instead of structured ``tool_calls``: the server only parses them
when a call is forced. :func:`recover_text_tool_calls` turns such text back into tool calls
naming known tools, as hosted servers' tool parsers do, so the baseline gets its best shot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from typing_extensions import TypedDict

from aibroker.errors import AibrokerError

DEFAULT_MAX_STEPS = 24
"""Model calls per request; a 20-item loop fits when the model calls one tool per step."""

SYSTEM_PROMPT = (
    "You operate JSON-RPC services through the tools provided. Call tools to do exactly "
    "what the user asks, one or more tool calls per turn, and read each result. When the "
    "request is fully done, reply with a short final answer that states the result, "
    "without any tool call."
)

BaselineStatus = Literal["success", "capped"]

_JSON_FENCE = re.compile(r"```(?:json)?[ \t]*\n(?P<body>.*?)```", re.DOTALL)
_TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(?P<body>.*?)\s*(?:</tool_call>|$)", re.DOTALL)


class BaselineError(AibrokerError):
    """The baseline agent was configured in a way that cannot work."""


class BaselineState(TypedDict):
    """The loop's state: the conversation and how many model calls it has made."""

    messages: Annotated[list[AnyMessage], add_messages]  # conversation, tool results included
    steps: int  # model calls made so far, compared against the cap by the router


@dataclass(frozen=True)
class BaselineOutcome:
    """How one request went: the final text, whether it finished, and what it cost."""

    answer: str
    status: BaselineStatus
    llm_calls: int
    tool_calls: int
    tool_errors: int
    input_tokens: int
    output_tokens: int
    messages: list[AnyMessage]


def _candidate_objects(text: str) -> list[str]:
    bodies = [m["body"] for m in _TOOL_CALL_TAG.finditer(text)]
    bodies += [m["body"] for m in _JSON_FENCE.finditer(text)]
    stripped = text.strip()
    if not bodies and stripped.startswith(("{", "[")):
        bodies.append(stripped)
    return bodies


def _decode_all(body: str) -> list[Any]:
    """Every JSON value in ``body`` (several objects may follow one another)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    index = 0
    while index < len(body):
        start = min(
            (i for i in (body.find("{", index), body.find("[", index)) if i >= 0), default=-1
        )
        if start < 0:
            break
        try:
            value, index = decoder.raw_decode(body, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        values.extend(value if isinstance(value, list) else [value])
    return values


def recover_text_tool_calls(message: AIMessage, tool_names: set[str]) -> AIMessage:
    """``message`` with tool calls written as text turned into structured ``tool_calls``.

    Only objects of the shape ``{"name": <known tool>, "arguments"|"args": {...}}`` count;
    a message that already has tool calls, or has no such object, is returned unchanged.
    """
    if message.tool_calls or not isinstance(message.content, str):
        return message
    calls: list[dict[str, Any]] = []
    for body in _candidate_objects(message.content):
        for value in _decode_all(body):
            if not isinstance(value, dict) or value.get("name") not in tool_names:
                continue
            arguments = value.get("arguments", value.get("args", {}))
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except json.JSONDecodeError:
                    continue
            if isinstance(arguments, dict):
                calls.append({"name": value["name"], "args": arguments, "id": f"text-{len(calls)}"})
    if not calls:
        return message
    # The text stays: llama.cpp's server rejects an assistant message whose content is null.
    return message.model_copy(update={"tool_calls": calls})


def build_baseline_agent(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    system_prompt: str = SYSTEM_PROMPT,
) -> CompiledStateGraph[BaselineState, None, BaselineState, BaselineState]:
    """Compile the ``agent`` <-> ``tools`` loop over ``tools``, capped at ``max_steps`` calls."""
    if max_steps < 1:
        raise BaselineError(
            f"max_steps must be at least 1, got {max_steps}", hint="pass max_steps=1 or more"
        )
    if not tools:
        raise BaselineError(
            "the baseline agent got no tools", hint="register services or pass their tools"
        )
    bound = model.bind_tools(list(tools))
    names = {tool.name for tool in tools}

    async def agent(state: BaselineState) -> dict[str, Any]:
        reply = await bound.ainvoke([SystemMessage(system_prompt), *state["messages"]])
        if not isinstance(reply, AIMessage):
            raise BaselineError(f"the model answered {type(reply).__name__}, not an AIMessage")
        return {"messages": [recover_text_tool_calls(reply, names)], "steps": state["steps"] + 1}

    def route(state: BaselineState) -> Literal["tools", "__end__"]:
        last = state["messages"][-1]
        wants_tools = isinstance(last, AIMessage) and bool(last.tool_calls)
        return "tools" if wants_tools and state["steps"] < max_steps else "__end__"

    builder = StateGraph(BaselineState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(list(tools), handle_tool_errors=True))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route)
    builder.add_edge("tools", "agent")
    return builder.compile(name="baseline")


def summarize_run(messages: Sequence[AnyMessage]) -> BaselineOutcome:
    """Count model calls, tool calls, errors and tokens of a finished conversation."""
    ai = [m for m in messages if isinstance(m, AIMessage)]
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    last = ai[-1] if ai else None
    capped = last is not None and bool(last.tool_calls)
    usage = [m.usage_metadata for m in ai if m.usage_metadata]
    return BaselineOutcome(
        answer="" if last is None or capped else last.text,
        status="capped" if capped or last is None else "success",
        llm_calls=len(ai),
        tool_calls=sum(len(m.tool_calls) for m in ai),
        tool_errors=sum(1 for m in tool_messages if m.status == "error"),
        input_tokens=sum(u.get("input_tokens", 0) for u in usage),
        output_tokens=sum(u.get("output_tokens", 0) for u in usage),
        messages=list(messages),
    )


async def run_baseline(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    intent: str,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    config: RunnableConfig | None = None,
) -> BaselineOutcome:
    """Answer ``intent`` with the tool-calling loop and report what it cost.

    ``config`` is passed to the graph (callbacks reach every model call through it).
    """
    agent = build_baseline_agent(model, tools, max_steps=max_steps)
    # Each step is two graph nodes; leave room so the cap, not the recursion limit, stops it.
    run_config: RunnableConfig = {**(config or {}), "recursion_limit": 2 * max_steps + 5}
    final = await agent.ainvoke({"messages": [HumanMessage(intent)], "steps": 0}, run_config)
    return summarize_run(final["messages"])
