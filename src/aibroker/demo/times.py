"""ISO-8601 UTC times as the demo services read and write them.

Services store times as Unix seconds (floats, so ranges compare as numbers in SQL) and
show them as ``2025-06-02T09:00:00Z``: one exact form in every result, so that scripts and
models can compare strings and never meet offsets. Input is lenient, because callers are
often small models: ``Z`` or any offset, no zone at all (read as UTC), or a bare date.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aibroker.demo.errors import RpcFault, invalid_params

EXAMPLE_TIME = "2025-06-02T09:00:00Z"


def now() -> float:
    """The current time in Unix seconds."""
    return time.time()


def parse_time(text: str, *, param: str) -> float:
    """Unix seconds for an ISO-8601 ``text``; a -32602 fault naming ``param`` otherwise."""
    candidate = text.strip()
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise _bad_time(text, param) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_time(seconds: float) -> str:
    """``2025-06-02T09:00:00Z`` for Unix ``seconds``; milliseconds shown only when present."""
    moment = datetime.fromtimestamp(round(seconds, 3), tz=UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad_time(text: str, param: str) -> RpcFault:
    return invalid_params(
        f"invalid params: param '{param}': {text!r} is not an ISO-8601 time",
        data={"param": param, "value": text},
        hint=f"write times in UTC like {EXAMPLE_TIME!r}",
    )
