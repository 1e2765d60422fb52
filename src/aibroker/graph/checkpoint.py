"""The SQLite checkpointer that keeps threads (follow-ups) across CLI and server runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from aibroker.settings import Settings, get_settings

CHECKPOINTS_FILE = "checkpoints.sqlite"


def checkpoints_path(settings: Settings | None = None) -> Path:
    """``AIBROKER_HOME/checkpoints.sqlite``."""
    return (settings or get_settings()).home.expanduser() / CHECKPOINTS_FILE


@asynccontextmanager
async def open_checkpointer(settings: Settings | None = None) -> AsyncIterator[AsyncSqliteSaver]:
    """An ``AsyncSqliteSaver`` on the home's checkpoint database, closed on exit.

    Usage: ``async with open_checkpointer() as saver: graph = build_graph(saver, ...)``.
    """
    path = checkpoints_path(settings)
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)  # no blocking I/O
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver
