"""The agent's view of the registry: a :class:`~aibroker.catalog.Catalog` over live versions.

Entries are built from the files of each service's live version (card, interface, meta)
and cached per version directory, so repeated reads during one request cost a directory
listing and a few small file reads. Services whose source is ``gone`` are left out: the
agent should not pick a service nobody answers for. Method detail comes from the code
generator over the stored spec, parsed once per version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aibroker.catalog import CatalogError, ServiceEntry
from aibroker.openrpc import parse_document
from aibroker.openrpc.model import OpenRpcDocument
from aibroker.registry.errors import RegistryError
from aibroker.registry.layout import STATE_FILE, read_json
from aibroker.registry.versions import VersionInfo, live_version

if TYPE_CHECKING:
    from aibroker.registry.registry import Registry


class RegistryCatalog:
    """Implements the :class:`~aibroker.catalog.Catalog` protocol over a :class:`Registry`."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._entries: dict[Path, ServiceEntry] = {}
        self._documents: dict[Path, OpenRpcDocument] = {}

    def entries(self) -> list[ServiceEntry]:
        entries = []
        for name in self.registry.names():
            entry = self.get(name)
            if entry is not None:
                entries.append(entry)
        return entries

    def get(self, name: str) -> ServiceEntry | None:
        if name not in self.registry.names():
            return None
        state = read_json(self.registry.layout.service_dir(name) / STATE_FILE)
        if isinstance(state, dict) and state.get("result") == "gone":
            return None
        live = live_version(self.registry.layout, name)
        if live is None:
            return None
        if live.path not in self._entries:
            self._entries[live.path] = _entry(live)
        return self._entries[live.path]

    def method_detail(self, name: str, method: str) -> str:
        from aibroker.codegen import method_detail  # type: ignore[attr-defined,unused-ignore]

        entry = self.get(name)
        if entry is None:
            known = ", ".join(e.name for e in self.entries()) or "none"
            raise CatalogError(f"no service named {name!r} in the registry", hint=f"known: {known}")
        rpc_name = entry.rpc_name(method)
        if rpc_name not in entry.methods:
            raise CatalogError(
                f"service {name!r} has no method {method!r}",
                hint="check the method name against the service interface",
            )
        document = self._document(entry.client_path.parent)
        return str(method_detail(document, rpc_name, name=name))

    def _document(self, version_dir: Path) -> OpenRpcDocument:
        if version_dir not in self._documents:
            try:
                raw = json.loads((version_dir / "openrpc.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise RegistryError(
                    f"cannot read the stored spec in {version_dir}: {error}",
                    hint="re-register the service",
                ) from error
            self._documents[version_dir] = parse_document(raw).document
        return self._documents[version_dir]


def _entry(live: VersionInfo) -> ServiceEntry:
    meta = live.meta
    methods = meta.get("methods")
    return ServiceEntry(
        name=live.name,
        card=(live.path / "card.txt").read_text(encoding="utf-8").strip(),
        interface=(live.path / "interface.py").read_text(encoding="utf-8"),
        client_path=live.path / "client.py",
        endpoint=str(meta.get("endpoint") or ""),
        class_name=str(meta.get("class_name") or ""),
        methods={str(k): str(v) for k, v in methods.items()} if isinstance(methods, dict) else {},
    )
