"""What a serving process holds while it runs: storage, the graph, the run manager.

Both front ends — the HTTP app and the MCP server — open one :class:`ServerRuntime` in
their lifespan, so runs started through either are executed, persisted and recovered the
same way. Opening it also buries the runs of a previous process that died mid-run, and a
heartbeat task keeps this process's runs visibly alive for replicas sharing the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from aibroker.catalog import Catalog
from aibroker.server.directory import ServiceDirectory
from aibroker.server.history import HistoryError
from aibroker.server.records import new_owner
from aibroker.server.runs import RunManager
from aibroker.server.storage import open_storage
from aibroker.settings import Settings

log = logging.getLogger(__name__)

AGENT_ID = "aibroker"

GraphFactory = Callable[[BaseCheckpointSaver[Any], Catalog], Any]
"""Builds the compiled graph over the process's checkpointer and the directory's catalog."""


def default_graph_factory(settings: Settings) -> GraphFactory:
    """The production graph: models from settings, the sandbox runner."""

    def build(checkpointer: BaseCheckpointSaver[Any], catalog: Catalog) -> Any:
        from aibroker.graph.builder import build_graph

        return build_graph(checkpointer, catalog=catalog, settings=settings, name=AGENT_ID)

    return build


def default_directory(settings: Settings) -> ServiceDirectory:
    """The on-disk registry."""
    from aibroker.server.registry_directory import RegistryDirectory

    return RegistryDirectory(settings)


@dataclass(frozen=True)
class ServerRuntime:
    runs: RunManager
    directory: ServiceDirectory
    storage_backend: str


async def _heartbeat(runs: RunManager, interval: float) -> None:
    """Keep our active runs alive in the history and bury runs of dead servers."""
    while True:
        await asyncio.sleep(interval)
        try:
            await runs.history.heartbeat(runs.active_run_ids)
            dead = await runs.history.recover(own_owner=runs.owner, stale_after=interval * 6)
            if dead:
                log.warning("marked %d runs of dead servers as error: %s", len(dead), dead)
        except HistoryError:
            log.exception("heartbeat failed; retrying in %.1f s", interval)


@asynccontextmanager
async def open_runtime(
    settings: Settings, directory: ServiceDirectory, graph_factory: GraphFactory
) -> AsyncIterator[ServerRuntime]:
    """Storage + graph + run manager, with recovery and heartbeats, closed on exit."""
    async with open_storage(settings) as storage:
        graph = graph_factory(storage.checkpointer, directory.catalog())
        runs = RunManager(
            graph,
            storage.history,
            agent_id=AGENT_ID,
            owner=new_owner(),
            max_concurrent=settings.server_max_concurrent_runs,
            run_timeout=settings.server_run_timeout,
        )
        dead = await storage.history.recover(
            own_owner=runs.owner, stale_after=settings.server_heartbeat_s * 6
        )
        if dead:
            log.warning("runs interrupted by an earlier server stop: %s", dead)
        beat = asyncio.create_task(_heartbeat(runs, settings.server_heartbeat_s))
        try:
            yield ServerRuntime(runs=runs, directory=directory, storage_backend=storage.backend)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await runs.close()
