"""Where a server keeps state: the graph's checkpoints and the run history, side by side.

Embedded (default): SQLite files under ``AIBROKER_HOME`` — the checkpoints through
:func:`aibroker.graph.checkpoint.open_checkpointer`, the history in ``server.sqlite``.
Shared (``AIBROKER_DATABASE_URL=postgresql://…``): both in one Postgres database, through
langgraph-checkpoint-postgres and the history's Postgres driver, so any replica behind a
load balancer can continue any thread and list every run.

Opening never blocks the event loop (directories are made in a worker thread): under
``langgraph dev``, blocking calls in a lifespan are errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from aibroker.server.history import HistoryError, RunHistory, is_postgres_url, open_history
from aibroker.settings import Settings


@dataclass(frozen=True)
class Storage:
    """The opened checkpointer and history of one server process."""

    checkpointer: BaseCheckpointSaver[Any]
    history: RunHistory
    backend: str  # "sqlite" or "postgres", shown by /info


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """Open (and create if needed) checkpoints and history; close both on exit."""
    async with AsyncExitStack() as stack:
        history = await stack.enter_async_context(open_history(settings))
        if is_postgres_url(settings.database_url):
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

            try:
                saver: BaseCheckpointSaver[Any] = await stack.enter_async_context(
                    AsyncPostgresSaver.from_conn_string(str(settings.database_url))
                )
                await saver.setup()  # type: ignore[attr-defined]
            except Exception as exc:  # psycopg raises its own hierarchy
                raise HistoryError(
                    f"cannot open Postgres checkpoints: {exc}",
                    hint="check AIBROKER_DATABASE_URL and that the database accepts connections",
                ) from exc
            backend = "postgres"
        else:
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            from aibroker.graph.checkpoint import checkpoints_path

            path = checkpoints_path(settings)
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            saver = await stack.enter_async_context(AsyncSqliteSaver.from_conn_string(str(path)))
            backend = "sqlite"
        yield Storage(checkpointer=saver, history=history, backend=backend)
