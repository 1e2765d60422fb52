"""Version life cycle against real services: update, failed verification, rollback, pruning,
corrupted versions, and two processes publishing at once."""

from __future__ import annotations

import json
import os
import subprocess

from aibroker.registry import Registry
from aibroker.settings import Settings
from tests.integration.test_registry_servers import (  # noqa: F401  (fixtures)
    SpecHost,
    cli_command,
    cli_env,
    kv_document,
    registry_settings,
    shared_venv,
    spec_host,
)


def serve_kv(
    host: SpecHost, settings: Settings, **results: object
) -> tuple[str, dict[str, object]]:
    """Serve the tiny kv spec in the sockets dir; return its source and live document."""
    path = settings.sockets_dir / "kv.sock"
    service = host.serve(path, kv_document(), results or None)
    return f"unix://{path}", service.document


def current(settings: Settings, name: str = "tiny_kv") -> str:
    return os.readlink(settings.home / "services" / name / "current")


def test_a_changed_spec_becomes_the_next_version(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    _, document = serve_kv(spec_host, registry_settings)
    registry = Registry(registry_settings)
    assert registry.discover()[0].result == "new"
    document["info"]["description"] = "keys, values, and now a new description"
    outcome = registry.discover()[0]
    assert (outcome.result, outcome.previous, outcome.version) == ("updated", 1, 2)
    assert outcome.describe() == "tiny_kv: updated v1→v2"
    assert current(registry_settings) == "v2"
    stored = json.loads(registry.read("tiny_kv", "spec"))
    assert stored["info"]["description"] == "keys, values, and now a new description"
    assert [v.label for v in registry.versions("tiny_kv")] == ["v2", "v1"]


def test_failed_verification_keeps_the_current_version_live(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    source, document = serve_kv(spec_host, registry_settings)
    registry = Registry(registry_settings)
    registry.discover()
    service = spec_host._endpoints[0].dispatcher.service
    service.handlers = {**service.handlers, "get": lambda **_: 42}  # breaks the result schema
    document["info"]["version"] = "1.1.0"
    outcome = registry.discover()[0]
    assert (outcome.result, outcome.version, outcome.failed_version) == ("failed", 1, 2)
    assert outcome.error is not None
    assert "examples" in outcome.error
    assert "get (read a)" in outcome.error
    assert current(registry_settings) == "v1"
    failed = json.loads((registry_settings.home / "services/tiny_kv/v2/verify.json").read_text())
    assert failed["ok"] is False
    assert failed["reason"].startswith("examples: 1 example(s) failed")
    (row,) = registry.services()
    assert (row.status, row.version_label) == ("stale", "v1")
    assert [(v.label, v.status) for v in registry.versions("tiny_kv")] == [
        ("v2", "failed"),
        ("v1", "ok"),
    ]
    again = registry.discover()[0]
    assert again.result == "failed"
    assert again.error is not None
    assert "already failed verification as v2" in again.error
    assert registry_settings.home.joinpath("services/tiny_kv/v3").exists() is False
    retried = registry.register(source, force=True)
    assert (retried.result, retried.failed_version) == ("failed", 3)


def test_rollback_pins_until_a_forced_register(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    source, document = serve_kv(spec_host, registry_settings)
    registry = Registry(registry_settings)
    registry.discover()
    document["info"]["version"] = "2.0.0"
    registry.discover()
    info = registry.rollback("tiny_kv")
    assert (info.label, current(registry_settings)) == ("v1", "v1")
    assert registry.status("tiny_kv").pinned == 1
    pinned = registry.discover()[0]
    assert (pinned.result, pinned.version) == ("unchanged", 1)
    assert "pinned to v1" in pinned.warnings[0]
    assert current(registry_settings) == "v1"
    forced = registry.register(source, force=True)
    assert (forced.result, forced.version) == ("updated", 3)
    assert registry.status("tiny_kv").pinned is None
    registry.rollback("tiny_kv", 2)
    assert current(registry_settings) == "v2"


def test_only_the_last_versions_are_kept(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    settings = registry_settings.model_copy(update={"registry_keep_versions": 2})
    _, document = serve_kv(spec_host, settings)
    registry = Registry(settings)
    for minor in range(4):
        document["info"]["version"] = f"1.{minor}.0"
        assert registry.discover()[0].changed
    assert [v.label for v in registry.versions("tiny_kv")] == ["v4", "v3"]


def test_a_corrupted_current_version_is_skipped_and_replaced(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    _, document = serve_kv(spec_host, registry_settings)
    registry = Registry(registry_settings)
    registry.discover()
    document["info"]["version"] = "2.0.0"
    registry.discover()
    v2 = registry_settings.home / "services/tiny_kv/v2"
    (v2 / "openrpc.json").write_text((v2 / "openrpc.json").read_text().replace("2.0.0", "6.6.6"))
    assert registry.live("tiny_kv").label == "v1"  # readers fall back at once
    catalog_entry = registry.catalog().get("tiny_kv")
    assert catalog_entry is not None
    assert catalog_entry.client_path.parent.name == "v1"
    statuses = {v.label: v.status for v in registry.versions("tiny_kv")}
    assert statuses == {"v2": "broken", "v1": "ok"}
    outcome = registry.discover()[0]  # the service still serves 2.0.0: republished
    assert (outcome.result, outcome.previous, outcome.version) == ("updated", 1, 3)
    assert current(registry_settings) == "v3"


def test_a_half_written_version_is_ignored(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    serve_kv(spec_host, registry_settings)
    registry = Registry(registry_settings)
    registry.discover()
    service = registry_settings.home / "services/tiny_kv"
    half = service / "v2"
    half.mkdir()
    (half / "openrpc.json").write_text("{}")
    crashed = service / ".v3.tmp-999-abcd"
    crashed.mkdir()
    assert registry.live("tiny_kv").label == "v1"
    assert {v.label: v.status for v in registry.versions("tiny_kv")}["v2"] == "broken"
    assert registry.discover()[0].result == "unchanged"


def test_two_processes_discovering_at_once_publish_each_service_once(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    for index in range(3):
        document = kv_document(f"svc {index}")
        spec_host.serve(registry_settings.sockets_dir / f"s{index}.sock", document)
    env = cli_env(registry_settings)
    processes = [
        subprocess.Popen(
            cli_command("discover", "--json"), env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        stdout, _ = process.communicate(timeout=120)
        assert process.returncode == 0, stdout
        results.extend(json.loads(stdout))
    by_name: dict[str, list[str]] = {}
    for outcome in results:
        by_name.setdefault(outcome["name"], []).append(outcome["result"])
    assert {name: sorted(r) for name, r in by_name.items()} == {
        f"svc_{i}": ["new", "unchanged"] for i in range(3)
    }
    registry = Registry(registry_settings)
    for index in range(3):
        service = registry_settings.home / "services" / f"svc_{index}"
        assert sorted(p.name for p in service.iterdir()) == [
            "current",
            "source",
            "state.json",
            "v1",
        ]
        assert registry.live(f"svc_{index}").ok
