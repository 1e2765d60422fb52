"""The README's main job, ``aibroker demo``, run as a person runs it: a subprocess, its own
home, the real demo services and the real local model, every example intent in turn.

It asserts on what the demo leaves in the services (read back through the generated clients
after the run) and on the exit status, never on the model's wording. It caught a second
intent dying with "Event loop is closed" when each intent ran in its own event loop.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aibroker.cli.demo_job import EXAMPLE_INTENTS
from aibroker.demo import DemoCluster
from tests.live.conftest import MODELS_DIR, Services, fresh_home

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_the_demo_answers_every_example_intent() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (uv sync --extra local)")
    home = fresh_home("abd-live")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBROKER_")}
    env |= {"AIBROKER_HOME": str(home), "AIBROKER_MODEL_DIR": str(MODELS_DIR)}
    env |= {"AIBROKER_LLM_TEMPERATURE": "0", "NO_COLOR": "1", "COLUMNS": "120"}

    done = subprocess.run(
        [str(Path(sys.executable).parent / "aibroker"), "demo"],
        cwd=tempfile.gettempdir(),  # no .env of the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert done.stdout.count("attempts ") == len(EXAMPLE_INTENTS), done.stdout[-4000:]
    with DemoCluster(home / "demo" / "sockets", home / "demo" / "state"):  # same state again
        services = Services(home / "demo" / "sockets")
        assert services.call("hero_kv", "get", key="greeting") == "hello world"
        jobs = services.call("hero_jobs", "list_jobs")
        assert sorted(job["name"] for job in jobs) == ["build", "deploy", "test"]
        events = services.call("hero_calendar", "list_events")
        assert [(e["title"], e["start"], e["end"]) for e in events] == [
            ("Team sync", "2030-01-07T10:00:00Z", "2030-01-07T10:30:00Z")
        ]
