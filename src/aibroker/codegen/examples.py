"""One example call per method, as one short comment line of the interface.

An example earns its tokens when it shows what the signature cannot: the shape of a dict a
model parameter takes, the format of a string (``"0x1"`` rather than ``"1"``), what a result
looks like. So the line is compact — no ``client.`` prefix, long strings elided in the middle
of their value (``"0x506c6561…"``), the ``-> result`` part dropped when it would not fit — and
an example is left out when it teaches nothing or would mislead:

* a call without arguments whose result is a bare bool, number or null;
* a call without a result whose arguments are plain strings and numbers;
* an example that leaves out a required parameter (the call it shows would fail).
"""

from __future__ import annotations

from typing import Any

from aibroker.codegen.plan import MethodPlan, ServicePlan
from aibroker.codegen.text import ELLIPSIS, comment_safe, py_literal, shorten, string_literal

EXAMPLE_CHARS = 100
"""An example line (after ``# ``) is cut to this many characters."""
STRING_CHARS = 20
"""Strings longer than this are elided to their head (long hashes, hex payloads, prose);
an ISO timestamp (19 characters) stays whole."""
STRING_HEAD = 10
"""How much of an elided string is kept: ``"0x4B0897b0…"`` still reads as a hex address."""


def example_line(plan: ServicePlan, method: MethodPlan) -> str:
    """``# method(args) -> result`` from the method's first example pairing, or ''."""
    if not method.examples:
        return ""
    pairing = method.examples[0]
    given = {example.name: example.value for example in pairing.params if example.name}
    if any(p.rpc_name not in given for p in method.required_params):
        return ""  # the call would be wrong: better no example than a misleading one
    arguments = [literal(given[p.rpc_name]) for p in method.required_params]
    arguments += [
        f"{p.name}={literal(given[p.rpc_name])}"
        for p in method.optional_params
        if p.rpc_name in given and given[p.rpc_name] is not None
    ]
    call = comment_safe(f"{method.name}({', '.join(arguments)})")
    result = pairing.result.value if pairing.result is not None else None
    if method.result is None or result is None or result == "null":
        return f"# {shorten(call, EXAMPLE_CHARS)}" if _shows_shape(given) else ""
    if not arguments and isinstance(result, bool | int | float):
        return ""  # says no more than the declared return type
    shown = comment_safe(_result_literal(plan, method, result))
    if len(call) + len(" -> ") + len(shown) > EXAMPLE_CHARS:  # half a result shows little
        return f"# {_cut(call, EXAMPLE_CHARS)}" if _shows_shape(given) else ""
    return f"# {call} -> {shown}"


def _shows_shape(given: dict[str, Any]) -> bool:
    """Whether a call without a result is worth showing: a dict or list argument shows a
    shape; plain strings and numbers only repeat the signature with sample values."""
    return any(isinstance(value, dict | list) for value in given.values())


def literal(value: Any) -> str:
    """A JSON value as a compact Python literal: long strings keep only their head."""
    return py_literal(value, elide)


def elide(text: str) -> str:
    """``text``, or its first characters and ``…`` when it is longer than STRING_CHARS."""
    if len(text) <= STRING_CHARS:
        return text
    return text[:STRING_HEAD] + ELLIPSIS


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (at a separator when one is near) with ``…``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    separator = max(cut.rfind(", "), cut.rfind(" "))
    if separator > limit // 2:
        cut = cut[:separator]
    return cut.rstrip(" ,:") + ELLIPSIS


def _result_literal(plan: ServicePlan, method: MethodPlan, value: Any) -> str:
    """A model constructor when the result is one named model, else the JSON as Python."""
    assert method.result is not None
    model = next((m for m in plan.models if m.name == method.result.text), None)
    if model is None or not isinstance(value, dict):
        return literal(value)
    names = {f.json_name: f.python_name for f in model.all_fields}
    arguments = [
        f"{names[key]}={literal(item)}"
        if key in names
        else f"**{{{string_literal(str(key))}: {literal(item)}}}"
        for key, item in value.items()
    ]
    return f"{model.name}({', '.join(arguments)})"
