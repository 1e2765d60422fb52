"""Errors raised while loading, resolving and validating OpenRPC documents.

They all derive from :class:`SpecError` (itself an :class:`~aibroker.errors.AibrokerError`), so
a caller that only wants to say "this spec is unusable" catches one class, while the registry can
still tell an unreachable service (:class:`SpecLoadError`) from a broken document.
"""

from __future__ import annotations

from collections.abc import Sequence

from aibroker.errors import AibrokerError


class SpecError(AibrokerError):
    """Base of every problem with an OpenRPC document or with getting hold of one."""


class SpecLoadError(SpecError):
    """The document could not be obtained: missing file, bad JSON, unreachable service, …"""


class SpecValidationError(SpecError):
    """The document does not satisfy the OpenRPC meta-schema (strict mode) or is unusable.

    ``problems`` holds the individual readable messages (``"methods[3].params[0]: …"``) so that
    callers can show them as a list instead of parsing the combined message.
    """

    def __init__(
        self, message: str, problems: Sequence[str] = (), *, hint: str | None = None
    ) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        details = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(f"{message}{details}", hint=hint)


class RefError(SpecError):
    """A ``$ref`` outside a JSON Schema cannot be resolved (missing, external or cyclic)."""


def json_type_name(value: object) -> str:
    """The JSON name of a decoded value's type (``object``, ``array``, …), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
