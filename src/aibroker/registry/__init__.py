"""The service registry: discovery, hash-based versions on disk, verification, watch.

Typical use::

    from aibroker.registry import Registry

    registry = Registry()                       # AIBROKER_HOME from settings
    for outcome in registry.discover():         # sockets dir + services.toml + registered
        print(outcome.describe())               # hero_kv: new v1 / unchanged v1 / failed: …
    registry.register("/specs/petstore.json", name="petstore", endpoint="http://…/rpc")
    registry.read("hero_kv", "interface")       # the live version's interface.py
    registry.rollback("hero_kv")                # previous good version, pinned

    catalog = open_catalog()                    # what the agent graph reads

Module map: :mod:`~aibroker.registry.layout` (paths, atomic writes),
:mod:`~aibroker.registry.versions` (reading versions back, integrity),
:mod:`~aibroker.registry.sources` (sockets dir, services.toml),
:mod:`~aibroker.registry.discovery` (concurrent fetch and naming),
:mod:`~aibroker.registry.publish` (hash → generate → verify → switch),
:mod:`~aibroker.registry.verify` (the checks; the example safety rule is in
:mod:`~aibroker.registry.examples`), :mod:`~aibroker.registry.catalog` (the agent's view).
"""

from __future__ import annotations

from aibroker.registry.catalog import RegistryCatalog
from aibroker.registry.errors import (
    InvalidNameError,
    NameClashError,
    RegistryError,
    RegistryWriteError,
    ServiceNotFoundError,
    VersionNotFoundError,
)
from aibroker.registry.examples import is_safe
from aibroker.registry.outcome import Outcome
from aibroker.registry.registry import Registry, ServiceStatus
from aibroker.registry.versions import VersionInfo
from aibroker.settings import Settings


def open_catalog(settings: Settings | None = None) -> RegistryCatalog:
    """The catalog of the registry in ``settings.home`` (the graph's default catalog)."""
    return RegistryCatalog(Registry(settings))


__all__ = [
    "InvalidNameError",
    "NameClashError",
    "Outcome",
    "Registry",
    "RegistryCatalog",
    "RegistryError",
    "RegistryWriteError",
    "ServiceNotFoundError",
    "ServiceStatus",
    "VersionInfo",
    "VersionNotFoundError",
    "is_safe",
    "open_catalog",
]
