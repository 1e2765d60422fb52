"""The demo services end to end: operations, errors, persistence and concurrent clients."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aibroker.demo import DemoCluster
from aibroker.demo.errors import DemoError
from aibroker.demo.service import load_spec
from tests.integration.test_demo_framing import RawClient


def _client(cluster: DemoCluster, name: str) -> RawClient:
    return RawClient(cluster.sockets[name])


def _declared_codes(service: str, method: str) -> set[int]:
    (spec,) = [m for m in load_spec(service)["methods"] if m["name"] == method]
    return {error["code"] for error in spec["errors"]}


def _assert_declared(service: str, method: str, error: dict[str, Any], code: int) -> None:
    assert error["code"] == code, error
    assert code in _declared_codes(service, method), f"{code} not declared by {method}"


# --- hero_kv ---------------------------------------------------------------------------------


def test_kv_operations(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_kv") as kv:
        assert kv.result("get", {"key": "user:1:name"}) is None
        entry = kv.result("set", {"key": "user:1:name", "value": "Ada"})
        assert entry == {"key": "user:1:name", "value": "Ada", "expires_at": None}
        kv.result("set", ["user:1:email", "ada@example.com"])  # by position
        kv.result("set", {"key": "user:2:name", "value": "Linus"})
        kv.result("set", {"key": "user:1%", "value": "not a wildcard"})
        assert kv.result("get", {"key": "user:1:name"}) == "Ada"
        assert kv.result("exists", {"key": "user:1:email"}) is True
        assert kv.result("list_keys", {"prefix": "user:1:"}) == ["user:1:email", "user:1:name"]
        assert kv.result("list_keys", {"prefix": "user:", "limit": 2}) == [
            "user:1%",
            "user:1:email",
        ]
        assert len(kv.result("list_keys")) == 4
        assert kv.result("incr", {"key": "visits"}) == 1
        assert kv.result("incr", {"key": "visits", "by": -5}) == -4
        assert kv.result("get", {"key": "visits"}) == "-4"
        assert kv.result("delete", {"key": "user:1:name"}) is True
        assert kv.result("delete", {"key": "user:1:name"}) is False
        assert kv.result("exists", {"key": "user:1:name"}) is False


def test_kv_ttl_expires_keys(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_kv") as kv:
        entry = kv.result("set", {"key": "session", "value": "s", "ttl_seconds": 0.3})
        assert entry["expires_at"].endswith("Z")
        assert 0 < kv.result("ttl", {"key": "session"}) <= 0.3
        kv.result("set", {"key": "forever", "value": "f"})
        assert kv.result("ttl", {"key": "forever"}) is None
        kv.result("set", {"key": "counter", "value": "1", "ttl_seconds": 0.3})
        assert kv.result("incr", {"key": "counter"}) == 2
        assert kv.result("ttl", {"key": "counter"}) is not None  # incr keeps the expiry
        time.sleep(0.5)
        assert kv.result("get", {"key": "session"}) is None
        assert kv.result("exists", {"key": "session"}) is False
        assert kv.result("list_keys") == ["forever"]
        assert kv.result("ttl", {"key": "session"}) is None
        assert kv.result("incr", {"key": "counter"}) == 1  # expired counters restart at 0


def test_kv_declared_error_for_incr_on_text(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_kv") as kv:
        kv.result("set", {"key": "name", "value": "Ada"})
        error = kv.error("incr", {"key": "name"})
    _assert_declared("hero_kv", "incr", error, 1001)
    assert "'name'" in error["message"]
    assert error["data"] == {"key": "name", "value": "Ada"}


@pytest.mark.parametrize(
    ("method", "params", "mentions"),
    [
        ("set", {"key": "k"}, ["missing required param 'value'", "set(key, value, ttl_seconds?)"]),
        ("set", {"key": "k", "value": 5}, ["param 'value'", "5 is not of type 'string'"]),
        ("set", {"key": "k", "value": "v", "ttl_seconds": -1}, ["param 'ttl_seconds'", "-1"]),
        ("set", {"key": "", "value": "v"}, ["param 'key'", "should be non-empty"]),
        ("get", {"kye": "k"}, ["unknown param 'kye'", "did you mean 'key'?"]),
        ("get", ["a", "b"], ["2 positional params", "at most 1"]),
        ("get", "k", ["params must be an array", "or an object"]),
        ("get", {"key": None}, ["param 'key' is required and cannot be null"]),
        ("list_keys", {"limit": 0}, ["param 'limit'", "less than the minimum of 1"]),
    ],
)
def test_bad_params_are_minus_32602_with_a_helpful_message(
    demo_services: DemoCluster, method: str, params: Any, mentions: list[str]
) -> None:
    with _client(demo_services, "hero_kv") as kv:
        error = kv.error(method, params)
    assert error["code"] == -32602
    for text in mentions:
        assert text in error["message"], error["message"]


def test_unknown_method_is_minus_32601_with_a_suggestion(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_jobs") as jobs:
        error = jobs.error("submit", {"name": "x"})
    assert error["code"] == -32601
    assert "did you mean 'submit_job'?" in error["message"]
    assert "submit_job" in error["data"]["methods"]


def test_null_for_an_optional_param_means_not_given(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_kv") as kv:
        entry = kv.result("set", {"key": "k", "value": "v", "ttl_seconds": None})
        assert entry["expires_at"] is None
        assert kv.result("incr", {"key": "n", "by": None}) == 1


def test_internal_failure_is_minus_32603_without_internals(
    demo_services: DemoCluster, caplog: pytest.LogCaptureFixture
) -> None:
    database = demo_services.state_dir / "hero_kv.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE entries")
    with _client(demo_services, "hero_kv") as kv:
        error = kv.error("get", {"key": "k"})
        assert kv.result("rpc.discover")["info"]["title"] == "hero_kv"  # still serving
    assert error == {
        "code": -32603,
        "message": "internal error in hero_kv.get (the service log has the details; "
        "retrying will not help)",
    }
    assert "no such table" in caplog.text  # the details went to the log, not the client


# --- hero_calendar ---------------------------------------------------------------------------


def test_calendar_operations(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_calendar") as cal:
        standup = cal.result(
            "create_event",
            {"title": "Standup", "start": "2025-06-02T09:00:00Z", "end": "2025-06-02T09:15:00Z"},
        )
        review = cal.result(
            "create_event",
            {
                "title": "Review",
                "start": "2025-06-02T10:00:00+02:00",  # = 08:00Z
                "end": "2025-06-02T08:45:00",  # no zone: UTC
                "location": "Room 1",
                "attendees": ["ada@example.com"],
            },
        )
        tomorrow = cal.result(
            "create_event",
            {"title": "Lunch", "start": "2025-06-03T12:00:00Z", "end": "2025-06-03T13:00:00Z"},
        )
        assert review["start"] == "2025-06-02T08:00:00Z"
        assert review["end"] == "2025-06-02T08:45:00Z"
        assert standup == {
            "id": standup["id"],
            "title": "Standup",
            "start": "2025-06-02T09:00:00Z",
            "end": "2025-06-02T09:15:00Z",
            "location": "",
            "attendees": [],
        }
        day = cal.result("list_events", {"start": "2025-06-02", "end": "2025-06-03"})
        assert [event["title"] for event in day] == ["Review", "Standup"]
        assert len(cal.result("list_events")) == 3
        assert [e["id"] for e in cal.result("list_events", {"start": "2025-06-03"})] == [
            tomorrow["id"]
        ]
        busy = cal.result(
            "free_busy", {"start": "2025-06-02T08:30:00Z", "end": "2025-06-02T10:00:00Z"}
        )
        assert busy["busy"] == [
            {"start": "2025-06-02T08:30:00Z", "end": "2025-06-02T08:45:00Z"},
            {"start": "2025-06-02T09:00:00Z", "end": "2025-06-02T09:15:00Z"},
        ]
        assert busy["free"] == [
            {"start": "2025-06-02T08:45:00Z", "end": "2025-06-02T09:00:00Z"},
            {"start": "2025-06-02T09:15:00Z", "end": "2025-06-02T10:00:00Z"},
        ]
        slot = cal.result(
            "find_free_slot",
            {
                "start": "2025-06-02T08:00:00Z",
                "end": "2025-06-02T12:00:00Z",
                "duration_minutes": 30,
            },
        )
        assert slot == {"start": "2025-06-02T09:15:00Z", "end": "2025-06-02T09:45:00Z"}
        none_fits = {
            "start": "2025-06-02T08:00:00Z",
            "end": "2025-06-02T09:15:00Z",
            "duration_minutes": 20,
        }
        assert cal.result("find_free_slot", none_fits) is None
        moved = cal.result(
            "update_event",
            {"id": standup["id"], "start": "2025-06-02T09:30:00Z", "end": "2025-06-02T09:45:00Z"},
        )
        assert (moved["title"], moved["start"]) == ("Standup", "2025-06-02T09:30:00Z")
        renamed = cal.result(
            "update_event", {"id": review["id"], "title": "Design review", "attendees": []}
        )
        assert (renamed["location"], renamed["attendees"]) == ("Room 1", [])
        assert cal.result("get_event", {"id": review["id"]}) == renamed
        assert cal.result("delete_event", {"id": review["id"]}) is True
        assert cal.result("delete_event", {"id": review["id"]}) is False
        assert cal.result("get_event", [review["id"]]) is None


def test_calendar_declared_errors(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_calendar") as cal:
        backwards = {"title": "x", "start": "2025-06-02T10:00:00Z", "end": "2025-06-02T09:00:00Z"}
        error = cal.error("create_event", backwards)
        _assert_declared("hero_calendar", "create_event", error, 2001)
        assert "not after start" in error["message"]
        error = cal.error("update_event", {"id": 99, "title": "x"})
        _assert_declared("hero_calendar", "update_event", error, 2002)
        assert "no event with id 99" in error["message"]
        error = cal.error("free_busy", {"start": "2025-06-02", "end": "2025-06-01"})
        _assert_declared("hero_calendar", "free_busy", error, 2001)
        error = cal.error(
            "create_event", {"title": "x", "start": "tomorrow 9am", "end": "2025-06-02"}
        )
        assert error["code"] == -32602
        assert "param 'start'" in error["message"]
        assert "2025-06-02T09:00:00Z" in error["message"]


# --- hero_jobs -------------------------------------------------------------------------------


def test_jobs_lifecycle(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_jobs") as jobs:
        low = jobs.result("submit_job", {"name": "email", "payload": {"to": "ada"}})
        high = jobs.result("submit_job", {"name": "email", "priority": 5})
        other = jobs.result("submit_job", ["resize"])
        assert (low["state"], low["payload"], high["payload"]) == ("queued", {"to": "ada"}, {})
        first = jobs.result("claim_next_job", {"worker": "w1"})
        assert (first["id"], first["state"], first["worker"]) == (high["id"], "running", "w1")
        only_resize = jobs.result("claim_next_job", {"worker": "w2", "name": "resize"})
        assert only_resize["id"] == other["id"]
        done = jobs.result("complete_job", {"id": high["id"], "result": {"sent": True}})
        assert (done["state"], done["result"]) == ("done", {"sent": True})
        failed = jobs.result("fail_job", {"id": other["id"], "error": "no such file"})
        assert (failed["state"], failed["error"]) == ("failed", "no such file")
        retried = jobs.result("retry_job", {"id": other["id"]})
        assert (retried["state"], retried["worker"], retried["error"]) == ("queued", None, None)
        assert jobs.result("cancel_job", {"id": low["id"]})["state"] == "cancelled"
        assert jobs.result("count_jobs") == {
            "queued": 1,
            "running": 0,
            "done": 1,
            "failed": 0,
            "cancelled": 1,
            "total": 3,
        }
        assert [job["id"] for job in jobs.result("list_jobs", {"state": "queued"})] == [other["id"]]
        assert [job["id"] for job in jobs.result("list_jobs", {"name": "email", "limit": 1})] == [
            low["id"]
        ]
        assert jobs.result("get_job", {"id": high["id"]}) == done
        assert jobs.result("get_job", {"id": 999}) is None
        assert jobs.result("claim_next_job", {"worker": "w1", "name": "email"}) is None


def test_jobs_invalid_transitions_are_declared_errors(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_jobs") as jobs:
        job = jobs.result("submit_job", {"name": "x"})
        error = jobs.error("complete_job", {"id": job["id"]})
        _assert_declared("hero_jobs", "complete_job", error, 3002)
        assert error["data"] == {
            "id": job["id"],
            "state": "queued",
            "action": "complete",
            "allowed_from": ["running"],
        }
        assert "claim_next_job" in error["message"]
        assert jobs.result("get_job", {"id": job["id"]})["state"] == "queued"  # unchanged
        _assert_declared("hero_jobs", "retry_job", jobs.error("retry_job", [job["id"]]), 3002)
        jobs.result("cancel_job", [job["id"]])
        _assert_declared("hero_jobs", "cancel_job", jobs.error("cancel_job", [job["id"]]), 3002)
        _assert_declared("hero_jobs", "fail_job", jobs.error("fail_job", [42, "x"]), 3001)
        error = jobs.error("list_jobs", {"state": "finished"})
        assert error["code"] == -32602
        assert "'finished' is not one of" in error["message"]


# --- persistence and concurrency -------------------------------------------------------------


def test_data_survives_a_restart(short_tmp_dir: Path) -> None:
    sockets, state = short_tmp_dir / "s", short_tmp_dir / "state"
    with DemoCluster(sockets, state) as cluster:
        with _client(cluster, "hero_kv") as kv:
            kv.result("set", {"key": "kept", "value": "yes"})
        with _client(cluster, "hero_calendar") as cal:
            event = cal.result(
                "create_event", {"title": "t", "start": "2025-01-01", "end": "2025-01-02"}
            )
        with _client(cluster, "hero_jobs") as jobs:
            job = jobs.result("submit_job", {"name": "kept"})
    assert not any(sockets.iterdir())  # stopping removed every socket
    with DemoCluster(sockets, state) as cluster:
        with _client(cluster, "hero_kv") as kv:
            assert kv.result("get", {"key": "kept"}) == "yes"
        with _client(cluster, "hero_calendar") as cal:
            assert cal.result("get_event", {"id": event["id"]}) == event
            again = cal.result(
                "create_event", {"title": "u", "start": "2025-01-01", "end": "2025-01-02"}
            )
            assert again["id"] > event["id"]
        with _client(cluster, "hero_jobs") as jobs:
            assert jobs.result("get_job", {"id": job["id"]}) == job


def _in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return results


def test_twenty_concurrent_writers_lose_nothing(demo_services: DemoCluster) -> None:
    def write(index: int) -> None:
        with _client(demo_services, "hero_kv") as kv:
            for step in range(10):
                kv.result("incr", {"key": "shared"})
                kv.result("set", {"key": f"client:{index:02d}:{step}", "value": str(step)})
        with _client(demo_services, "hero_jobs") as jobs:
            for _ in range(5):
                jobs.result("submit_job", {"name": "work", "payload": {"by": index}})

    _in_parallel(20, write)
    with _client(demo_services, "hero_kv") as kv:
        assert kv.result("get", {"key": "shared"}) == "200"
        assert len(kv.result("list_keys", {"prefix": "client:", "limit": 1000})) == 200
    with _client(demo_services, "hero_jobs") as jobs:
        assert jobs.result("count_jobs")["queued"] == 100


def test_concurrent_workers_claim_each_job_exactly_once(demo_services: DemoCluster) -> None:
    with _client(demo_services, "hero_jobs") as jobs:
        submitted = {jobs.result("submit_job", {"name": "work"})["id"] for _ in range(60)}

    def drain(index: int) -> list[int]:
        claimed = []
        with _client(demo_services, "hero_jobs") as jobs:
            while (job := jobs.result("claim_next_job", {"worker": f"w{index}"})) is not None:
                claimed.append(job["id"])
                jobs.result("complete_job", {"id": job["id"]})
        return claimed

    claims = Counter(job_id for claimed in _in_parallel(20, drain) for job_id in claimed)
    assert set(claims) == submitted
    assert set(claims.values()) == {1}


def test_a_live_socket_is_not_taken_over(demo_services: DemoCluster, short_tmp_dir: Path) -> None:
    second = DemoCluster(demo_services.sockets_dir, short_tmp_dir / "other-state")
    with pytest.raises(DemoError, match="already served by another process"):
        second.start()
    with _client(demo_services, "hero_kv") as kv:  # the first one is untouched
        assert kv.result("exists", {"key": "k"}) is False


def test_socket_paths_that_are_too_long_are_refused(short_tmp_dir: Path) -> None:
    deep = short_tmp_dir / ("d" * 100)
    with pytest.raises(DemoError, match="unix sockets allow at most 107"):
        DemoCluster(deep, short_tmp_dir / "state").start()
