"""``aibroker demo up/down/status`` through the real console script, in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from aibroker.cli.commands_demo import DemoGroup
from tests.conftest import REPO_ROOT
from tests.integration.test_demo_framing import RawClient

AIBROKER = REPO_ROOT / ".venv" / "bin" / "aibroker"
SERVICES = ("hero_calendar", "hero_jobs", "hero_kv")


def _aibroker(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "AIBROKER_HOME": str(home)}
    return subprocess.run(
        [str(AIBROKER), *args], capture_output=True, text=True, env=environment, timeout=60
    )


@pytest.fixture
def dirs(short_tmp_dir: Path) -> tuple[Path, Path, Path]:
    """(sockets dir, state dir, AIBROKER_HOME) under one short temporary directory."""
    return short_tmp_dir / "s", short_tmp_dir / "state", short_tmp_dir / "home"


def test_up_detach_then_down(dirs: tuple[Path, Path, Path]) -> None:
    sockets, state, home = dirs
    where = ("--sockets-dir", str(sockets), "--state-dir", str(state))
    started = _aibroker("demo", "up", "--detach", *where, home=home)
    try:
        assert started.returncode == 0, started.stderr
        for name in SERVICES:
            assert str(sockets / f"{name}.sock") in started.stdout
        pid = json.loads((state / "demo.pid").read_text())["pid"]
        with RawClient(sockets / "hero_kv.sock") as kv:
            assert kv.result("set", {"key": "via-cli", "value": "1"})["key"] == "via-cli"

        again = _aibroker("demo", "up", "--detach", *where, home=home)
        assert again.returncode == 1
        assert f"already running (pid {pid})" in again.stderr
        assert "aibroker demo down" in again.stderr

        status = _aibroker("demo", "status", "--state-dir", str(state), home=home)
        assert status.returncode == 0
        assert f"pid {pid}" in status.stdout
    finally:
        stopped = _aibroker("demo", "down", "--state-dir", str(state), home=home)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert not any(sockets.iterdir())
    assert not (state / "demo.pid").exists()
    with pytest.raises(ProcessLookupError):
        _signal_if_alive(pid)

    not_running = _aibroker("demo", "down", "--state-dir", str(state), home=home)
    assert not_running.returncode == 0
    assert "not running" in not_running.stdout
    status = _aibroker("demo", "status", "--state-dir", str(state), home=home)
    assert status.returncode == 1
    assert "not running" in status.stdout


def test_up_in_the_foreground_stops_cleanly_on_sigint(dirs: tuple[Path, Path, Path]) -> None:
    sockets, state, home = dirs
    command = [str(AIBROKER), "demo", "up", "--sockets-dir", str(sockets)]
    command += ["--state-dir", str(state), "--http"]
    environment = {**os.environ, "AIBROKER_HOME": str(home)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment) as server:
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(5)]
            assert lines[0].strip() == "demo services listening:"
            assert "http://127.0.0.1:" in lines[3]
            with RawClient(sockets / "hero_jobs.sock") as jobs:
                assert jobs.result("count_jobs")["total"] == 0
            server.send_signal(signal.SIGINT)
            output, _ = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode == 0
    assert "sockets removed" in output
    assert not any(sockets.iterdir())
    assert not (state / "demo.pid").exists()


def test_down_after_a_crash_cleans_up_the_stale_pid_file(dirs: tuple[Path, Path, Path]) -> None:
    sockets, state, home = dirs
    started = _aibroker(
        "demo",
        "up",
        "--detach",
        "--sockets-dir",
        str(sockets),
        "--state-dir",
        str(state),
        home=home,
    )
    assert started.returncode == 0, started.stderr
    pid = json.loads((state / "demo.pid").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _is_running(pid):
        time.sleep(0.05)
    down = _aibroker("demo", "down", "--state-dir", str(state), home=home)
    assert down.returncode == 0
    assert "not running" in down.stdout
    assert not (state / "demo.pid").exists()
    assert not any(sockets.iterdir())  # the killed process's sockets are gone too
    restarted = _aibroker(
        "demo",
        "up",
        "--detach",
        "--sockets-dir",
        str(sockets),
        "--state-dir",
        str(state),
        home=home,
    )
    try:
        assert restarted.returncode == 0, restarted.stderr
    finally:
        assert _aibroker("demo", "down", "--state-dir", str(state), home=home).returncode == 0


def test_demo_group_routes_everything_but_its_subcommands_to_run() -> None:
    demo = typer.Typer(cls=DemoGroup)

    @demo.command("run")
    def run(intent: str | None = typer.Argument(None)) -> None:
        typer.echo(f"run intent={intent}")

    @demo.command("up")
    def up() -> None:
        typer.echo("up")

    runner = CliRunner()
    assert runner.invoke(demo, []).output == "run intent=None\n"
    assert runner.invoke(demo, ["how many jobs failed?"]).output == (
        "run intent=how many jobs failed?\n"
    )
    assert runner.invoke(demo, ["up"]).output == "up\n"
    assert "Commands" in runner.invoke(demo, ["--help"]).output


def test_demo_help_lists_the_service_commands(tmp_path: Path) -> None:
    result = _aibroker("demo", "--help", home=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("run", "up", "down", "status"):
        assert f" {command} " in result.stdout


def _is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is not running


def _signal_if_alive(pid: int) -> None:
    if not _is_running(pid):
        raise ProcessLookupError(pid)
    os.kill(pid, 0)
