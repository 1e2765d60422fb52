"""Untrusted spec text made safe and short for generated code and for the model.

Spec summaries and descriptions come from whoever wrote the service, so they are treated as
data: control characters are dropped, whitespace collapsed, and anything that lands inside a
Python string or comment is escaped so it can never close the literal and become code.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(])")
ELLIPSIS = "…"


def clean(text: str | None) -> str:
    """``text`` without control characters, with trailing spaces removed per line."""
    if not text:
        return ""
    without_controls = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\t", " "))
    return "\n".join(line.rstrip() for line in without_controls.split("\n")).strip()


def collapse(text: str | None) -> str:
    """``text`` on one line: control characters dropped, every whitespace run one space."""
    return _SPACES.sub(" ", clean(text)).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with ``…``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def first_sentence(text: str | None) -> str:
    """The first sentence of ``text`` (collapsed to one line)."""
    flat = collapse(text)
    return _SENTENCE_END.split(flat, maxsplit=1)[0] if flat else ""


def one_line(*candidates: str | None, limit: int = 100) -> str:
    """The first non-empty candidate's first sentence, shortened to ``limit`` characters."""
    for candidate in candidates:
        sentence = first_sentence(candidate)
        if sentence:
            return shorten(sentence, limit)
    return ""


def comment_safe(text: str) -> str:
    """``text`` fit for a ``#`` comment: one line, so nothing after it can become code."""
    return collapse(text)


def string_safe(text: str) -> str:
    """``text`` fit for the inside of a triple-quoted (non-raw) Python string."""
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return escaped


def docstring_lines(*parts: str | None, width: int = 88) -> list[str]:
    """Paragraphs of ``parts`` wrapped to ``width``, escaped for a docstring, blank-separated."""
    paragraphs: list[str] = []
    for part in parts:
        for paragraph in re.split(r"\n\s*\n", clean(part)):
            flat = collapse(paragraph)
            if flat and flat not in paragraphs:
                paragraphs.append(flat)
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        wrapped = textwrap.wrap(paragraph, width=width, break_long_words=False)
        lines.extend(string_safe(line) for line in wrapped)
    return lines


def py_literal(value: Any, short: Callable[[str], str] = str) -> str:
    """A JSON value written as a Python literal (``true`` → ``True``, ``null`` → ``None``);
    every string goes through ``short`` first (examples elide long hashes that way)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(item, short) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{string_literal(str(key))}: {py_literal(v, short)}" for key, v in value.items())
        return "{" + ", ".join(items) + "}"
    return string_literal(short(str(value)))


_UNSAFE_IN_LITERAL = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def string_literal(value: str) -> str:
    """A double-quoted literal that stays on one line whatever characters ``value`` holds."""
    dumped = json.dumps(value, ensure_ascii=False)
    return _UNSAFE_IN_LITERAL.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)
