"""Hand a structured result from a generated script back to the broker.

A script prints for people and calls :func:`set_result` for machines. The sandbox runner
sets ``AIBROKER_RESULT_FILE``; outside the sandbox the value is printed as JSON instead,
so a script behaves sensibly when a person runs it by hand.
"""

from __future__ import annotations

import json
import os
from typing import Any

RESULT_FILE_ENV = "AIBROKER_RESULT_FILE"


def _default(value: Any) -> Any:
    """Serialise pydantic models and other objects that know how to dump themselves."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def set_result(value: Any) -> None:
    """Record ``value`` (any JSON-serialisable value or pydantic model) as the script's result."""
    text = json.dumps(value, default=_default, ensure_ascii=False)
    path = os.environ.get(RESULT_FILE_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        print(text)
