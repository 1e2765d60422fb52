"""``hero_jobs``: a job queue whose state machine is enforced by the service.

::

    queued ──claim──► running ──complete──► done
      │                 │ └────fail───────► failed ──┐
      └────cancel───────┴──cancel─────────► cancelled ┴─retry──► queued

Every change goes through :meth:`JobQueue._transition`, inside one write transaction, so a
job cannot be claimed twice or completed after it was cancelled, whatever the number of
clients; a refused change is the declared error 3002 saying which states would allow it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from aibroker.demo.errors import RpcFault
from aibroker.demo.service import Handler, Service, load_spec
from aibroker.demo.store import open_database, write_transaction
from aibroker.demo.times import format_time, now

NAME = "hero_jobs"
JOB_NOT_FOUND = 3001
INVALID_STATE_TRANSITION = 3002
STATES = ("queued", "running", "done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    worker TEXT,
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, priority DESC, id);
"""
_COLUMNS = "id, name, payload, priority, state, worker, result, error, created_at, updated_at"

_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "complete": ("running",),
    "fail": ("running",),
    "cancel": ("queued", "running"),
    "retry": ("failed", "cancelled"),
}
_DONE = {"complete": "completed", "fail": "failed", "cancel": "cancelled", "retry": "retried"}
_NEXT_STEP = {
    "queued": "a queued job must first be claimed with claim_next_job",
    "running": "a running job ends with complete_job, fail_job or cancel_job",
    "done": "a done job is final; submit_job creates a new one",
    "failed": "retry_job queues a failed job again",
    "cancelled": "retry_job queues a cancelled job again",
}


class JobQueue:
    """The handlers of ``hero_jobs`` (method name = handler name)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def submit_job(self, name: str, payload: dict[str, Any], priority: int) -> dict[str, Any]:
        moment = now()
        with write_transaction(self._db) as db:
            cursor = db.execute(
                "INSERT INTO jobs (name, payload, priority, state, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?)",
                (name, json.dumps(payload, ensure_ascii=False), priority, moment, moment),
            )
            return _fetch_required(db, int(cursor.lastrowid or 0))

    def get_job(self, id: int) -> dict[str, Any] | None:
        return _fetch(self._db, id)

    def list_jobs(
        self, limit: int, state: str | None = None, name: str | None = None
    ) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE (:state IS NULL OR state = :state) "
            "AND (:name IS NULL OR name = :name) ORDER BY id LIMIT :limit",
            {"state": state, "name": name, "limit": limit},
        ).fetchall()
        return [_job(row) for row in rows]

    def count_jobs(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for row in self._db.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
            counts[str(row["state"])] = int(row["n"])
        return {**counts, "total": sum(counts.values())}

    def claim_next_job(self, worker: str, name: str | None = None) -> dict[str, Any] | None:
        with write_transaction(self._db) as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' AND (:name IS NULL OR name = :name) "
                "ORDER BY priority DESC, id LIMIT 1",
                {"name": name},
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', worker = ?, updated_at = ? WHERE id = ?",
                (worker, now(), row["id"]),
            )
            return _fetch_required(db, int(row["id"]))

    def complete_job(self, id: int, result: Any = None) -> dict[str, Any]:
        encoded = None if result is None else json.dumps(result, ensure_ascii=False)
        return self._transition(id, "complete", "done", result=encoded)

    def fail_job(self, id: int, error: str) -> dict[str, Any]:
        return self._transition(id, "fail", "failed", error=error)

    def cancel_job(self, id: int) -> dict[str, Any]:
        return self._transition(id, "cancel", "cancelled")

    def retry_job(self, id: int) -> dict[str, Any]:
        return self._transition(id, "retry", "queued", worker=None, result=None, error=None)

    def _transition(self, job_id: int, action: str, target: str, **changes: Any) -> dict[str, Any]:
        allowed = _ALLOWED_FROM[action]
        with write_transaction(self._db) as db:
            state = _fetch_required(db, job_id)["state"]
            if state not in allowed:
                raise RpcFault(
                    INVALID_STATE_TRANSITION,
                    f"invalid state transition: cannot {action} job {job_id} because it is "
                    f"{state!r}; only {' or '.join(map(repr, allowed))} jobs can be "
                    f"{_DONE[action]}",
                    data={"id": job_id, "state": state, "action": action, "allowed_from": allowed},
                    hint=_NEXT_STEP[state],
                )
            assignments = ", ".join(f"{column} = ?" for column in changes)
            db.execute(
                f"UPDATE jobs SET state = ?, updated_at = ?{', ' if changes else ''}{assignments} "
                "WHERE id = ?",
                (target, now(), *changes.values(), job_id),
            )
            return _fetch_required(db, job_id)


def _fetch_required(db: sqlite3.Connection, job_id: int) -> dict[str, Any]:
    job = _fetch(db, job_id)
    if job is None:
        raise RpcFault(
            JOB_NOT_FOUND,
            f"job not found: there is no job with id {job_id}",
            data={"id": job_id},
            hint="list_jobs shows the existing jobs and their ids",
        )
    return job


def _fetch(db: sqlite3.Connection, job_id: int) -> dict[str, Any] | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _job(row)


def _job(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "name": str(row["name"]),
        "payload": json.loads(row["payload"]),
        "priority": int(row["priority"]),
        "state": str(row["state"]),
        "worker": row["worker"],
        "result": None if row["result"] is None else json.loads(row["result"]),
        "error": row["error"],
        "created_at": format_time(float(row["created_at"])),
        "updated_at": format_time(float(row["updated_at"])),
    }


def build(state_dir: Path) -> Service:
    """The ``hero_jobs`` service, persisting to ``state_dir/hero_jobs.sqlite3``."""
    connection = open_database(state_dir / f"{NAME}.sqlite3", _SCHEMA)
    queue = JobQueue(connection)
    handlers: dict[str, Handler] = {
        "submit_job": queue.submit_job,
        "get_job": queue.get_job,
        "list_jobs": queue.list_jobs,
        "count_jobs": queue.count_jobs,
        "claim_next_job": queue.claim_next_job,
        "complete_job": queue.complete_job,
        "fail_job": queue.fail_job,
        "cancel_job": queue.cancel_job,
        "retry_job": queue.retry_job,
    }
    return Service(name=NAME, document=load_spec(NAME), handlers=handlers, close=connection.close)
