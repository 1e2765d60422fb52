"""Conditional edges. Each returns a ``Literal`` of node names so Studio draws the edges.

The attempt cap lives here and only here: whatever the model produces, a failed attempt
goes back to write_code only while ``attempts < Context.max_attempts``.
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from aibroker.graph.context import Context
from aibroker.graph.state import State


def _context(runtime: Runtime[Context]) -> Context:
    return runtime.context if isinstance(runtime.context, Context) else Context()


def _retry_or_give_up(state: State, runtime: Runtime[Context]) -> Literal["write_code", "respond"]:
    return "write_code" if state["attempts"] < _context(runtime).max_attempts else "respond"


def after_rerank(state: State) -> Literal["respond", "call_tool", "load_interfaces"]:
    """No service -> respond; a valid direct call -> call_tool; else write code."""
    if not state["chosen"]:
        return "respond"
    if state["direct"] is not None:
        return "call_tool"
    return "load_interfaces"


def after_call_tool(state: State) -> Literal["respond", "load_interfaces"]:
    """A direct call that failed falls back to writing code."""
    return "respond" if state["status"] == "success" else "load_interfaces"


def after_write_code(
    state: State, runtime: Runtime[Context]
) -> Literal["check_code", "write_code", "respond"]:
    """Code extracted -> check it; no usable code -> retry while attempts remain."""
    if state["last_error"] is None:
        return "check_code"
    return _retry_or_give_up(state, runtime)


def after_check_code(
    state: State, runtime: Runtime[Context]
) -> Literal["run_code", "write_code", "respond"]:
    """Check passed -> run; no chosen service used -> respond; else retry while attempts remain."""
    if state["status"] == "no_service":
        return "respond"
    if state["last_error"] is None:
        return "run_code"
    return _retry_or_give_up(state, runtime)


def after_run_code(state: State, runtime: Runtime[Context]) -> Literal["respond", "write_code"]:
    """Success -> respond; failure -> retry while attempts remain, else respond."""
    if state["status"] == "success":
        return "respond"
    return _retry_or_give_up(state, runtime)
