"""OpenRPC ingestion: get a document, validate it, resolve its references, model it.

The one entry point most callers need is :func:`load_spec` (or :func:`aload_spec` in async
code): it takes a file path, an http(s) URL or a unix socket, and returns the raw document as
received together with a :class:`ParsedSpec` — the validated, reference-resolved
:class:`~aibroker.openrpc.model.OpenRpcDocument`, its content hash and the warnings collected on
the way. :func:`parse_document` does the same for a document already in memory.

Stages, in order (each in its own module):

1. :mod:`~aibroker.openrpc.loader` — bytes from a file, an HTTP GET or ``rpc.discover``.
2. :mod:`~aibroker.openrpc.validate` — the official meta-schema, lenient or strict.
3. :mod:`~aibroker.openrpc.refs` — ``$ref`` resolution (policy in that module's docstring).
4. :mod:`~aibroker.openrpc.model` — the pydantic model the code generator reads.
5. :mod:`~aibroker.openrpc.hashing` — canonical JSON and ``spec_hash`` of the raw document.

In strict mode any warning (meta-schema violation, degraded schema reference, duplicate
name) is an error; in lenient mode they are returned in :attr:`ParsedSpec.warnings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from aibroker.openrpc.errors import RefError, SpecError, SpecLoadError, SpecValidationError
from aibroker.openrpc.hashing import canonical_json, spec_hash
from aibroker.openrpc.loader import RawSpec, aload_raw, load_raw
from aibroker.openrpc.model import OpenRpcDocument
from aibroker.openrpc.refs import resolve_refs
from aibroker.openrpc.validate import format_path, semantic_problems
from aibroker.openrpc.validate import validate as validate_raw  # keeps `.validate` the module

__all__ = [
    "OpenRpcDocument",
    "ParsedSpec",
    "RawSpec",
    "RefError",
    "SpecError",
    "SpecLoadError",
    "SpecValidationError",
    "aload_raw",
    "aload_spec",
    "canonical_json",
    "load_raw",
    "load_spec",
    "parse_document",
    "spec_hash",
]


@dataclass(frozen=True)
class ParsedSpec:
    """A document ready for code generation, and what it took to get there."""

    document: OpenRpcDocument
    """The validated model, references resolved (named schema references excepted)."""
    raw: dict[str, Any]
    """The document exactly as received (never modified)."""
    spec_hash: str
    """``spec_hash(raw)``: identifies the content, independent of formatting and key order."""
    warnings: tuple[str, ...]
    """Validation, reference and naming warnings (always empty in strict mode)."""


def parse_document(raw: dict[str, Any], *, strict: bool = False) -> ParsedSpec:
    """Validate, resolve and model ``raw``; see the module docstring for the stages.

    Raises :class:`SpecValidationError` for unusable documents (and, in strict mode, for any
    warning) and :class:`RefError` for unresolvable references outside schemas.
    """
    content_hash = spec_hash(raw)
    warnings = validate_raw(raw, strict=strict, content_hash=content_hash)
    resolved = resolve_refs(raw)
    document = _to_model(resolved.document)
    warnings = [*warnings, *resolved.warnings, *semantic_problems(document)]
    if strict and warnings:
        raise SpecValidationError(
            "the document is valid OpenRPC but has problems strict mode does not accept:",
            warnings,
            hint="fix the places listed, or load it in lenient mode to accept it with warnings",
        )
    return ParsedSpec(document=document, raw=raw, spec_hash=content_hash, warnings=tuple(warnings))


def load_spec(
    source: str, *, strict: bool = False, timeout: float = 10.0
) -> tuple[RawSpec, ParsedSpec]:
    """Load ``source`` (file, http(s) URL or unix socket) and parse it."""
    raw_spec = load_raw(source, timeout=timeout)
    return raw_spec, _parse_loaded(raw_spec, strict=strict)


async def aload_spec(
    source: str,
    *,
    strict: bool = False,
    timeout: float = 10.0,  # noqa: ASYNC109 - per-exchange transport timeout, as in load_spec
) -> tuple[RawSpec, ParsedSpec]:
    """Async :func:`load_spec`: no blocking I/O on the event loop.

    Parsing is CPU-bound and short (well under a second for the largest known spec), so it
    runs inline rather than in a thread.
    """
    raw_spec = await aload_raw(source, timeout=timeout)
    return raw_spec, _parse_loaded(raw_spec, strict=strict)


def _parse_loaded(raw_spec: RawSpec, *, strict: bool) -> ParsedSpec:
    try:
        return parse_document(raw_spec.raw, strict=strict)
    except SpecError as error:
        error.message = f"{raw_spec.source}: {error.message}"
        raise


def _to_model(resolved: dict[str, Any]) -> OpenRpcDocument:
    try:
        return OpenRpcDocument.model_validate(resolved)
    except ValidationError as error:
        problems = [
            f"{format_path(item['loc'])}: {item['msg']}" for item in error.errors(include_url=False)
        ]
        raise SpecValidationError(
            "the document (after reference resolution) does not fit the OpenRPC model:",
            problems,
            hint="each place listed has a value of the wrong type or lacks a required field",
        ) from error
