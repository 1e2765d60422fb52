"""Splitting a byte stream into JSON messages, Hero style: one JSON value per message.

Hero clients frame loosely: some end a request with a newline, some send one JSON value and
nothing else, some write two requests at once or split one across several writes. So the
stream is cut at the end of each complete top-level value, not at newlines: a small scanner
follows brackets and strings (structural characters are ASCII, so scanning bytes is safe
with multi-byte UTF-8), and each complete slice is then decoded with
:meth:`json.JSONDecoder.raw_decode`. The scan resumes where it stopped, so a large request
arriving in many pieces costs linear time. A top-level value that is not an object or an
array (never a valid request) has no closing bracket to find; it ends at a newline or at the
end of the stream.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
_STRUCTURAL = re.compile(rb'[\[\]{}"]')
_IN_STRING = re.compile(rb'["\\]')
_WHITESPACE = b" \t\r\n"
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Frame:
    """One message cut from the stream: its decoded ``value``, or why it is not JSON."""

    value: Any = None
    error: str | None = None
    fatal: bool = False
    """The stream cannot be trusted after this frame (too large to resynchronise)."""


class JsonStreamSplitter:
    """Incremental splitter: :meth:`feed` bytes as they arrive, get the complete messages."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._max = max_message_bytes
        self._buffer = bytearray()
        self._start = -1  # offset of the message being scanned, -1 between messages
        self._scan = 0  # where scanning resumes
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._scalar = False  # the message being scanned is not an object or array

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data``; return every message it completes (possibly none)."""
        self._buffer += data
        frames: list[Frame] = []
        while (frame := self._next_frame()) is not None:
            frames.append(frame)
            if frame.fatal:
                break
        self._compact()
        return frames

    def finish(self) -> list[Frame]:
        """End of stream: whatever is left is one last message (or a parse error)."""
        rest = bytes(self._buffer[max(self._start, 0) :]).strip(_WHITESPACE)
        self._buffer.clear()
        self._reset_scan()
        return [_decode(rest)] if rest else []

    @property
    def pending_bytes(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buffer)

    def _next_frame(self) -> Frame | None:
        buffer = self._buffer
        if self._start < 0:
            position = self._scan
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            self._scan = position
            if position == len(buffer):
                return None
            self._start = position
            self._scalar = buffer[position] not in b"{["
        return self._scalar_line() if self._scalar else self._scan_container()

    def _scan_container(self) -> Frame | None:
        buffer = self._buffer
        position = self._scan
        while True:
            if self._in_string:
                if self._escaped:  # the byte after a backslash never ends the string
                    if position >= len(buffer):
                        break
                    position += 1
                    self._escaped = False
                    continue
                match = _IN_STRING.search(buffer, position)
                if match is None:
                    position = len(buffer)
                    break
                position = match.end()
                if buffer[match.start()] == 0x5C:  # backslash
                    self._escaped = True
                else:
                    self._in_string = False
                continue
            match = _STRUCTURAL.search(buffer, position)
            if match is None:
                position = len(buffer)
                break
            position = match.end()
            char = buffer[match.start()]
            if char == 0x22:  # quote
                self._in_string = True
            elif char in b"{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    frame = _decode(bytes(buffer[self._start : position]))
                    self._scan = position
                    self._reset_message()
                    return frame
        self._scan = position
        return self._too_large_or_wait()

    def _scalar_line(self) -> Frame | None:
        newline = self._buffer.find(b"\n", self._scan)
        if newline < 0:
            self._scan = len(self._buffer)
            return self._too_large_or_wait()
        frame = _decode(bytes(self._buffer[self._start : newline]).strip(_WHITESPACE))
        self._scan = newline + 1
        self._reset_message()
        return frame

    def _too_large_or_wait(self) -> Frame | None:
        if len(self._buffer) - self._start <= self._max:
            return None
        self._buffer.clear()
        self._reset_scan()
        return Frame(error=f"message larger than {self._max} bytes", fatal=True)

    def _compact(self) -> None:
        consumed = self._start if self._start >= 0 else self._scan
        if consumed:
            del self._buffer[:consumed]
            self._scan -= consumed
            if self._start >= 0:
                self._start = 0

    def _reset_message(self) -> None:
        self._start = -1
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._scalar = False

    def _reset_scan(self) -> None:
        self._reset_message()
        self._scan = 0


def _decode(raw: bytes) -> Frame:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Frame(error=f"message is not valid UTF-8 ({error.reason} at byte {error.start})")
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError as error:
        return Frame(error=f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}")
    if text[end:].strip():
        return Frame(error=f"invalid JSON: unexpected data after the value at character {end}")
    return Frame(value=value)
