"""SQLite for the demo services: one file per service, WAL, explicit write transactions.

WAL lets readers proceed while a writer commits, and ``BEGIN IMMEDIATE`` takes the write
lock before the first read of a read-modify-write (``incr``, claiming a job), so two
processes sharing a state directory can never both read the old value. Connections run in
autocommit mode (``isolation_level=None``) so that the only transactions are the ones
written out here, not ones the ``sqlite3`` module opens behind our back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aibroker.demo.errors import DemoError

BUSY_TIMEOUT_SECONDS = 10.0


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and apply ``schema`` (idempotent)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise DemoError(
            f"cannot open the demo database {path}: {error}",
            hint="check that the state directory exists and is writable, or pass --state-dir",
        ) from error
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(schema)
    except sqlite3.Error as error:
        connection.close()
        raise DemoError(
            f"cannot prepare the demo database {path}: {error}",
            hint="the file may be corrupt or from another program: move it away and restart",
        ) from error
    return connection


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction holding the write lock from its start; rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
