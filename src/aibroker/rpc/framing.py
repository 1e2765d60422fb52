"""Loose framing for raw sockets: cut a byte stream into JSON values, newline or not.

Real services write one JSON value per message, sometimes followed by a newline, sometimes
not, sometimes dribbled out in tiny chunks. So values are found by decoding, not by lines:
``json.JSONDecoder.raw_decode`` parses a value at the front of the buffer and says where it
ended.

Decoding a large, still incomplete buffer again and again would be quadratic, so a decode
is attempted only when new text arrived that could have completed a value (replies are
objects or arrays, so it must contain ``}`` or ``]``) and either the buffer ends with one
(the usual end of a message), or the buffer is small, or it has doubled since the last
failed attempt. That keeps large replies amortised linear-time.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from aibroker.rpc.errors import ProtocolError

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_PREVIEW_CHARS = 80
_CHEAP_RETRY_CHARS = 16 * 1024


class JsonStreamReader:
    """Incremental splitter of one connection's inbound bytes into JSON values (sans I/O)."""

    def __init__(self, *, source: str) -> None:
        self._source = source
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder()
        self._pieces: list[str] = []
        self._last_char = ""  # last non-whitespace character buffered
        self._closer_arrived = False  # "}" or "]" arrived since the last decode attempt
        self._pending_chars = 0
        self._failed_at_chars = 0  # buffer size at the last attempt that found nothing whole

    @property
    def has_partial(self) -> bool:
        """True when buffered text holds (the start of) a value not yet decoded."""
        return bool(self._last_char)

    def feed(self, data: bytes) -> None:
        """Buffer bytes just received; invalid UTF-8 is a :class:`ProtocolError`."""
        try:
            text = self._utf8.decode(data)
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"{self._source} sent bytes that are not UTF-8 JSON: {data[:_PREVIEW_CHARS]!r}",
                hint="the endpoint may not speak JSON-RPC; check that it is the right socket",
            ) from exc
        if text:
            self._pieces.append(text)
            self._pending_chars += len(text)
            stripped = text.rstrip(" \t\n\r")
            if stripped:
                self._last_char = stripped[-1]
            if "}" in text or "]" in text:
                self._closer_arrived = True

    def _worth_decoding(self) -> bool:
        if not self._closer_arrived:
            return False
        return (
            self._last_char in ("}", "]")
            or self._pending_chars <= _CHEAP_RETRY_CHARS
            or self._pending_chars >= 2 * self._failed_at_chars
        )

    def values(self) -> list[Any]:
        """Decode and remove every complete value at the front of the buffer."""
        head = self._first_char()
        if head and head not in "{[":
            raise self._garbage()
        if not self._worth_decoding():
            return []
        self._closer_arrived = False
        text = "".join(self._pieces)
        decoded: list[Any] = []
        index = _skip_whitespace(text, 0)
        while index < len(text):
            if text[index] not in "{[":
                if decoded:
                    break  # hand out what was good; the garbage is reported on the next call
                self._pieces = [text[index:]]
                raise self._garbage()
            try:
                value, end = self._decoder.raw_decode(text, index)
            except json.JSONDecodeError:
                break  # incomplete so far (or garbage, which EOF or the deadline will reveal)
            decoded.append(value)
            index = _skip_whitespace(text, end)
        rest = text[index:]
        self._pieces = [rest] if rest else []
        self._pending_chars = len(rest)
        self._failed_at_chars = len(rest)
        self._last_char = rest.rstrip(" \t\n\r")[-1:] if rest else ""
        return decoded

    def partial_preview(self) -> str:
        """A short description of undecoded buffered text, for error messages."""
        text = "".join(self._pieces)
        preview = text[:_PREVIEW_CHARS] + ("…" if len(text) > _PREVIEW_CHARS else "")
        return f"{len(text)} undecoded characters: {preview!r}"

    def progress(self) -> str:
        """What arrived of an incomplete reply, for timeout messages ("" if nothing)."""
        return f"received {self.partial_preview()}" if self.has_partial else ""

    def _first_char(self) -> str:
        for piece in self._pieces:
            stripped = piece.lstrip(" \t\n\r")
            if stripped:
                return stripped[0]
        return ""

    def _garbage(self) -> ProtocolError:
        return ProtocolError(
            f"{self._source} sent data that is not a JSON-RPC reply ({self.partial_preview()})",
            hint="the endpoint may not speak JSON-RPC; check that it is the right socket",
        )


def _skip_whitespace(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index
