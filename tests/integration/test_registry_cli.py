"""The registry CLI: tables and --json, every command, exit codes, watch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aibroker.cli import app
from aibroker.registry import Registry
from aibroker.settings import Settings, get_settings
from tests.integration.test_registry_servers import (  # noqa: F401  (fixtures)
    SpecHost,
    cli_env,
    kv_document,
    registry_settings,
    shared_venv,
    spec_host,
)


@pytest.fixture
def cli(
    registry_settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> CliRunner:
    """A runner whose commands see ``registry_settings`` through the environment."""
    for key, value in cli_env(registry_settings).items():
        if key.startswith("AIBROKER_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return CliRunner()


@pytest.fixture
def served(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> SpecHost:
    spec_host.serve(registry_settings.sockets_dir / "kv.sock", kv_document())
    spec_host.serve(registry_settings.sockets_dir / "notes.sock", kv_document("notes"))
    return spec_host


def test_discover_table_then_json(cli: CliRunner, served: SpecHost) -> None:
    first = cli.invoke(app, ["discover"])
    assert first.exit_code == 0, first.output
    for word in ("name", "result", "version", "methods", "tiny_kv", "notes", "new", "v1"):
        assert word in first.output
    second = cli.invoke(app, ["discover", "--json"])
    assert second.exit_code == 0, second.output
    rows = json.loads(second.stdout)
    assert [(r["name"], r["result"], r["version"], r["methods"]) for r in rows] == [
        ("tiny_kv", "unchanged", "v1", 2),
        ("notes", "unchanged", "v1", 2),
    ]


def test_discover_exits_1_when_a_source_fails(
    cli: CliRunner,
    served: SpecHost,
    registry_settings: Settings,  # noqa: F811
) -> None:
    (registry_settings.sockets_dir / "dead.sock").write_text("")
    result = cli.invoke(app, ["discover", "--json"])
    assert result.exit_code == 1
    failed = [r for r in json.loads(result.stdout) if r["result"] == "failed"]
    assert [Path(r["source"]).name for r in failed] == ["dead.sock"]


def test_services_interface_client_spec_versions(cli: CliRunner, served: SpecHost) -> None:
    cli.invoke(app, ["discover"])
    table = cli.invoke(app, ["services"])
    assert table.exit_code == 0
    for word in ("endpoint", "status", "last verified", "tiny_kv", "ok"):
        assert word in table.output
    rows = json.loads(cli.invoke(app, ["services", "--json"]).stdout)
    assert {r["name"]: (r["version"], r["status"]) for r in rows} == {
        "notes": ("v1", "ok"),
        "tiny_kv": ("v1", "ok"),
    }
    registry = Registry(get_settings())
    assert cli.invoke(app, ["interface", "tiny_kv"]).stdout == registry.read("tiny_kv", "interface")
    assert cli.invoke(app, ["client", "tiny_kv"]).stdout == registry.read("tiny_kv", "client")
    assert json.loads(cli.invoke(app, ["spec", "tiny_kv"]).stdout)["info"]["title"] == "tiny kv"
    versions = json.loads(cli.invoke(app, ["versions", "tiny_kv", "--json"]).stdout)
    assert [(v["version"], v["status"], v["current"]) for v in versions] == [("v1", "ok", True)]


def test_unknown_service_exits_2_and_lists_known_ones(cli: CliRunner, served: SpecHost) -> None:
    cli.invoke(app, ["discover"])
    for command in (["interface", "nope"], ["versions", "nope"], ["rollback", "nope"]):
        result = cli.invoke(app, command)
        assert result.exit_code == 2
        assert "no service named 'nope'" in result.output
        assert "known services: notes, tiny_kv" in result.output


def test_register_rollback_unregister(
    cli: CliRunner,
    served: SpecHost,
    registry_settings: Settings,  # noqa: F811
) -> None:
    socket = str(registry_settings.sockets_dir / "kv.sock")
    assert cli.invoke(app, ["register", socket]).output.strip() == "tiny_kv: new v1"
    assert cli.invoke(app, ["register", socket]).output.strip() == "tiny_kv: unchanged v1"
    forced = cli.invoke(app, ["register", socket, "--force", "--json"])
    assert json.loads(forced.stdout)["result"] == "updated"
    no_older = cli.invoke(app, ["rollback", "tiny_kv", "v9"])
    assert no_older.exit_code == 2
    assert "has no version v9" in no_older.output
    rolled = cli.invoke(app, ["rollback", "tiny_kv"])
    assert rolled.output.strip() == "tiny_kv: current is now v1"
    assert cli.invoke(app, ["rollback", "tiny_kv", "x"]).exit_code == 2
    gone = cli.invoke(app, ["unregister", "tiny_kv"])
    assert gone.output.strip() == "tiny_kv: unregistered"
    assert not (registry_settings.home / "services" / "tiny_kv").exists()
    assert not (registry_settings.home / "python" / "clients" / "tiny_kv.py").is_symlink()
    assert cli.invoke(app, ["interface", "tiny_kv"]).exit_code == 2


def test_register_a_clash_exits_1(
    cli: CliRunner,
    served: SpecHost,
    registry_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    cli.invoke(app, ["discover"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps(kv_document("notes", description="another notes")))
    result = cli.invoke(app, ["register", str(other)])
    assert result.exit_code == 1
    assert "already taken by" in result.output
    assert "--name OTHER" in result.output


def test_watch_reports_changes_once(cli: CliRunner, served: SpecHost) -> None:
    result = cli.invoke(app, ["watch", "--interval", "0.1", "--cycles", "3"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines == [
        "tiny_kv: new v1",
        "notes: new v1",
        "tiny_kv: unchanged v1",
        "notes: unchanged v1",
    ]


async def test_watch_logs_updates_and_gone_services(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = registry_settings.sockets_dir / "kv.sock"
    service = spec_host.serve(path, kv_document())
    registry = Registry(registry_settings)
    cycles: list[list[str]] = []

    def on_cycle(outcomes: list[object]) -> None:
        cycles.append([o.describe() for o in outcomes])  # type: ignore[attr-defined]
        if len(cycles) == 1:
            service.document["info"]["version"] = "2"
        if len(cycles) == 2:
            spec_host.close_socket(path)

    with caplog.at_level(logging.INFO, logger="aibroker.registry"):
        await registry.awatch(0.05, on_cycle=on_cycle, cycles=4)
    assert cycles == [
        ["tiny_kv: new v1"],
        ["tiny_kv: updated v1→v2"],
        [f"tiny_kv: gone (unix://{path})"],
        [f"tiny_kv: gone (unix://{path})"],
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "aibroker.registry.watch"]
    assert logged == [
        "watch: tiny_kv: new v1",
        "watch: tiny_kv: updated v1→v2",
        f"watch: tiny_kv: gone (unix://{path})",
    ]
