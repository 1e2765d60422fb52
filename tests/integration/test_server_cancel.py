"""Cancelling runs over real HTTP: running and pending runs end ``interrupted``.

The scripted agent writes a script that sleeps, so a run is reliably executing (its script
is in the runner) when the cancel arrives; with one run slot, a second run is reliably
pending behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import CalcWorld, calc_world, code_reply, rerank_reply
from tests.server_harness import Agent, adding_agent, calc_server, scripted_agent

SLOW_SCRIPT = "import time\n\nfrom calc import Calc\n\ncalc = Calc.connect()\ntime.sleep(4)\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def slow_agent(tmp_path: Path, times: int = 1) -> Agent:
    return scripted_agent(
        tmp_path,
        [rerank_reply(["calc"], intent="Wait.") for _ in range(times)],
        [code_reply(SLOW_SCRIPT) for _ in range(times)],
    )


def wait_until(predicate: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_cancel_running_and_pending_runs(world: CalcWorld, tmp_path: Path) -> None:
    agent = slow_agent(tmp_path, times=2)
    with (
        calc_server(world, agent, tmp_path / "home", server_max_concurrent_runs=1) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        first = http.post(f"/threads/{thread_id}/runs", json={"input": {"intent": "wait"}}).json()
        second = http.post("/runs", json={"input": {"intent": "wait too"}}).json()
        wait_until(lambda: agent.runner.calls, "the first script to start")
        assert http.get(f"/runs/{second['run_id']}").json()["status"] == "pending"

        # The queued run: it never starts.
        cancelled = http.post(f"/runs/{second['run_id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "interrupted"
        assert "cancelled" in cancelled.json()["error"]

        # The running one, through the thread route the LangGraph SDK uses.
        stopped = http.post(f"/threads/{thread_id}/runs/{first['run_id']}/cancel")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "interrupted"

        # Persisted, filterable, and the thread is free again.
        listed = http.get("/runs", params={"status": "interrupted"}).json()
        assert {run["run_id"] for run in listed} == {first["run_id"], second["run_id"]}
        assert http.get(f"/threads/{thread_id}").json()["status"] == "idle"
        assert len(agent.runner.calls) == 1  # the pending run never reached the sandbox

        # Cancelling again: the run is finished, a 409 that says so.
        again = http.post(f"/runs/{first['run_id']}/cancel")
        assert again.status_code == 409
        assert "already finished with status interrupted" in again.json()["detail"]


def test_cancel_errors(world: CalcWorld, tmp_path: Path) -> None:
    with (
        calc_server(world, adding_agent(tmp_path), tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        response = http.post("/runs/wait", json={"input": {"intent": "2+3"}})
        run_id = response.headers["content-location"].rsplit("/", 1)[1]
        finished = http.post(f"/runs/{run_id}/cancel")
        assert finished.status_code == 409
        assert "already finished with status success" in finished.json()["detail"]
        assert http.get(f"/runs/{run_id}").json()["status"] == "success"  # untouched

        unknown = http.post("/runs/00000000-0000-0000-0000-000000000000/cancel")
        assert unknown.status_code == 404
        assert "not found" in unknown.json()["detail"]
        wrong_thread = http.post(f"/threads/other/runs/{run_id}/cancel")
        assert wrong_thread.status_code == 404
        assert "on thread other" in wrong_thread.json()["detail"]
        rollback = http.post(f"/runs/{run_id}/cancel", params={"action": "rollback"})
        assert rollback.status_code == 422
        assert "'interrupt'" in rollback.json()["detail"]
