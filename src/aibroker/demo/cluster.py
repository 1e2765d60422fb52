"""Running the demo services together: in a background thread, or in the foreground.

:class:`DemoCluster` is what tests, notebooks and the registry's verification use: it runs
the services on their own event loop in a daemon thread, so a synchronous caller gets real
sockets without handing over its own loop. :func:`serve_forever` is the foreground form
behind ``aibroker demo up``: it returns on SIGINT or SIGTERM after removing the sockets.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aibroker.demo import calendar, jobs, kv
from aibroker.demo.errors import DemoError
from aibroker.demo.protocol import Dispatcher
from aibroker.demo.server import ServiceEndpoint
from aibroker.demo.service import Service

logger = logging.getLogger("aibroker.demo")

DEMO_SERVICES: tuple[str, ...] = ("hero_calendar", "hero_jobs", "hero_kv")
_BUILDERS: dict[str, Callable[[Path], Service]] = {
    calendar.NAME: calendar.build,
    jobs.NAME: jobs.build,
    kv.NAME: kv.build,
}
START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Endpoints:
    """Where the running services listen: socket paths and (with HTTP) base URLs."""

    sockets: dict[str, Path] = field(default_factory=dict)
    http_urls: dict[str, str] = field(default_factory=dict)


class RunningServices:
    """The started services of one event loop; :meth:`close` stops them all."""

    def __init__(self) -> None:
        self.endpoints: list[ServiceEndpoint] = []
        self.sockets: dict[str, Path] = {}
        self.http_urls: dict[str, str] = {}

    @property
    def addresses(self) -> Endpoints:
        """A copy of where the services listen."""
        return Endpoints(dict(self.sockets), dict(self.http_urls))

    async def close(self) -> None:
        """Stop every service, removing its socket; one failure does not keep others up."""
        failures: list[BaseException] = []
        for endpoint in reversed(self.endpoints):
            try:
                await endpoint.close()
            except Exception as error:
                logger.exception("stopping %s failed", endpoint.name)
                failures.append(error)
        self.endpoints.clear()
        if failures:
            raise DemoError(
                f"{len(failures)} demo service(s) did not stop cleanly: {failures[0]}",
                hint="see the log above; remove leftover socket files by hand if any",
            ) from failures[0]


async def start_services(
    sockets_dir: Path, state_dir: Path, *, http: bool = False
) -> RunningServices:
    """Start every demo service on ``sockets_dir/<name>.sock``, data in ``state_dir``."""
    _make_directories(sockets_dir, state_dir)
    running = RunningServices()
    try:
        for name in DEMO_SERVICES:
            endpoint = ServiceEndpoint(Dispatcher(_BUILDERS[name](state_dir)))
            running.endpoints.append(endpoint)
            socket_path = sockets_dir / f"{name}.sock"
            await endpoint.listen_unix(socket_path)
            running.sockets[name] = socket_path
            if http:
                running.http_urls[name] = await endpoint.listen_http()
    except BaseException:
        await running.close()
        raise
    return running


def _make_directories(*directories: Path) -> None:
    try:
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoError(
            f"cannot create the demo directories: {error}",
            hint="pass writable --sockets-dir and --state-dir",
        ) from error


class DemoCluster:
    """The demo services running in a background thread; a context manager.

    ``sockets`` maps each service name to its socket path and ``http_urls`` to its HTTP URL
    (when ``http=True``); both are filled by :meth:`start`.
    """

    def __init__(self, sockets_dir: Path, state_dir: Path, *, http: bool = False) -> None:
        self.sockets_dir = Path(sockets_dir)
        self.state_dir = Path(state_dir)
        self.http = http
        self.sockets: dict[str, Path] = {}
        self.http_urls: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Start the services and return once every socket accepts connections."""
        if self._thread is not None:
            raise DemoError("this DemoCluster is already running", hint="call stop() first")
        self._ready.clear()
        self._failure = None
        self._thread = threading.Thread(target=self._run, name="aibroker-demo", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise DemoError(
                f"the demo services did not start within {START_TIMEOUT_SECONDS:.0f} s",
                hint="the state directory may be on a locked or very slow filesystem",
            )
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            failure = self._failure
            if isinstance(failure, DemoError):
                raise failure
            raise DemoError(f"the demo services failed to start: {failure}") from failure

    def stop(self) -> None:
        """Stop the services and wait until their sockets are gone (idempotent)."""
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        if loop is not None and stop_requested is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop_requested.set)
        thread.join()
        self._thread = None
        self.sockets, self.http_urls = {}, {}

    def __enter__(self) -> DemoCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception:
            logger.exception("the demo services stopped with an error")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            running = await start_services(self.sockets_dir, self.state_dir, http=self.http)
        except BaseException as error:
            self._failure = error
            self._ready.set()
            return
        self.sockets, self.http_urls = dict(running.sockets), dict(running.http_urls)
        self._ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await running.close()


def serve_forever(
    sockets_dir: Path,
    state_dir: Path,
    *,
    http: bool = False,
    on_ready: Callable[[Endpoints], None] | None = None,
) -> None:
    """Serve the demo services in the foreground until SIGINT or SIGTERM, then clean up.

    ``on_ready`` is called once every service listens (e.g. to print the socket paths or
    write a pid file); the sockets are removed before this function returns.
    """
    asyncio.run(_serve_until_signal(Path(sockets_dir), Path(state_dir), http, on_ready))


async def _serve_until_signal(
    sockets_dir: Path,
    state_dir: Path,
    http: bool,
    on_ready: Callable[[Endpoints], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop_requested.set)
    try:
        running = await start_services(sockets_dir, state_dir, http=http)
        try:
            if on_ready is not None:
                on_ready(running.addresses)
            await stop_requested.wait()
        finally:
            await running.close()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
