"""``watch``: discovery in a loop, logging what changed since the previous cycle.

A steady registry produces no log lines: ``unchanged`` and ``gone`` are logged once, when a
source enters that state; ``new``, ``updated`` and ``failed`` every time they happen (a
failure that persists is a problem worth repeating).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aibroker.registry.errors import RegistryError
from aibroker.registry.outcome import Outcome

logger = logging.getLogger(__name__)


async def watch_loop(
    discover: Callable[[], Awaitable[list[Outcome]]],
    interval: float,
    *,
    on_cycle: Callable[[list[Outcome]], None] | None = None,
    cycles: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Call ``discover`` every ``interval`` seconds until ``stop`` is set or ``cycles`` ran.

    A discovery that fails as a whole (an unreadable sockets directory) is logged and the
    loop goes on: the next cycle may find things repaired.
    """
    previous: dict[str, str] = {}
    done = 0
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            outcomes = await discover()
        except RegistryError as error:
            logger.error("watch: discovery failed: %s", error)
            outcomes = []
        for outcome in outcomes:
            repeated = outcome.result in ("unchanged", "gone") and (
                previous.get(outcome.source) == outcome.result
            )
            if not repeated:
                logger.info("watch: %s", outcome.describe())
            previous[outcome.source] = outcome.result
        if on_cycle is not None:
            on_cycle(outcomes)
        done += 1
        if cycles is not None and done >= cycles:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
