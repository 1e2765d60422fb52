"""The one exception hierarchy of aibroker.

Every error aibroker raises derives from :class:`AibrokerError`. Messages say what was
wrong and where; ``hint`` says what to do about it. This module imports nothing beyond
the standard library because it is copied, with :mod:`aibroker.rpc`, into the sandbox
environment where generated clients run.
"""

from __future__ import annotations


class AibrokerError(Exception):
    """Base of every error raised by aibroker.

    ``hint`` is an optional, user-facing suggestion for fixing the problem; it is appended
    to ``str(error)`` so that it reaches people and models alike.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
