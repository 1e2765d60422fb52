"""``aibroker exec``: output, status line, JSON form, --allow forms and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aibroker.cli import app
from aibroker.sandbox import link_client
from tests.fakes import calc_world

runner = CliRunner()


def write(tmp_path: Path, code: str) -> str:
    script = tmp_path / "script.py"
    script.write_text(code)
    return str(script)


def test_exec_prints_output_and_mirrors_the_exit_code(aibroker_home: Path, tmp_path: Path) -> None:
    script = write(tmp_path, "import sys\nprint('hello from the sandbox')\nsys.exit(3)\n")
    outcome = runner.invoke(app, ["exec", script])
    assert outcome.exit_code == 3
    assert "hello from the sandbox" in outcome.stdout
    assert "exit=3" in outcome.stderr
    assert "isolation=" in outcome.stderr


def test_exec_json_and_allow_with_endpoint(aibroker_home: Path, tmp_path: Path) -> None:
    code = "import os\nfrom aibroker.rpc import set_result\nset_result(os.environ['KV_ENDPOINT'])\n"
    socket_path = tmp_path / "kv.sock"
    socket_path.touch()  # bound into the sandbox; never connected to here
    outcome = runner.invoke(
        app, ["exec", write(tmp_path, code), "--json", "--allow", f"kv=unix://{socket_path}"]
    )
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert data["ok"] is True
    assert data["result"] == f"unix://{socket_path}"
    assert data["failure"] is None


def test_exec_allow_registered_name_and_unknown_name(aibroker_home: Path, tmp_path: Path) -> None:
    service = aibroker_home / "services" / "kv"
    service.mkdir(parents=True)
    (service / "source").write_text("http://127.0.0.1:9/rpc\n")
    code = "import os\nprint(os.environ['KV_ENDPOINT'])\n"
    outcome = runner.invoke(app, ["exec", write(tmp_path, code), "--allow", "kv"])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.strip() == "http://127.0.0.1:9/rpc"
    missing = runner.invoke(app, ["exec", write(tmp_path, code), "--allow", "nope"])
    assert missing.exit_code == 2
    assert "not registered" in missing.stderr


def test_exec_timeout_exits_1(aibroker_home: Path, tmp_path: Path) -> None:
    outcome = runner.invoke(
        app, ["exec", write(tmp_path, "while True:\n    pass\n"), "--timeout", "1"]
    )
    assert outcome.exit_code == 1
    assert "killed_by=timeout" in outcome.stderr


def test_exec_reports_the_calls_that_succeeded(aibroker_home: Path, tmp_path: Path) -> None:
    code = "from calc import Calc\ncalc = Calc.connect()\ncalc.add(1, 2)\ncalc.divide(1, 0)\n"
    script = write(tmp_path, code)
    with calc_world(tmp_path) as world:
        entry = world.catalog.get("calc")
        assert entry is not None
        link_client(aibroker_home, "calc", entry.client_path)
        allow = ["--allow", f"calc={world.endpoint}"]
        plain = runner.invoke(app, ["exec", script, *allow])
        as_json = runner.invoke(app, ["exec", script, "--json", *allow])
    assert plain.exit_code == 1
    assert "calls=1 " in plain.stderr
    data = json.loads(as_json.stdout)
    assert data["calls"] == [{"service": "calc", "method": "add", "params": [1, 2]}]
    assert data["calls_truncated"] is False
    assert data["failure"]["method"] == "divide"
