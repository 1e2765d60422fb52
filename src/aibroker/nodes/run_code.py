"""run_code: run the checked script in the sandbox, allowed only the chosen services.

A failure becomes the typed error (service, method, params, JSON-RPC code and data,
traceback tail) that the next write_code reads, next to the calls that had already succeeded
(grouped per method on the trace entry); a success carries the script's stdout and
structured result to respond, unless it got there by leaving out the call that failed
before (:mod:`aibroker.nodes.skipped_call`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from aibroker.catalog import ServiceEntry
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps, RunOutcome
from aibroker.graph.state import State
from aibroker.nodes.calls import group_calls
from aibroker.nodes.common import context_of, tail
from aibroker.nodes.skipped_call import skipped_failed_call


def run_error(outcome: RunOutcome, tail_chars: int) -> dict[str, Any]:
    """The typed error of a failed run, JSON values only."""
    stderr_tail = tail(outcome.stderr, tail_chars)
    failure = outcome.failure
    if failure is None:
        kind = "timeout" if outcome.timed_out else "exit"
        message = (
            f"the script ran past its time limit ({outcome.duration_s:.1f} s)"
            if outcome.timed_out
            else f"the script exited with status {outcome.exit_code}"
        )
        return {"stage": "run", "kind": kind, "message": message, "stderr_tail": stderr_tail}
    return {
        "stage": "run",
        "kind": failure.kind,
        "message": failure.message,
        "exception_type": failure.exception_type,
        "service": failure.service,
        "method": failure.method,
        "params": failure.params,
        "code": failure.code,
        "data": failure.data,
        "traceback_tail": tail(failure.traceback_tail, tail_chars),
        "stderr_tail": stderr_tail,
    }


def chosen_entries(chosen: list[str], deps: AgentDeps) -> list[ServiceEntry]:
    """Catalog entries of the chosen services (blocking: a registry catalog reads files)."""
    catalog = deps.get_catalog()
    return [service for name in chosen if (service := catalog.get(name)) is not None]


async def run_code(state: State, runtime: Runtime[Context], *, deps: AgentDeps) -> dict[str, Any]:
    """Run ``state["code"]`` and record the outcome on the attempt's trace entry."""
    context = context_of(runtime)
    services = await asyncio.to_thread(chosen_entries, state["chosen"], deps)
    timeout = context.exec_timeout or (await asyncio.to_thread(deps.get_settings)).exec_timeout
    started = time.perf_counter()
    outcome = await deps.get_runner()(state["code"], services=services, time_limit=timeout)
    run_s = round(time.perf_counter() - started, 4)
    trace = list(state["trace"])
    entry = trace[-1].copy()
    entry["exit_code"] = outcome.exit_code
    entry["stdout_tail"] = tail(outcome.stdout, context.tail_chars)
    entry["stderr_tail"] = tail(outcome.stderr, context.tail_chars)
    entry["durations"] = {**entry["durations"], "run": run_s}
    entry["calls"] = group_calls(outcome.calls)
    entry["calls_truncated"] = outcome.calls_truncated
    skipped = None
    if outcome.ok and not outcome.calls_truncated:  # a cut-off journal may have lost the call
        skipped = skipped_failed_call(trace[:-1], state["code"], outcome.calls, services)
    if outcome.ok and skipped is None:
        trace[-1] = entry
        return {
            "trace": trace,
            "status": "success",
            "stdout": outcome.stdout,
            "result": outcome.result,
            "last_error": None,
        }
    error = skipped or run_error(outcome, context.tail_chars)
    entry["error"] = error
    trace[-1] = entry
    return {"trace": trace, "last_error": error}
