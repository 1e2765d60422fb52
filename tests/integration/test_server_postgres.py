"""Two server replicas sharing one real PostgreSQL: threads and history move between them.

PostgreSQL is started by the test (initdb + pg_ctl in a temp dir, unix socket only); the
test is skipped, saying why, when the server binaries are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import CalcWorld, calc_world
from tests.server_harness import adding_agent, calc_server

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not PG_BIN or not Path(PG_BIN[-1], "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries not installed (apt-get install -y postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL")
    bin_dir = Path(PG_BIN[-1])
    root = Path(tempfile.mkdtemp(prefix="ab-pg-", dir="/tmp"))
    root.chmod(0o755)
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses='' -k {root} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
             str(root / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@/postgres?host={root}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def test_two_replicas_share_threads_and_history(
    world: CalcWorld, tmp_path: Path, postgres_url: str
) -> None:
    agent_a = adding_agent(tmp_path / "a")
    agent_b = adding_agent(tmp_path / "b")
    with (
        calc_server(world, agent_a, tmp_path / "home-a", database_url=postgres_url) as a,
        calc_server(world, agent_b, tmp_path / "home-b", database_url=postgres_url) as b,
    ):
        assert httpx.get(f"{a.base_url}/info").json()["storage"] == "postgres"
        thread_id = httpx.post(f"{a.base_url}/threads", json={}).json()["thread_id"]
        first = httpx.post(
            f"{a.base_url}/threads/{thread_id}/runs/wait",
            json={"input": {"intent": "add 2 and 3"}},
            timeout=60,
        ).json()
        assert first["status"] == "success"
        # Replica B continues the thread: its rerank prompt shows A's request.
        second = httpx.post(
            f"{b.base_url}/threads/{thread_id}/runs/wait",
            json={"input": {"intent": "and again"}},
            timeout=60,
        ).json()
        assert second["status"] == "success"
        assert "Add 2 and 3." in agent_b.rerank.prompt_text(0)
        for replica in (a, b):
            runs = httpx.get(f"{replica.base_url}/runs").json()
            assert [run["intent"] for run in runs] == ["and again", "add 2 and 3"]
        state = httpx.get(f"{a.base_url}/threads/{thread_id}/state").json()
        assert len(state["values"]["history"]) == 2
    # Nothing was written to the SQLite files of either home.
    assert not (tmp_path / "home-a" / "server.sqlite").exists()
