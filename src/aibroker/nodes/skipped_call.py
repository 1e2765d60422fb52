"""A clean run that never made the call the last run failed on has not done the task.

Asked to fix a service's refusal ("claim the job before completing it"), a small model may
guard the failing call with an ``if`` that is never true: the script then ends cleanly, and
without this check the agent would answer "success" having done nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

from aibroker.catalog import ServiceEntry
from aibroker.graph.state import TraceEntry

SKIPPED_CALL = "skipped_call"
"""The failure kind of a clean run whose call to the method that failed before never ran."""


def skipped_failed_call(
    earlier: Sequence[TraceEntry],
    code: str,
    calls: Sequence[Mapping[str, Any]],
    services: Sequence[ServiceEntry],
) -> dict[str, Any] | None:
    """The error for a clean run that writes the call the last run failed on but never made it.

    The call is in the source and not in the call journal: the task is not done, so the run
    fails, once; a model told so that guards the call again is taken at its word (deleting a
    key only if it still exists is fine). A script that no longer writes the call at all
    chose another way ("divide, else add") and is left alone.
    """
    if any((entry["error"] or {}).get("kind") == SKIPPED_CALL for entry in earlier):
        return None
    failed = next(
        (e["error"] for e in reversed(earlier) if e["error"] and e["error"].get("stage") == "run"),
        None,
    )
    if failed is None or failed.get("kind") != "jsonrpc_error":
        return None
    service, method = failed.get("service"), failed.get("method")
    entry = next((entry for entry in services if entry.name == service), None)
    if entry is None or not method or not _writes_call(code, entry.methods.get(method, method)):
        return None
    if any(call.get("service") == service and call.get("method") == method for call in calls):
        return None
    return {
        "stage": "run",
        "kind": SKIPPED_CALL,
        "message": (
            f"the script's call to {method} never ran, so the task is not done. "
            f"The error to get past: {failed.get('message', '')}. "
            f"Do first what that error asks, then call {method}."
        ),
        "service": service,
        "method": method,
    }


def _writes_call(code: str, python_name: str) -> bool:
    """Whether ``code`` has a call ``<something>.<python_name>(…)``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == python_name
        for node in ast.walk(tree)
    )
