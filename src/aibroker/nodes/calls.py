"""The calls a script made before it failed: grouped for the trace, described for the retry.

A script that fails half-way has already changed the services: one that submitted ten jobs
in a loop and then died leaves ten jobs behind, and a retry that does not know submits ten
more. The sandbox journals every call that succeeded (:mod:`aibroker.rpc.journal`). Here
they become the trace's compact per-method groups (exact counts, the first call's params,
however long the loop ran) and the few lines the retry prompt shows, so the next script
does only what is still missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aibroker.graph.state import TraceEntry
from aibroker.nodes.common import compact_json

TRACE_PARAMS_CHARS = 200
"""How much of a group's first params (as one-line JSON) the trace keeps."""
PROMPT_PARAMS_CHARS = 80
"""How much of the first call's params the retry prompt shows."""


def group_calls(calls: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Journaled calls grouped by service and method, in order of first call:
    ``{"service", "method", "count", "params"}``, params being the first call's as one-line
    JSON text, cut to :data:`TRACE_PARAMS_CHARS`."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for call in calls:
        key = (str(call.get("service")), str(call.get("method")))
        if key in groups:
            groups[key]["count"] += 1
            continue
        params = compact_json(call.get("params"), TRACE_PARAMS_CHARS)
        groups[key] = {"service": key[0], "method": key[1], "count": 1, "params": params}
    return list(groups.values())


def count_calls(groups: Iterable[Mapping[str, Any]]) -> int:
    """How many calls the groups stand for."""
    return sum(int(group.get("count", 0)) for group in groups)


def describe_calls(trace: Sequence[TraceEntry]) -> str:
    """The calls every attempt so far made successfully, one line per method; '' if none.

    Counts add up over attempts: what an earlier attempt did is as done as the last one's.
    """
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    truncated = False
    for entry in trace:
        truncated = truncated or bool(entry.get("calls_truncated"))
        for group in entry.get("calls") or ():
            key = (str(group.get("service")), str(group.get("method")))
            if key in merged:
                merged[key]["count"] += int(group.get("count", 0))
            else:
                merged[key] = dict(group)
    lines = [
        f"{service}.{method} ×{group.get('count', 0)} (first: {_cut(group.get('params'))})"
        for (service, method), group in merged.items()
    ]
    if lines and truncated:
        lines.append("… and more calls (the call log was cut off)")
    return "\n".join(lines)


def _cut(params: Any) -> str:
    """A group's params text cut for the prompt (any other JSON value is dumped first)."""
    text = params if isinstance(params, str) else compact_json(params)
    return text if len(text) <= PROMPT_PARAMS_CHARS else text[:PROMPT_PARAMS_CHARS] + "…"
