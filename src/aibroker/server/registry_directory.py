"""The production :class:`~aibroker.server.directory.ServiceDirectory`: the on-disk registry.

A thin adapter over :class:`aibroker.registry.Registry`: listings come from its status rows
(status, version, methods, verification time), texts from its live version's files, and
discovery/registration from its async methods. Registry reads touch the disk, so they run
in a worker thread. The graph gets :func:`aibroker.registry.open_catalog`, which reads the
registry as it is at each call, so a service registered through the API is usable by the
next run without a restart.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aibroker.catalog import Catalog
from aibroker.server.directory import (
    DiscoveryOutcome,
    ServiceNotFoundError,
    ServiceSummary,
    summary_of,
)
from aibroker.settings import Settings

if TYPE_CHECKING:
    from aibroker.registry import Registry
    from aibroker.registry.outcome import Outcome
    from aibroker.registry.registry import Artifact, ServiceStatus


def _outcome(outcome: Outcome) -> DiscoveryOutcome:
    return DiscoveryOutcome(
        name=outcome.name,
        source=outcome.source,
        result=outcome.result,
        version=outcome.version_label,
        methods=outcome.methods,
        error=outcome.error,
    )


class RegistryDirectory:
    """Services of the registry under ``settings.home``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._registry: Registry | None = None
        self._catalog: Catalog | None = None

    def registry(self) -> Registry:
        if self._registry is None:
            from aibroker.registry import Registry

            self._registry = Registry(self._settings)
        return self._registry

    def catalog(self) -> Catalog:
        if self._catalog is None:
            from aibroker.registry import open_catalog

            self._catalog = open_catalog(self._settings)
        return self._catalog

    def _summary(self, status: ServiceStatus) -> ServiceSummary:
        entry = self.catalog().get(status.name)
        extra = {
            "version": status.version_label,
            "status": status.status,
            "spec_hash": status.spec_hash,
            "verified_at": status.verified_at,
        }
        if entry is not None:
            return summary_of(entry, **extra)
        return ServiceSummary(
            name=status.name,
            summary=status.title or "",
            methods=status.methods or 0,
            endpoint=status.endpoint,
            **extra,
        )

    async def _read(self, name: str, artifact: Artifact) -> str:
        from aibroker.registry import ServiceNotFoundError as RegistryNotFound

        try:
            return await asyncio.to_thread(self.registry().read, name, artifact)
        except RegistryNotFound as exc:
            raise ServiceNotFoundError(exc.message, hint=exc.hint) from exc

    async def summaries(self) -> list[ServiceSummary]:
        statuses = await asyncio.to_thread(self.registry().services)
        return [self._summary(status) for status in statuses]

    async def get(self, name: str) -> ServiceSummary:
        from aibroker.registry import ServiceNotFoundError as RegistryNotFound

        try:
            status = await asyncio.to_thread(self.registry().status, name)
        except RegistryNotFound as exc:
            raise ServiceNotFoundError(exc.message, hint=exc.hint) from exc
        return self._summary(status)

    async def interface(self, name: str) -> str:
        return await self._read(name, "interface")

    async def client(self, name: str) -> str:
        return await self._read(name, "client")

    async def spec(self, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(await self._read(name, "spec"))
        return loaded

    async def discover(self, sockets_dir: Path | None = None) -> list[DiscoveryOutcome]:
        outcomes = await self.registry().adiscover(sockets_dir)
        return [_outcome(outcome) for outcome in outcomes]

    async def register(self, source: str, name: str | None = None) -> DiscoveryOutcome:
        return _outcome(await self.registry().aregister(source, name=name))
