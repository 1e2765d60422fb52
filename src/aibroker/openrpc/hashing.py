"""Canonical JSON and the content hash that identifies a spec version.

The registry decides "is this a new version of the service?" by comparing hashes, so the hash
must depend on the document's *content* only: re-indenting a file, reordering keys or serving
the same document over a socket instead of from disk must not produce a new version, while any
change of a value (a description included, since descriptions end up in generated docstrings)
must. Canonical form: keys sorted, no insignificant whitespace, UTF-8 without ``\\u`` escapes for
non-ASCII text. NaN and infinities are rejected because they are not JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aibroker.openrpc.errors import SpecError


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to canonical JSON bytes (sorted keys, compact, UTF-8)."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise SpecError(
            f"cannot serialise the document as canonical JSON: {error}",
            hint="the document must contain only JSON values (no NaN, no non-string keys)",
        ) from error
    return text.encode("utf-8")


def spec_hash(value: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``value``: the identity of a spec's content."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
