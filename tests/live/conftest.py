"""Session fixtures for the live agent tests: real model, real registry, real demo services.

One short home under /tmp (unix socket paths must fit 107 bytes) holds the registry, the
sandbox venv and the model server's run record; the model file itself comes from the
usual models directory (``~/.hero/var/aibroker/models``), pulled there with progress when it
is missing (a fresh CI machine), so nothing is downloaded twice. The three demo services are
registered once through the real :class:`~aibroker.registry.Registry`; each test then gets
them on the same sockets with a fresh, empty state directory, so tests never see each
other's keys, jobs or events. One local model server serves the whole session.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aibroker.demo import DEMO_SERVICES, DemoCluster
from aibroker.graph.builder import AgentGraph, build_graph
from aibroker.registry import Registry
from aibroker.rpc import RpcClient
from aibroker.settings import Settings, get_settings

MODELS_DIR = Path("~/.hero/var/aibroker/models").expanduser()
METRICS_FILE = Path(tempfile.gettempdir()) / "aibroker-live-agent-metrics.jsonl"


def fresh_home(name: str) -> Path:
    """``/tmp/<name>``, emptied: short (unix socket paths must fit 107 bytes) and the same on
    every machine. The sockets' paths are in the interfaces (``# ENDPOINT:``), so a random
    directory name changed the prompts' tokens and, at temperature 0, what the model wrote:
    the retry case flipped between two runs of the same code that way. Live runs are serial."""
    home = Path("/tmp") / name
    shutil.rmtree(home, ignore_errors=True)  # what a killed run left
    home.mkdir()
    return home


@dataclass
class LiveWorld:
    """What a live test needs: settings, and where services listen; figures collected."""

    settings: Settings
    home: Path
    sockets_dir: Path
    rows: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_world() -> Iterator[LiveWorld]:
    """Home, model, registered demo services and one model server for the session."""
    from aibroker.localmodel.progress import PlainProgressReporter
    from aibroker.localmodel.pull import pull_model
    from aibroker.localmodel.server import clear_record, find_running, start_server

    home = fresh_home("abl-live")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIBROKER_HOME", str(home))
        env.setenv("AIBROKER_MODEL_DIR", str(MODELS_DIR))
        env.setenv("AIBROKER_REGISTRY_VERIFY_MYPY", "false")  # compile/import/examples still run
        env.setenv("AIBROKER_LLM_TEMPERATURE", "0")
        env.delenv("AIBROKER_LLM_BASE_URL", raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        pull_model(settings, reporter=PlainProgressReporter())  # "present" when already there
        sockets_dir = home / "s"
        with DemoCluster(sockets_dir, home / "state-register"):
            registry = Registry(settings)
            for name in DEMO_SERVICES:
                outcome = registry.register(f"unix://{sockets_dir / f'{name}.sock'}")
                assert outcome.describe().startswith(f"{name}: new"), outcome.describe()
        process: subprocess.Popen[bytes] | None = None
        if find_running(settings) is None:
            process, _record = start_server(settings, on_status=print)
        world = LiveWorld(settings, home, sockets_dir)
        try:
            yield world
        finally:
            if process is not None:
                _stop(process)
                clear_record(settings, process.pid)
            get_settings.cache_clear()
            shutil.rmtree(home, ignore_errors=True)
            _report(world.rows)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group; SIGKILL it when it is still busy after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def agent(live_world: LiveWorld) -> AgentGraph:
    """A graph per test: its chat models hold HTTP clients bound to the test's event loop."""
    return build_graph(settings=live_world.settings)


@pytest.fixture
def services(live_world: LiveWorld, tmp_path: Path) -> Iterator[Services]:
    """The demo services on the registered sockets, with fresh empty databases."""
    with DemoCluster(live_world.sockets_dir, tmp_path / "state"):
        yield Services(live_world.sockets_dir)


class Services:
    """Direct JSON-RPC access to the demo services, to seed state and read it back."""

    def __init__(self, sockets_dir: Path) -> None:
        self.sockets_dir = sockets_dir

    def call(self, service: str, method: str, **params: Any) -> Any:
        with RpcClient(f"unix://{self.sockets_dir / f'{service}.sock'}") as client:
            return client.call(method, params)


def _report(rows: list[dict[str, Any]]) -> None:
    """Print the per-intent figures and append them to METRICS_FILE (one JSON per line)."""
    if not rows:
        return
    with METRICS_FILE.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True) + "\n")
    print(f"\nlive agent runs (also appended to {METRICS_FILE}):")
    print(f"{'intent':<14} {'status':<10} {'att':>3} {'llm':>3} {'in':>6} {'out':>5} {'wall s':>7}")
    for row in rows:
        print(
            f"{row['case']:<14} {row['status']:<10} {row['attempts']:>3} {row['llm_calls']:>3} "
            f"{row['input_tokens']:>6} {row['output_tokens']:>5} {row['wall_s']:>7.1f}"
        )
