"""The catalog of services the agent can use: cards, interfaces, clients and endpoints.

The agent graph never reads the registry's files itself; it asks a :class:`Catalog`. The
registry implements the protocol over its on-disk versions; :class:`InMemoryCatalog` is
the small implementation for tests, notebooks and ``aibroker generate`` output
directories. Keeping the graph on this narrow seam lets every node be tested offline
against hand-written or freshly generated services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from aibroker.errors import AibrokerError

if TYPE_CHECKING:
    from aibroker.openrpc.model import OpenRpcDocument


class CatalogError(AibrokerError):
    """A service or method the caller asked the catalog about does not exist."""


class ServiceEntry(BaseModel):
    """Everything the agent needs about one service; all text is generated, spec-derived data."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Registry name, also the module name scripts import.")
    card: str = Field(description="`SERVICE: …` + `SUMMARY: …` lines, read by rerank.")
    interface: str = Field(description="Compact interface text, read by write_code.")
    client_path: Path = Field(description="The generated client module (client.py).")
    endpoint: str = Field(description="Where the service listens (unix://…, http://…).")
    class_name: str = Field(description="The sync client class in the client module.")
    methods: dict[str, str] = Field(
        default_factory=dict, description="RPC method name -> Python method name."
    )

    def rpc_name(self, method: str) -> str:
        """The RPC name of ``method`` given either its RPC or its Python name."""
        if method in self.methods:
            return method
        for rpc_name, python_name in self.methods.items():
            if python_name == method:
                return rpc_name
        return method


@runtime_checkable
class Catalog(Protocol):
    """What the agent needs from a service registry."""

    def entries(self) -> list[ServiceEntry]:
        """Every available service, sorted by name."""
        ...

    def get(self, name: str) -> ServiceEntry | None:
        """The service called ``name``, or ``None``."""
        ...

    def method_detail(self, name: str, method: str) -> str:
        """Full detail (schemas, errors, examples) of one method, RPC or Python name."""
        ...


class InMemoryCatalog:
    """A catalog held in memory: entries plus per-method detail text.

    ``details`` maps ``(service, rpc_method)`` to the detail text (what
    ``aibroker.codegen.method_detail`` produces). A method without recorded detail falls back
    to the lines of the interface that mention it, so the repair loop always gets something.
    """

    def __init__(
        self,
        entries: Iterable[ServiceEntry],
        details: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self._details = dict(details or {})

    def entries(self) -> list[ServiceEntry]:
        return [self._entries[name] for name in sorted(self._entries)]

    def get(self, name: str) -> ServiceEntry | None:
        return self._entries.get(name)

    def method_detail(self, name: str, method: str) -> str:
        entry = self._entries.get(name)
        if entry is None:
            raise CatalogError(
                f"no service named {name!r} in the catalog",
                hint=f"available: {', '.join(sorted(self._entries)) or 'none'}",
            )
        rpc_name = entry.rpc_name(method)
        detail = self._details.get((name, rpc_name))
        if detail is not None:
            return detail
        from aibroker.codegen.families import expand  # codegen loads lazily, as in from_documents

        python_name = entry.methods.get(rpc_name, method)
        lines = [
            line
            for line in expand(entry.interface).splitlines()  # a folded method has lines too
            if f" {python_name}(" in line or f".{python_name}(" in line
        ]
        if not lines:
            raise CatalogError(
                f"service {name!r} has no method {method!r}",
                hint="check the method name against the service interface",
            )
        return "\n".join(lines)

    @classmethod
    def from_documents(
        cls,
        documents: Mapping[str, OpenRpcDocument],
        *,
        endpoints: Mapping[str, str],
        out_dir: Path,
    ) -> InMemoryCatalog:
        """Generate every service of ``documents`` (name -> spec) into ``out_dir/<name>.py``.

        The file name is the module name scripts import, so ``out_dir`` can be put on a
        script's path as is. ``endpoints`` gives each service's live endpoint.
        """
        from aibroker.codegen import generate, method_detail

        out_dir.mkdir(parents=True, exist_ok=True)
        entries: list[ServiceEntry] = []
        details: dict[tuple[str, str], str] = {}
        for name in sorted(documents):
            document = documents[name]
            generated = generate(document, name=name, endpoint=endpoints[name])
            client_path = out_dir / f"{generated.name}.py"
            client_path.write_text(generated.client, encoding="utf-8")
            entries.append(
                ServiceEntry(
                    name=generated.name,
                    card=generated.card,
                    interface=generated.interface,
                    client_path=client_path,
                    endpoint=endpoints[name],
                    class_name=generated.class_name,
                    methods=dict(generated.methods),
                )
            )
            for rpc_method in generated.methods:
                details[(generated.name, rpc_method)] = method_detail(
                    document, rpc_method, name=generated.name
                )
        return cls(entries, details)


def render_cards(entries: Iterable[ServiceEntry]) -> str:
    """The cards of ``entries`` separated by blank lines, in catalog order."""
    return "\n\n".join(entry.card.strip() for entry in entries)
