"""Load and faults: many concurrent runs all complete; a killed server's run becomes error."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.fakes import CalcWorld, calc_world
from tests.server_harness import adding_agent, calc_server

CONCURRENT_RUNS = 50


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


async def test_fifty_concurrent_runs_all_complete(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path, times=CONCURRENT_RUNS)
    with calc_server(world, agent, tmp_path / "home", server_max_concurrent_runs=8) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as http:
            responses = await asyncio.gather(
                *(
                    http.post("/runs/wait", json={"input": {"intent": f"add #{index}"}})
                    for index in range(CONCURRENT_RUNS)
                )
            )
            history = (await http.get("/runs", params={"limit": 1000})).json()
    assert [response.status_code for response in responses] == [200] * CONCURRENT_RUNS
    assert all(response.json()["result"] == 5.0 for response in responses)
    assert len(history) == CONCURRENT_RUNS
    assert {run["status"] for run in history} == {"success"}
    assert sorted(run["intent"] for run in history) == sorted(
        f"add #{index}" for index in range(CONCURRENT_RUNS)
    )
    assert len(world.requests) == CONCURRENT_RUNS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(work: Path, home: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.server_process", str(work), str(home), str(port)],
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server process did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_server_killed_mid_run_shows_the_run_as_error_after_restart(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _free_port()
    base = f"http://127.0.0.1:{port}"
    first = _start(tmp_path / "first", home, port)
    try:
        run = httpx.post(f"{base}/runs", json={"input": {"intent": "sleep"}}, timeout=30).json()
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/runs/{run['run_id']}").json()["status"] != "running":
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.1)
    finally:
        _stop(first)  # SIGKILL: no shutdown hook records anything

    second = _start(tmp_path / "second", home, port)
    try:
        after = httpx.get(f"{base}/runs/{run['run_id']}").json()
    finally:
        _stop(second)
    assert after["status"] == "error"
    assert "stopped before it finished" in after["error"]
