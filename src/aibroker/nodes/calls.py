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
    return _merge(
        {
            "service": str(call.get("service")),
            "method": str(call.get("method")),
            "count": 1,
            "params": compact_json(call.get("params"), TRACE_PARAMS_CHARS),
        }
        for call in calls
    )


def count_calls(groups: Iterable[Mapping[str, Any]]) -> int:
    """How many calls the groups stand for."""
    return sum(int(group.get("count", 0)) for group in groups)


def describe_calls(trace: Sequence[TraceEntry]) -> str:
    """The calls every attempt so far made successfully, one line per method; '' if none.

    Counts add up over attempts: what an earlier attempt did is as done as the last one's.
    """
    merged = _merge(group for entry in trace for group in entry.get("calls") or ())
    lines = [
        f"{g['service']}.{g['method']} ×{g['count']} (first: {_cut(g.get('params'))})"
        for g in merged
    ]
    if lines and any(entry.get("calls_truncated") for entry in trace):
        lines.append("… and more calls (the call log was cut off)")
    return "\n".join(lines)


def _merge(groups: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Groups with the same service and method summed into the first one (its params kept)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for group in groups:
        key = (str(group.get("service")), str(group.get("method")))
        if key in merged:
            merged[key]["count"] += int(group.get("count", 0))
        else:
            count = int(group.get("count", 0))
            merged[key] = {**group, "service": key[0], "method": key[1], "count": count}
    return list(merged.values())


def _cut(params: Any) -> str:
    """A group's params text cut for the prompt (any other JSON value is dumped first)."""
    text = params if isinstance(params, str) else compact_json(params)
    return text if len(text) <= PROMPT_PARAMS_CHARS else text[:PROMPT_PARAMS_CHARS] + "…"
