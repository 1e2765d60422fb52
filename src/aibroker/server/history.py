"""Run history: every run and thread, persisted in SQLite (default) or Postgres.

One store, two drivers. The SQL is written once with ``?`` placeholders and portable types
(TEXT, DOUBLE PRECISION; JSON as text), and the Postgres driver swaps the placeholders.
SQLite is the embedded default (``AIBROKER_HOME/server.sqlite``); a ``postgresql://`` URL
in ``AIBROKER_DATABASE_URL`` lets several server replicas share one history.

A run records its owner (``host:pid:nonce``) and a heartbeat. :meth:`RunHistory.recover`
turns runs whose owner died into ``error`` instead of leaving them ``running`` forever: at
once when the owner was a process on this host that no longer exists, else once its
heartbeat is older than the stale limit (another replica crashed).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from aibroker.errors import AibrokerError
from aibroker.server.records import ACTIVE_STATUSES, RunRecord, RunStatus, ThreadRecord, now
from aibroker.settings import Settings

HISTORY_FILE = "server.sqlite"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS aibroker_runs (
        run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, agent_id TEXT NOT NULL,
        status TEXT NOT NULL, intent TEXT NOT NULL, input TEXT NOT NULL, owner TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION, heartbeat_at DOUBLE PRECISION,
        output TEXT, error TEXT, metadata TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS aibroker_runs_created ON aibroker_runs (created_at)",
    "CREATE INDEX IF NOT EXISTS aibroker_runs_thread ON aibroker_runs (thread_id, created_at)",
    "CREATE INDEX IF NOT EXISTS aibroker_runs_status ON aibroker_runs (status)",
    """CREATE TABLE IF NOT EXISTS aibroker_threads (
        thread_id TEXT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL, metadata TEXT NOT NULL)""",
)
_RUN_COLUMNS = (
    "run_id, thread_id, agent_id, status, intent, input, owner, created_at, started_at, "
    "finished_at, heartbeat_at, output, error, metadata"
)


class HistoryError(AibrokerError):
    """The run history could not be opened or written."""


class Driver(Protocol):
    """The few database operations the store needs; rows come back as tuples."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    async def close(self) -> None: ...


class SqliteDriver:
    """aiosqlite on one connection (SQLite serialises writers anyway), WAL for readers."""

    def __init__(self, connection: Any) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: Path) -> SqliteDriver:
        import aiosqlite

        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        connection = await aiosqlite.connect(str(path), timeout=30.0)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA busy_timeout=30000")
        return cls(connection)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._db.execute(sql, tuple(params))
        await self._db.commit()
        return int(cursor.rowcount)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def close(self) -> None:
        await self._db.close()


class PostgresDriver:
    """psycopg's async pool; ``?`` placeholders become ``%s``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresDriver:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(url, min_size=1, max_size=8, open=False)
        await pool.open(wait=True, timeout=30.0)
        return cls(pool)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(sql.replace("?", "%s"), tuple(params))
            return int(cursor.rowcount)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(row) for row in await cursor.fetchall()]

    async def close(self) -> None:
        await self._pool.close()


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgres://", "postgresql://"))


def history_path(settings: Settings) -> Path:
    return settings.home.expanduser() / HISTORY_FILE


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _run_from_row(row: tuple[Any, ...]) -> RunRecord:
    (run_id, thread_id, agent_id, status, intent, input_, owner, created, started, finished,
     heartbeat, output, error, metadata) = row  # fmt: skip
    return RunRecord(
        run_id=run_id,
        thread_id=thread_id,
        agent_id=agent_id,
        status=status,
        intent=intent,
        input=json.loads(input_),
        owner=owner,
        created_at=created,
        started_at=started,
        finished_at=finished,
        heartbeat_at=heartbeat,
        output=None if output is None else json.loads(output),
        error=error,
        metadata=json.loads(metadata),
    )


def _owner_process_gone(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class RunHistory:
    """Runs and threads over a :class:`Driver`."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver

    async def setup(self) -> None:
        for statement in _SCHEMA:
            await self._driver.execute(statement)

    async def close(self) -> None:
        await self._driver.close()

    # ------------------------------------------------------------------ runs
    async def add_run(self, run: RunRecord) -> None:
        await self._driver.execute(
            f"INSERT INTO aibroker_runs ({_RUN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run.run_id, run.thread_id, run.agent_id, run.status, run.intent,
             _dump(run.input), run.owner, run.created_at, run.started_at, run.finished_at,
             run.heartbeat_at, None if run.output is None else _dump(run.output), run.error,
             _dump(run.metadata)),
        )  # fmt: skip

    async def mark_running(self, run_id: str) -> None:
        stamp = now()
        await self._driver.execute(
            "UPDATE aibroker_runs SET status='running', started_at=?, heartbeat_at=? "
            "WHERE run_id=? AND status='pending'",
            (stamp, stamp, run_id),
        )

    async def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        output: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        stamp = now()
        await self._driver.execute(
            "UPDATE aibroker_runs SET status=?, output=?, error=?, finished_at=?, "
            "started_at=COALESCE(started_at, ?) WHERE run_id=?",
            (status, None if output is None else _dump(output), error, stamp, stamp, run_id),
        )

    async def heartbeat(self, run_ids: Sequence[str]) -> None:
        stamp = now()
        for run_id in run_ids:
            await self._driver.execute(
                "UPDATE aibroker_runs SET heartbeat_at=? WHERE run_id=?", (stamp, run_id)
            )

    async def get_run(self, run_id: str) -> RunRecord | None:
        rows = await self._driver.fetch(
            f"SELECT {_RUN_COLUMNS} FROM aibroker_runs WHERE run_id=?", (run_id,)
        )
        return _run_from_row(rows[0]) if rows else None

    async def list_runs(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        thread_id: str | None = None,
        status: RunStatus | None = None,
    ) -> list[RunRecord]:
        """Newest first."""
        clauses, params = [], []
        if thread_id is not None:
            clauses.append("thread_id=?")
            params.append(thread_id)
        if status is not None:
            clauses.append("status=?")
            params.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._driver.fetch(
            f"SELECT {_RUN_COLUMNS} FROM aibroker_runs {where} "
            "ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_run_from_row(row) for row in rows]

    async def count_runs(self) -> int:
        rows = await self._driver.fetch("SELECT COUNT(*) FROM aibroker_runs")
        return int(rows[0][0])

    async def recover(self, *, own_owner: str, stale_after: float) -> list[str]:
        """Mark runs whose server died as ``error``; returns their ids.

        A run is dead when its owner is a vanished process on this host, or its heartbeat
        (or creation, if it never started) is older than ``stale_after`` seconds.
        """
        placeholders = ",".join("?" for _ in ACTIVE_STATUSES)
        rows = await self._driver.fetch(
            "SELECT run_id, owner, COALESCE(heartbeat_at, created_at) FROM aibroker_runs "
            f"WHERE status IN ({placeholders})",
            ACTIVE_STATUSES,
        )
        cutoff = now() - stale_after
        dead: list[str] = []
        for run_id, owner, last_seen in rows:
            if owner == own_owner:
                continue
            if _owner_process_gone(owner):
                reason = f"the server process running it ({owner}) stopped before it finished"
            elif last_seen < cutoff:
                reason = f"its server ({owner}) stopped sending heartbeats; presumed dead"
            else:
                continue
            changed = await self._driver.execute(
                "UPDATE aibroker_runs SET status='error', error=?, finished_at=? "
                f"WHERE run_id=? AND status IN ({placeholders})",
                (f"run interrupted: {reason}", now(), run_id, *ACTIVE_STATUSES),
            )
            if changed:
                dead.append(run_id)
        return dead

    # ------------------------------------------------------------------ threads
    async def add_thread(self, thread: ThreadRecord) -> None:
        await self._driver.execute(
            "INSERT INTO aibroker_threads (thread_id, created_at, updated_at, metadata) "
            "VALUES (?,?,?,?)",
            (thread.thread_id, thread.created_at, thread.updated_at, _dump(thread.metadata)),
        )

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        rows = await self._driver.fetch(
            "SELECT thread_id, created_at, updated_at, metadata FROM aibroker_threads "
            "WHERE thread_id=?",
            (thread_id,),
        )
        if not rows:
            return None
        tid, created, updated, metadata = rows[0]
        return ThreadRecord(
            thread_id=tid, created_at=created, updated_at=updated, metadata=json.loads(metadata)
        )

    async def list_threads(self, *, limit: int = 50, offset: int = 0) -> list[ThreadRecord]:
        rows = await self._driver.fetch(
            "SELECT thread_id, created_at, updated_at, metadata FROM aibroker_threads "
            "ORDER BY updated_at DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [
            ThreadRecord(thread_id=t, created_at=c, updated_at=u, metadata=json.loads(m))
            for t, c, u, m in rows
        ]

    async def touch_thread(self, thread_id: str) -> None:
        await self._driver.execute(
            "UPDATE aibroker_threads SET updated_at=? WHERE thread_id=?", (now(), thread_id)
        )


@asynccontextmanager
async def open_history(settings: Settings) -> AsyncIterator[RunHistory]:
    """The run history for ``settings`` (Postgres when ``database_url`` says so), set up."""
    url = settings.database_url
    try:
        if is_postgres_url(url):
            driver: Driver = await PostgresDriver.open(str(url))
        else:
            driver = await SqliteDriver.open(history_path(settings))
    except Exception as exc:  # driver errors differ (OSError, psycopg, pool timeouts)
        raise HistoryError(
            f"cannot open the run history ({'Postgres' if is_postgres_url(url) else 'SQLite'}): "
            f"{exc}",
            hint="check AIBROKER_DATABASE_URL, or that AIBROKER_HOME is writable",
        ) from exc
    history = RunHistory(driver)
    try:
        await history.setup()
        yield history
    finally:
        await history.close()


def recover_now(settings: Settings) -> list[str]:
    """Synchronous recovery for the CLI (``aibroker history``), own owner being none."""

    async def _run() -> list[str]:
        async with open_history(settings) as history:
            return await history.recover(own_owner="", stale_after=settings.server_heartbeat_s * 6)

    return asyncio.run(_run())
