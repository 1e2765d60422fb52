"""Errors of the code generator."""

from __future__ import annotations

from aibroker.errors import AibrokerError


class CodegenError(AibrokerError):
    """The generator cannot produce a client for a document (bad name, unknown method, ...)."""


class FormatError(CodegenError):
    """``ruff format`` rejected the rendered code: a generator bug, never the spec's fault."""
