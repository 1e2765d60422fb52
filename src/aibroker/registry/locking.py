"""One lock per service name, held while a version is written, verified and published.

Two layers, because they protect against different things:

* a :class:`filelock.FileLock` on ``locks/<name>.lock`` serialises *processes* (two
  ``aibroker discover`` runs, a ``watch`` and a ``register``). ``flock`` locks belong to the
  open file, so two acquisitions in one process also exclude each other;
* an :class:`asyncio.Lock` per name serialises *coroutines* of one event loop first, so
  concurrent tasks queue cheaply instead of each parking a worker thread on the file lock.

The file lock is taken in a worker thread (it blocks) with ``thread_local=False`` so that it
can be released from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from filelock import FileLock, Timeout

from aibroker.registry.errors import RegistryError
from aibroker.registry.layout import guard_write

LOCK_TIMEOUT_S = 600.0


class ServiceLocks:
    """Hands out the two-layer lock of each service name."""

    def __init__(self, locks_dir: Path, *, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.locks_dir = locks_dir
        self.timeout = timeout
        self._local: dict[tuple[int, str], asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """Hold ``name``'s lock for the duration of the ``async with`` block."""
        # asyncio locks belong to one loop; sync wrappers run a new loop per call.
        key = (id(asyncio.get_running_loop()), name)
        local = self._local.setdefault(key, asyncio.Lock())
        async with local:
            path = self.locks_dir / f"{name}.lock"
            with guard_write(path):
                self.locks_dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(path), thread_local=False)
            try:
                with guard_write(path):
                    await asyncio.to_thread(lock.acquire, timeout=self.timeout)
            except Timeout as error:
                raise RegistryError(
                    f"service {name!r} stayed locked for {self.timeout:.0f} s ({path})",
                    hint="another aibroker process is registering it; wait for it to finish, "
                    "or stop a stuck process",
                ) from error
            try:
                yield
            finally:
                lock.release()
