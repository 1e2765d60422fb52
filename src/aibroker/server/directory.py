"""The services the server exposes: a narrow seam over the registry.

The HTTP services API, the MCP tools and the dashboard read services through a
:class:`ServiceDirectory`. :class:`RegistryDirectory` is the production one (the on-disk
registry of ``aibroker.registry``); :class:`CatalogDirectory` serves any
:class:`~aibroker.catalog.Catalog` (tests, notebooks, ``aibroker generate`` output), without
discovery or registration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from aibroker.catalog import Catalog, ServiceEntry
from aibroker.errors import AibrokerError


class ServiceNotFoundError(AibrokerError):
    """The service asked for is not in the directory."""


class DirectoryUnsupportedError(AibrokerError):
    """The directory cannot do this (e.g. discovery on a fixed catalog)."""


class ServiceSummary(BaseModel):
    """One service as listings show it."""

    name: str = Field(description="Registry name; also the module scripts import.")
    summary: str = Field(description="One line saying what the service does.")
    version: str | None = Field(default=None, description="Published version (e.g. v3).")
    methods: int = Field(description="Number of methods.")
    method_names: list[str] = Field(default_factory=list, description="RPC method names.")
    endpoint: str = Field(description="Where the service listens.")
    status: str = Field(default="ok", description="ok, failed, stale… as the registry says.")
    spec_hash: str | None = None
    verified_at: str | None = None


class DiscoveryOutcome(BaseModel):
    """What happened to one source during discovery or registration."""

    name: str | None = Field(description="Service name (None when it could not be named).")
    source: str = Field(description="Socket, URL or file it came from.")
    result: Literal["new", "updated", "unchanged", "failed", "gone"]
    version: str | None = None
    methods: int | None = None
    error: str | None = None


class ServiceDirectory(Protocol):
    """What the server needs to know about services and to change them."""

    def catalog(self) -> Catalog: ...
    async def summaries(self) -> list[ServiceSummary]: ...
    async def get(self, name: str) -> ServiceSummary: ...
    async def interface(self, name: str) -> str: ...
    async def client(self, name: str) -> str: ...
    async def spec(self, name: str) -> dict[str, Any]: ...
    async def discover(self, sockets_dir: Path | None = None) -> list[DiscoveryOutcome]: ...
    async def register(self, source: str, name: str | None = None) -> DiscoveryOutcome: ...


def summary_of(entry: ServiceEntry, **extra: Any) -> ServiceSummary:
    """A listing row from a catalog entry (the SUMMARY line of its card)."""
    summary = ""
    for line in entry.card.splitlines():
        if line.startswith("SUMMARY:"):
            summary = line.removeprefix("SUMMARY:").strip()
    return ServiceSummary(
        name=entry.name,
        summary=summary,
        methods=len(entry.methods),
        method_names=sorted(entry.methods),
        endpoint=entry.endpoint,
        **extra,
    )


def not_found(name: str, known: list[str]) -> ServiceNotFoundError:
    return ServiceNotFoundError(
        f"no service named {name!r}",
        hint=f"known services: {', '.join(known) or 'none'} (GET /services)",
    )


class CatalogDirectory:
    """A fixed catalog; specs come from ``specs`` or an ``openrpc.json`` beside the client."""

    def __init__(self, catalog: Catalog, specs: dict[str, dict[str, Any]] | None = None) -> None:
        self._catalog = catalog
        self._specs = dict(specs or {})

    def catalog(self) -> Catalog:
        return self._catalog

    def _entry(self, name: str) -> ServiceEntry:
        entry = self._catalog.get(name)
        if entry is None:
            raise not_found(name, [e.name for e in self._catalog.entries()])
        return entry

    async def summaries(self) -> list[ServiceSummary]:
        return [summary_of(entry) for entry in self._catalog.entries()]

    async def get(self, name: str) -> ServiceSummary:
        return summary_of(self._entry(name))

    async def interface(self, name: str) -> str:
        return self._entry(name).interface

    async def client(self, name: str) -> str:
        entry = self._entry(name)
        try:
            return entry.client_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ServiceNotFoundError(
                f"the client of {name!r} cannot be read at {entry.client_path}: {exc}",
                hint="re-generate or re-register the service",
            ) from exc

    async def spec(self, name: str) -> dict[str, Any]:
        entry = self._entry(name)
        if name in self._specs:
            return self._specs[name]
        beside = entry.client_path.parent / "openrpc.json"
        if beside.is_file():
            loaded: dict[str, Any] = json.loads(beside.read_text(encoding="utf-8"))
            return loaded
        raise ServiceNotFoundError(
            f"no OpenRPC document is stored for {name!r}",
            hint="register the service through the registry to keep its spec",
        )

    async def discover(self, sockets_dir: Path | None = None) -> list[DiscoveryOutcome]:
        raise DirectoryUnsupportedError(
            "this server serves a fixed catalog; it cannot discover services",
            hint="start `aibroker serve` without a fixed catalog to use the registry",
        )

    async def register(self, source: str, name: str | None = None) -> DiscoveryOutcome:
        raise DirectoryUnsupportedError(
            "this server serves a fixed catalog; it cannot register services",
            hint="start `aibroker serve` without a fixed catalog to use the registry",
        )
