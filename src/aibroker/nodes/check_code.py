"""check_code: compile the script and check it against the client stubs; runs nothing.

A failed check is an attempt (the counter already moved in write_code) that costs no
execution: the problems become the typed error the next write_code reads.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import State
from aibroker.nodes.static_check import CheckOutcome, check_script, uses_a_service


def check_against_catalog(code: str, chosen: list[str], deps: AgentDeps) -> CheckOutcome:
    """Check ``code`` against the chosen services' clients (blocking: imports them)."""
    catalog = deps.get_catalog()
    allowed = {name: service for name in chosen if (service := catalog.get(name)) is not None}
    known = frozenset(entry.name for entry in catalog.entries())
    return check_script(code, allowed, known)


def no_service_found(state: State) -> dict[str, Any]:
    """The request ends as ``no_service``: the script uses none of the chosen services.

    Rerank by a small model over-selects (a weather question goes to the calendar); the
    code model, shown the real interfaces, then writes a script against an invented client.
    That is the clearer signal, and retrying cannot fix a request no service fits.
    """
    trace = list(state["trace"])
    entry = trace[-1].copy()
    message = f"the script uses none of the chosen services ({', '.join(state['chosen'])})"
    entry["check"] = message
    entry["error"] = {"stage": "check", "kind": "no_service", "message": message}
    trace[-1] = entry
    return {"trace": trace, "status": "no_service", "last_error": entry["error"]}


async def check_code(state: State, runtime: Runtime[Context], *, deps: AgentDeps) -> dict[str, Any]:
    """Check ``state["code"]``; on problems record them as the attempt's error."""
    if not uses_a_service(state["code"], state["chosen"]):
        return no_service_found(state)
    started = time.perf_counter()
    outcome = await asyncio.to_thread(check_against_catalog, state["code"], state["chosen"], deps)
    check_s = round(time.perf_counter() - started, 4)
    trace = list(state["trace"])
    entry = trace[-1].copy()
    entry["durations"] = {**entry["durations"], "check": check_s}
    if outcome.ok:
        entry["check"] = "ok"
        trace[-1] = entry
        return {"trace": trace, "last_error": None}
    message = "; ".join(outcome.problems)
    error: dict[str, Any] = {
        "stage": "check",
        "kind": "static_check",
        "message": message,
        "service": outcome.service,
        "method": outcome.method,
    }
    entry["check"] = message
    entry["error"] = error
    trace[-1] = entry
    return {"trace": trace, "last_error": error}
