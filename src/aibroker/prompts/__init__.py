"""Prompt files (``*.md``, package data) and their rendering.

Each prompt file holds a system part and a user part separated by a line ``<!-- user -->``.
They are rendered with Jinja2 ``StrictUndefined`` so a missing variable fails loudly instead
of silently producing a prompt with a hole. Text that comes from service specifications is
untrusted: templates pass it through :func:`fence` (a Markdown fence longer than any backtick
run inside, so the text cannot close it) or :func:`quote` (a JSON string literal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, TemplateNotFound

from aibroker.errors import AibrokerError

USER_MARKER = "<!-- user -->"


class PromptError(AibrokerError):
    """A prompt file is missing, malformed, or was rendered without a variable it needs."""


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: the system message and the user message."""

    system: str
    user: str

    def messages(self) -> list[tuple[str, str]]:
        """As LangChain ``(role, content)`` message tuples."""
        return [("system", self.system), ("user", self.user)]


def fence(text: object, language: str = "") -> str:
    """Put ``text`` in a Markdown code fence that no backtick run inside it can close."""
    text = str(text)  # an undefined variable raises here (StrictUndefined), as it should
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def quote(text: object) -> str:
    """``text`` as a JSON string literal: one line, quotes and controls escaped."""
    return json.dumps(str(text), ensure_ascii=False)


def _read_all() -> dict[str, str]:
    """Every prompt file, read once at import so rendering never does I/O in the event loop."""
    return {
        resource.name.removesuffix(".md"): resource.read_text(encoding="utf-8")
        for resource in files(__package__).iterdir()
        if resource.name.endswith(".md")
    }


_SOURCES = _read_all()


def _load(name: str) -> str:
    if name not in _SOURCES:
        raise TemplateNotFound(name)
    return _SOURCES[name]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=None,
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fence"] = fence
    environment.filters["quote"] = quote
    return environment


def render(name: str, **variables: Any) -> Prompt:
    """Render ``<name>.md`` with ``variables``; raises :class:`PromptError` on any problem."""
    try:
        source = _load(name)
    except TemplateNotFound as exc:
        raise PromptError(
            f"no prompt file {name}.md in aibroker.prompts",
            hint="prompt names are rerank, write_code and respond",
        ) from exc
    if source.count(USER_MARKER) != 1:
        raise PromptError(
            f"prompt {name}.md must contain the line {USER_MARKER!r} exactly once",
            hint="it separates the system part from the user part",
        )
    system_source, user_source = source.split(USER_MARKER)
    try:
        system = _environment().from_string(system_source).render(**variables)
        user = _environment().from_string(user_source).render(**variables)
    except TemplateError as exc:  # UndefinedError (a missing variable), syntax errors
        raise PromptError(
            f"cannot render prompt {name}.md: {exc}",
            hint="pass every variable the template uses",
        ) from exc
    return Prompt(system=system.strip() + "\n", user=user.strip() + "\n")
