"""Assemble the agent graph.

``langgraph dev`` loads this file by path (see ``langgraph.json``) and uses the module-level
:data:`graph`, compiled without a checkpointer (the server brings its own). The CLI and the
HTTP server call :func:`build_graph` with a SQLite checkpointer and their catalog.

Nodes are plain async functions ``(state, runtime, *, deps)``; the collaborators they need
are bound here with :func:`functools.partial`, so no node closes over a global.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from aibroker.catalog import Catalog
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps, ScriptRunner, StructuredStrategy, default_structured
from aibroker.graph.routing import (
    after_call_tool,
    after_check_code,
    after_rerank,
    after_run_code,
    after_write_code,
)
from aibroker.graph.state import InputState, OutputState, State
from aibroker.nodes.call_tool import call_tool
from aibroker.nodes.check_code import check_code
from aibroker.nodes.load_interfaces import load_interfaces
from aibroker.nodes.rerank import rerank
from aibroker.nodes.respond import respond
from aibroker.nodes.run_code import run_code
from aibroker.nodes.write_code import write_code
from aibroker.settings import Settings

AgentGraph = CompiledStateGraph[State, Context, InputState, OutputState]


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    *,
    catalog: Catalog | None = None,
    rerank_model: Any = None,
    code_model: Any = None,
    runner: ScriptRunner | None = None,
    structured: StructuredStrategy = default_structured,
    settings: Settings | None = None,
    name: str = "aibroker",
) -> AgentGraph:
    """Compile the code-mode agent.

    Every collaborator is optional: the catalog defaults to the registry, the models to
    :func:`aibroker.llm.make_chat_model` (per ``Context`` model names), the runner to the
    sandbox. Tests pass a catalog of their own services, scripted chat models and a runner.
    """
    deps = AgentDeps(
        catalog=catalog,
        rerank_model=rerank_model,
        code_model=code_model,
        runner=runner,
        structured=structured,
        settings=settings,
    )
    builder = StateGraph(
        State, context_schema=Context, input_schema=InputState, output_schema=OutputState
    )
    builder.add_node("rerank", partial(rerank, deps=deps))
    builder.add_node("call_tool", partial(call_tool, deps=deps))
    builder.add_node("load_interfaces", partial(load_interfaces, deps=deps))
    builder.add_node("write_code", partial(write_code, deps=deps))
    builder.add_node("check_code", partial(check_code, deps=deps))
    builder.add_node("run_code", partial(run_code, deps=deps))
    builder.add_node("respond", partial(respond, deps=deps))
    builder.add_edge(START, "rerank")
    builder.add_conditional_edges("rerank", after_rerank)
    builder.add_conditional_edges("call_tool", after_call_tool)
    builder.add_edge("load_interfaces", "write_code")
    builder.add_conditional_edges("write_code", after_write_code)
    builder.add_conditional_edges("check_code", after_check_code)
    builder.add_conditional_edges("run_code", after_run_code)
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name=name)


graph = build_graph()
"""The graph ``langgraph dev`` serves: registry catalog, models from settings, sandbox."""
