"""``hero_calendar``: events with ISO-8601 UTC times, range queries and free/busy time.

Times are stored as Unix seconds so that overlap tests are plain numeric comparisons in SQL;
an event covers ``[start, end)``, so back-to-back meetings are neither overlapping nor
separated by a free gap.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from aibroker.demo.errors import RpcFault
from aibroker.demo.service import Handler, Service, load_spec
from aibroker.demo.store import open_database, write_transaction
from aibroker.demo.times import format_time, parse_time

NAME = "hero_calendar"
INVALID_TIME_RANGE = 2001
EVENT_NOT_FOUND = 2002

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    attendees TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS events_start ON events (start);
"""
_COLUMNS = 'id, title, start, "end", location, attendees'
Interval = tuple[float, float]


class Calendar:
    """The handlers of ``hero_calendar`` (method name = handler name)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def create_event(
        self, title: str, start: str, end: str, location: str, attendees: list[str]
    ) -> dict[str, Any]:
        begins, ends = _time_range(start, end)
        with write_transaction(self._db) as db:
            cursor = db.execute(
                'INSERT INTO events (title, start, "end", location, attendees) '
                "VALUES (?, ?, ?, ?, ?)",
                (title, begins, ends, location, json.dumps(attendees, ensure_ascii=False)),
            )
            event_id = cursor.lastrowid
        return self._require(int(event_id or 0))

    def get_event(self, id: int) -> dict[str, Any] | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (id,)).fetchone()
        return None if row is None else _event(row)

    def list_events(
        self, limit: int, start: str | None = None, end: str | None = None
    ) -> list[dict[str, Any]]:
        low = parse_time(start, param="start") if start is not None else None
        high = parse_time(end, param="end") if end is not None else None
        if low is not None and high is not None:
            _check_order(low, high, start or "", end or "")
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM events "
            'WHERE (:low IS NULL OR "end" > :low) AND (:high IS NULL OR start < :high) '
            "ORDER BY start, id LIMIT :limit",
            {"low": low, "high": high, "limit": limit},
        ).fetchall()
        return [_event(row) for row in rows]

    def update_event(
        self,
        id: int,
        title: str | None = None,
        start: str | None = None,
        end: str | None = None,
        location: str | None = None,
        attendees: list[str] | None = None,
    ) -> dict[str, Any]:
        with write_transaction(self._db) as db:
            current = db.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (id,)).fetchone()
            if current is None:
                raise _not_found(id)
            begins = parse_time(start, param="start") if start is not None else current["start"]
            ends = parse_time(end, param="end") if end is not None else current["end"]
            _check_order(begins, ends, format_time(begins), format_time(ends))
            db.execute(
                'UPDATE events SET title = ?, start = ?, "end" = ?, location = ?, attendees = ? '
                "WHERE id = ?",
                (
                    current["title"] if title is None else title,
                    begins,
                    ends,
                    current["location"] if location is None else location,
                    current["attendees"] if attendees is None else json.dumps(attendees),
                    id,
                ),
            )
        return self._require(id)

    def delete_event(self, id: int) -> bool:
        with write_transaction(self._db) as db:
            cursor = db.execute("DELETE FROM events WHERE id = ?", (id,))
        return cursor.rowcount > 0

    def free_busy(self, start: str, end: str) -> dict[str, Any]:
        low, high = _time_range(start, end)
        busy = self._busy(low, high)
        return {
            "start": format_time(low),
            "end": format_time(high),
            "busy": [_range(interval) for interval in busy],
            "free": [_range(interval) for interval in _gaps(busy, low, high)],
        }

    def find_free_slot(self, start: str, end: str, duration_minutes: int) -> dict[str, str] | None:
        low, high = _time_range(start, end)
        length = duration_minutes * 60.0
        for gap_start, gap_end in _gaps(self._busy(low, high), low, high):
            if gap_end - gap_start >= length:
                return _range((gap_start, gap_start + length))
        return None

    def _busy(self, low: float, high: float) -> list[Interval]:
        """Merged intervals covered by events, clipped to ``[low, high)``."""
        rows = self._db.execute(
            'SELECT start, "end" FROM events WHERE "end" > ? AND start < ? ORDER BY start',
            (low, high),
        ).fetchall()
        merged: list[Interval] = []
        for row in rows:
            begins, ends = max(float(row["start"]), low), min(float(row["end"]), high)
            if merged and begins <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
            else:
                merged.append((begins, ends))
        return merged

    def _require(self, event_id: int) -> dict[str, Any]:
        event = self.get_event(event_id)
        if event is None:
            raise _not_found(event_id)
        return event


def _gaps(busy: list[Interval], low: float, high: float) -> list[Interval]:
    gaps: list[Interval] = []
    cursor = low
    for begins, ends in busy:
        if begins > cursor:
            gaps.append((cursor, begins))
        cursor = max(cursor, ends)
    if cursor < high:
        gaps.append((cursor, high))
    return gaps


def _time_range(start: str, end: str) -> Interval:
    low, high = parse_time(start, param="start"), parse_time(end, param="end")
    _check_order(low, high, start, end)
    return low, high


def _check_order(low: float, high: float, start: str, end: str) -> None:
    if high <= low:
        raise RpcFault(
            INVALID_TIME_RANGE,
            f"invalid time range: end {end!r} is not after start {start!r}",
            data={"start": start, "end": end},
            hint="pass an end time later than the start time",
        )


def _not_found(event_id: int) -> RpcFault:
    return RpcFault(
        EVENT_NOT_FOUND,
        f"event not found: there is no event with id {event_id}",
        data={"id": event_id},
        hint="list_events shows the existing events and their ids",
    )


def _range(interval: Interval) -> dict[str, str]:
    return {"start": format_time(interval[0]), "end": format_time(interval[1])}


def _event(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "title": str(row["title"]),
        "start": format_time(float(row["start"])),
        "end": format_time(float(row["end"])),
        "location": str(row["location"]),
        "attendees": json.loads(row["attendees"]),
    }


def build(state_dir: Path) -> Service:
    """The ``hero_calendar`` service, persisting to ``state_dir/hero_calendar.sqlite3``."""
    connection = open_database(state_dir / f"{NAME}.sqlite3", _SCHEMA)
    calendar = Calendar(connection)
    handlers: dict[str, Handler] = {
        "create_event": calendar.create_event,
        "get_event": calendar.get_event,
        "list_events": calendar.list_events,
        "update_event": calendar.update_event,
        "delete_event": calendar.delete_event,
        "free_busy": calendar.free_busy,
        "find_free_slot": calendar.find_free_slot,
    }
    return Service(name=NAME, document=load_spec(NAME), handlers=handlers, close=connection.close)
