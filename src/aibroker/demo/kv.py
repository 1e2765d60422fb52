"""``hero_kv``: text values under string keys, with optional expiry.

Expired keys are invisible to every read (the queries compare ``expires_at`` with the
current time) and are deleted lazily by the next write, so no background timer is needed
and a restart loses nothing but what has already expired.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from aibroker.demo.errors import RpcFault
from aibroker.demo.service import Handler, Service, load_spec
from aibroker.demo.store import open_database, write_transaction
from aibroker.demo.times import format_time, now

NAME = "hero_kv"
VALUE_NOT_INTEGER = 1001

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL
);
CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at)
    WHERE expires_at IS NOT NULL;
"""
_LIVE = "(expires_at IS NULL OR expires_at > :now)"
_INTEGER = re.compile(r"[+-]?[0-9]+")


class KeyValueStore:
    """The handlers of ``hero_kv`` (method name = handler name)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def set(self, key: str, value: str, ttl_seconds: float | None = None) -> dict[str, Any]:
        moment = now()
        expires_at = moment + ttl_seconds if ttl_seconds is not None else None
        with write_transaction(self._db) as db:
            _purge_expired(db, moment)
            db.execute(
                "INSERT INTO entries (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at",
                (key, value, expires_at),
            )
        return _entry(key, value, expires_at)

    def get(self, key: str) -> str | None:
        row = self._live_row(key)
        return None if row is None else str(row["value"])

    def exists(self, key: str) -> bool:
        return self._live_row(key) is not None

    def ttl(self, key: str) -> float | None:
        row = self._live_row(key)
        if row is None or row["expires_at"] is None:
            return None
        return max(0.0, round(float(row["expires_at"]) - now(), 3))

    def delete(self, key: str) -> bool:
        moment = now()
        with write_transaction(self._db) as db:
            _purge_expired(db, moment)
            cursor = db.execute("DELETE FROM entries WHERE key = ?", (key,))
        return cursor.rowcount > 0

    def list_keys(self, prefix: str, limit: int) -> list[str]:
        # A range scan on the primary key rather than LIKE, whose wildcards (% and _) are
        # ordinary characters in keys; the upper bound is the prefix followed by U+10FFFF.
        rows = self._db.execute(
            f"SELECT key FROM entries WHERE key >= :low AND key < :high AND {_LIVE} "
            "ORDER BY key LIMIT :limit",
            {"low": prefix, "high": prefix + "\U0010ffff", "now": now(), "limit": limit},
        ).fetchall()
        return [str(row["key"]) for row in rows]

    def incr(self, key: str, by: int) -> int:
        moment = now()
        with write_transaction(self._db) as db:
            _purge_expired(db, moment)
            row = db.execute(
                "SELECT value, expires_at FROM entries WHERE key = ?", (key,)
            ).fetchone()
            current = "0" if row is None else str(row["value"])
            if not _INTEGER.fullmatch(current.strip()):
                raise RpcFault(
                    VALUE_NOT_INTEGER,
                    f"value is not an integer: key {key!r} holds {current[:50]!r}",
                    data={"key": key, "value": current[:200]},
                    hint='incr works on keys holding decimal text such as "3"; '
                    "use set to overwrite the key or pick another key",
                )
            value = int(current) + by
            db.execute(
                "INSERT INTO entries (key, value, expires_at) VALUES (?, ?, NULL) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, str(value)),
            )
        return value

    def _live_row(self, key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(
            f"SELECT value, expires_at FROM entries WHERE key = :key AND {_LIVE}",
            {"key": key, "now": now()},
        ).fetchone()
        return row


def _purge_expired(db: sqlite3.Connection, moment: float) -> None:
    db.execute("DELETE FROM entries WHERE expires_at <= ?", (moment,))


def _entry(key: str, value: str, expires_at: float | None) -> dict[str, Any]:
    return {
        "key": key,
        "value": value,
        "expires_at": None if expires_at is None else format_time(expires_at),
    }


def build(state_dir: Path) -> Service:
    """The ``hero_kv`` service, persisting to ``state_dir/hero_kv.sqlite3``."""
    connection = open_database(state_dir / f"{NAME}.sqlite3", _SCHEMA)
    store = KeyValueStore(connection)
    handlers: dict[str, Handler] = {
        "set": store.set,
        "get": store.get,
        "exists": store.exists,
        "ttl": store.ttl,
        "delete": store.delete,
        "list_keys": store.list_keys,
        "incr": store.incr,
    }
    return Service(name=NAME, document=load_spec(NAME), handlers=handlers, close=connection.close)
