"""Reading a child's stdout/stderr concurrently, keeping at most a capped prefix of each.

Beyond the cap, bytes are drained and discarded so the child never blocks on a full pipe;
beyond ``kill_after`` bytes the overflow callback fires and the runner kills the script,
because draining a gigabyte would take seconds for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

CHUNK_BYTES = 65536


class CappedStream:
    """The first ``cap`` bytes of one stream, and how many bytes it produced in all."""

    def __init__(self, cap: int, kill_after: int) -> None:
        self.cap = cap
        self.kill_after = max(kill_after, cap)
        self.kept = bytearray()
        self.total = 0

    @property
    def truncated(self) -> bool:
        """More was written than kept."""
        return self.total > len(self.kept)

    def text(self) -> str:
        """The kept bytes as text (undecodable bytes replaced, a cut character included)."""
        return self.kept.decode("utf-8", errors="replace")

    async def drain(self, reader: asyncio.StreamReader, on_overflow: Callable[[], None]) -> None:
        """Read until EOF; past ``kill_after`` bytes call ``on_overflow`` once (it kills the
        writer, so EOF follows at once) and discard the rest."""
        overflowed = False
        while chunk := await reader.read(CHUNK_BYTES):
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
            self.total += len(chunk)
            if self.total > self.kill_after and not overflowed:
                overflowed = True
                on_overflow()
