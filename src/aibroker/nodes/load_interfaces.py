"""load_interfaces: the interface text of the chosen services, and of those only.

Keeping the other services out of the code prompt is the point of reranking first: a small
model with an 8k context sees a few hundred tokens of relevant signatures, not every spec.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from aibroker.catalog import CatalogError
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import State


async def load_interfaces(
    state: State, runtime: Runtime[Context], *, deps: AgentDeps
) -> dict[str, Any]:
    """Map each chosen service to its interface text, in the order rerank chose them."""
    return {"interfaces": await asyncio.to_thread(read_interfaces, state["chosen"], deps)}


def read_interfaces(chosen: list[str], deps: AgentDeps) -> dict[str, str]:
    """Interface text per chosen service (blocking: a registry catalog reads files)."""
    catalog = deps.get_catalog()
    interfaces: dict[str, str] = {}
    for name in chosen:
        entry = catalog.get(name)
        if entry is None:
            raise CatalogError(
                f"service {name!r} was chosen but is no longer in the catalog",
                hint="the registry changed during the request; run it again",
            )
        interfaces[name] = entry.interface
    return interfaces
