"""Byte progress for long transfers: a rich bar on a terminal, plain log lines otherwise.

Pulling and hashing a 1.1 GB model takes long enough that people need bytes, speed and
an ETA; in CI logs a redrawn bar is noise, so the plain reporter prints one line per
tenth of the work instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class ProgressReporter(Protocol):
    """What the pull code reports to; one phase (``begin`` … ``advance``) at a time."""

    def begin(self, description: str, total: int, completed: int = 0) -> None:
        """Start a phase of ``total`` bytes, ``completed`` of which are already done."""

    def advance(self, n: int) -> None:
        """``n`` more bytes of the current phase are done."""

    def message(self, text: str) -> None:
        """A one-line remark (source chosen, part skipped, verdict)."""


class RichProgressReporter:
    """A rich progress bar (bytes, speed, ETA); use as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgressReporter:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def begin(self, description: str, total: int, completed: int = 0) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total, completed=completed)

    def advance(self, n: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)

    def message(self, text: str) -> None:
        self._progress.console.print(text)


class PlainProgressReporter:
    """Log lines: one per message and one per 10 % of each phase, with speed."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._description = ""
        self._total = 0
        self._done = 0
        self._started_at = 0.0
        self._start_bytes = 0
        self._next_report = 0

    def __enter__(self) -> PlainProgressReporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def _emit(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def begin(self, description: str, total: int, completed: int = 0) -> None:
        self._description, self._total, self._done = description, total, completed
        self._started_at, self._start_bytes = self._clock(), completed
        self._next_report = completed + max(total // 10, 1)
        self._emit(f"{description}: {_mib(completed)} of {_mib(total)}")

    def advance(self, n: int) -> None:
        self._done += n
        if self._done >= self._next_report or self._done >= self._total:
            elapsed = max(self._clock() - self._started_at, 1e-6)
            speed = (self._done - self._start_bytes) / elapsed
            percent = 100 * self._done // max(self._total, 1)
            self._emit(
                f"{self._description}: {percent}% ({_mib(self._done)} of {_mib(self._total)}, "
                f"{_mib(int(speed))}/s)"
            )
            self._next_report = self._done + max(self._total // 10, 1)

    def message(self, text: str) -> None:
        self._emit(text)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def make_reporter(stream: TextIO | None = None) -> RichProgressReporter | PlainProgressReporter:
    """A rich bar when ``stream`` (default stderr) is a terminal, plain lines otherwise."""
    target = stream if stream is not None else sys.stderr
    if target.isatty():
        return RichProgressReporter(Console(file=target))
    return PlainProgressReporter(target)
