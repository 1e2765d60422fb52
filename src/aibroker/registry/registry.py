"""The registry's public face: discover, register, list, read, roll back, unregister, watch.

:class:`Registry` works on one ``AIBROKER_HOME``. Async methods (``a…``) are what servers
and the graph use; the plain ones wrap them with :func:`asyncio.run` for the CLI and tests.
Reads never take locks: every write is a rename, so a reader sees a whole version or none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from aibroker.registry.discovery import OnOutcome, discover_sources
from aibroker.registry.errors import (
    InvalidNameError,
    RegistryError,
    RegistryWriteError,
    ServiceNotFoundError,
    VersionNotFoundError,
)
from aibroker.registry.layout import (
    CURRENT,
    STATE_FILE,
    Layout,
    guard_write,
    read_json,
    switch_symlink,
)
from aibroker.registry.locking import LOCK_TIMEOUT_S, ServiceLocks
from aibroker.registry.outcome import Outcome
from aibroker.registry.publish import (
    Publisher,
    clear_pin,
    read_owner,
    read_pin,
    record_state,
    write_pin,
)
from aibroker.registry.sources import (
    Source,
    canonical_source,
    read_services_toml,
    scan_sockets,
)
from aibroker.registry.versions import VersionInfo, list_versions, live_version
from aibroker.registry.watch import watch_loop
from aibroker.settings import Settings, get_settings

logger = logging.getLogger(__name__)

Artifact = Literal["interface", "client", "spec", "card"]
ARTIFACT_FILES: dict[Artifact, str] = {
    "interface": "interface.py",
    "client": "client.py",
    "spec": "openrpc.json",
    "card": "card.txt",
}
ServiceState = Literal["ok", "stale", "gone", "failed"]


@dataclass(frozen=True)
class ServiceStatus:
    """One service as ``aibroker services`` shows it.

    ``status``: ``ok``; ``stale`` (the last refresh failed, an older version is live);
    ``gone`` (its source disappeared; the last version is kept); ``failed`` (no good
    version at all).
    """

    name: str
    status: ServiceState
    version: int | None
    methods: int | None
    endpoint: str
    source: str | None
    spec_hash: str | None
    verified_at: str | None
    title: str | None
    error: str | None
    pinned: int | None

    @property
    def version_label(self) -> str | None:
        return None if self.version is None else f"v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "version": self.version_label,
            "methods": self.methods,
            "endpoint": self.endpoint,
            "source": self.source,
            "spec_hash": self.spec_hash,
            "verified_at": self.verified_at,
            "title": self.title,
            "error": self.error,
            "pinned": None if self.pinned is None else f"v{self.pinned}",
        }


class Registry:
    """The service registry in ``settings.home`` (see :mod:`aibroker.registry.layout`)."""

    def __init__(self, settings: Settings | None = None, *, home: Path | None = None) -> None:
        self.settings = settings if settings is not None else get_settings()
        self.layout = Layout((home or self.settings.home).expanduser())
        self.locks = ServiceLocks(self.layout.locks_dir)
        self.publisher = Publisher(self.layout, self.settings, self.locks)

    # --- discovery and registration ---------------------------------------------------

    async def adiscover(
        self,
        sockets_dir: Path | None = None,
        *,
        force: bool = False,
        on_outcome: OnOutcome | None = None,
        on_sources: Callable[[int], None] | None = None,
    ) -> list[Outcome]:
        """Scan the sockets directory and ``services.toml``, refresh every registered source.

        ``on_sources`` is told how many sources there are before work starts; ``on_outcome``
        hears each outcome as soon as it is known (progress displays use both).
        """
        registered = self.registered_sources()
        sources: dict[str, Source] = {}
        extra: list[Outcome] = []
        for location in registered:
            sources[location] = Source(location, "registered")
        for source in scan_sockets(sockets_dir or self.settings.sockets_dir):
            sources[source.location] = source
        try:
            for source in read_services_toml(self.layout.services_toml):
                sources[source.location] = source
        except RegistryError as error:
            extra.append(Outcome(str(self.layout.services_toml), "failed", error=str(error)))
            if on_outcome is not None:
                on_outcome(extra[-1])
        if on_sources is not None:
            on_sources(len(sources) + len(extra))
        outcomes = await discover_sources(
            self.publisher,
            sources.values(),
            registered=registered,
            force=force,
            on_outcome=on_outcome,
        )
        self._record_states(outcomes)
        return extra + outcomes

    def discover(self, sockets_dir: Path | None = None, **kwargs: Any) -> list[Outcome]:
        """Blocking :meth:`adiscover`."""
        return asyncio.run(self.adiscover(sockets_dir, **kwargs))

    async def aregister(
        self,
        source: str,
        *,
        name: str | None = None,
        endpoint: str | None = None,
        force: bool = False,
    ) -> Outcome:
        """Register (or update) one source; ``name`` overrides the title-derived name."""
        location = canonical_source(source)
        outcomes = await discover_sources(
            self.publisher,
            [Source(location, "explicit", name=name, endpoint=endpoint)],
            registered=self.registered_sources(),
            force=force,
        )
        self._record_states(outcomes)
        return outcomes[0]

    def register(self, source: str, **kwargs: Any) -> Outcome:
        """Blocking :meth:`aregister`."""
        return asyncio.run(self.aregister(source, **kwargs))

    async def awatch(
        self,
        interval: float,
        *,
        sockets_dir: Path | None = None,
        on_cycle: Callable[[list[Outcome]], None] | None = None,
        cycles: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Re-discover every ``interval`` seconds, logging what changed, until stopped.

        Each cycle's outcomes go to ``on_cycle``; changes are logged at INFO (see
        :mod:`aibroker.registry.watch`). ``cycles`` bounds the number of cycles (tests);
        ``stop`` ends the loop early.
        """
        await watch_loop(
            lambda: self.adiscover(sockets_dir),
            interval,
            on_cycle=on_cycle,
            cycles=cycles,
            stop=stop,
        )

    # --- reading ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every service directory's name, sorted."""
        return self.layout.service_names()

    def registered_sources(self) -> dict[str, str]:
        """Canonical source → service name, for every service that has an owner."""
        index: dict[str, str] = {}
        for name in self.names():
            owner = read_owner(self.layout, name)
            if owner is not None:
                index.setdefault(owner, name)
        return index

    def _require(self, name: str) -> str:
        if name not in self.names():
            raise ServiceNotFoundError(name, self.names())
        return name

    def live(self, name: str) -> VersionInfo:
        """The live version of ``name`` (``current``, or the newest good one)."""
        info = live_version(self.layout, self._require(name))
        if info is None:
            raise VersionNotFoundError(
                f"service {name!r} has no usable version",
                hint=f"see `aibroker versions {name}` for why; re-register it to try again",
            )
        return info

    def read(self, name: str, artifact: Artifact) -> str:
        """The text of one file of the live version (interface, client, spec or card)."""
        info = self.live(name)
        path = info.path / ARTIFACT_FILES[artifact]
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise RegistryError(
                f"cannot read {path}: {error.strerror or error}",
                hint=f"re-register the service: `aibroker register {info.meta.get('source')}`",
            ) from error

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, newest first (ok, failed and broken ones)."""
        return list_versions(self.layout, self._require(name))

    def status(self, name: str) -> ServiceStatus:
        """The listing row of one service."""
        self._require(name)
        live = live_version(self.layout, name)
        state = read_json(self.layout.service_dir(name) / STATE_FILE)
        state = state if isinstance(state, dict) else {}
        last = state.get("result")
        status: ServiceState
        if live is None:
            status = "failed"
        elif last == "gone":
            status = "gone"
        elif last == "failed":
            status = "stale"
        else:
            status = "ok"
        meta = live.meta if live else {}
        methods = meta.get("method_count")
        return ServiceStatus(
            name=name,
            status=status,
            version=live.number if live else None,
            methods=methods if isinstance(methods, int) else None,
            endpoint=str(meta.get("endpoint", "")),
            source=read_owner(self.layout, name),
            spec_hash=live.spec_hash if live else None,
            verified_at=live.verify.get("verified_at") if live else None,
            title=meta.get("title"),
            error=state.get("error") if status != "ok" else None,
            pinned=read_pin(self.layout, name),
        )

    def services(self) -> list[ServiceStatus]:
        """Every service's listing row, sorted by name."""
        return [self.status(name) for name in self.names()]

    # --- changing -------------------------------------------------------------------------

    def rollback(self, name: str, version: int | None = None) -> VersionInfo:
        """Make ``version`` (default: the newest good version before the live one) current.

        The service is then *pinned*: discovery reports it unchanged instead of publishing
        the newer spec again, until ``register --force`` (or a rollback to the newest).
        """
        self._require(name)
        with self._sync_lock(name):
            versions = list_versions(self.layout, name)
            live = live_version(self.layout, name)
            target = self._rollback_target(name, versions, live, version)
            switch_symlink(self.layout.service_dir(name) / CURRENT, target.label)
            self.publisher._link_client(name)
            newest_good = next((v for v in versions if v.ok), None)
            if newest_good is not None and newest_good.number == target.number:
                clear_pin(self.layout, name)
            else:
                write_pin(self.layout, name, target.number)
        return replace(target, is_current=True)

    def _rollback_target(
        self,
        name: str,
        versions: list[VersionInfo],
        live: VersionInfo | None,
        version: int | None,
    ) -> VersionInfo:
        if version is not None:
            found = next((v for v in versions if v.number == version), None)
            if found is None:
                raise VersionNotFoundError(
                    f"service {name!r} has no version v{version}",
                    hint=f"versions: {', '.join(v.label for v in versions) or 'none'}",
                )
            if not found.ok:
                raise VersionNotFoundError(
                    f"v{version} of {name!r} is {found.status} ({found.reason}); "
                    "only good versions can be made current",
                    hint=f"good versions: {', '.join(v.label for v in versions if v.ok) or 'none'}",
                )
            return found
        below = live.number if live else None
        for candidate in versions:
            if candidate.ok and (below is None or candidate.number < below):
                return candidate
        raise VersionNotFoundError(
            f"service {name!r} has no good version older than "
            f"{live.label if live else 'the current one'}",
            hint=f"versions: {', '.join(f'{v.label} ({v.status})' for v in versions)}",
        )

    def unregister(self, name: str) -> None:
        """Remove a service: its client link, then all its versions (atomically hidden)."""
        from aibroker.sandbox import unlink_client

        self._require(name)
        with self._sync_lock(name):
            unlink_client(self.layout.home, name)
            service_dir = self.layout.service_dir(name)
            doomed = service_dir.with_name(f".{name}.removed-{secrets.token_hex(4)}")
            with guard_write(service_dir):
                os.rename(service_dir, doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    @contextlib.contextmanager
    def _sync_lock(self, name: str) -> Any:
        path = self.layout.lock_path(name)
        with guard_write(path):
            path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        try:
            with guard_write(path):
                lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout as error:
            raise RegistryError(
                f"service {name!r} is locked by another process ({path})",
                hint="wait for the other aibroker process to finish",
            ) from error
        try:
            yield
        finally:
            lock.release()

    def _record_states(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.name is None:
                continue
            # A clash outcome names a service its source does not own: not its state.
            try:
                if read_owner(self.layout, outcome.name) != outcome.source:
                    continue
            except InvalidNameError:
                continue
            try:
                record_state(self.layout, outcome.name, outcome)
            except RegistryWriteError as error:
                logger.warning("could not record the state of %s: %s", outcome.name, error)

    def catalog(self) -> Any:
        """A :class:`~aibroker.catalog.Catalog` over this registry's live versions."""
        from aibroker.registry.catalog import RegistryCatalog

        return RegistryCatalog(self)
