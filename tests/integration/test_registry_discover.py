"""Discovery against the real demo services: cold, warm, catalog, client links, mypy."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aibroker.demo import DemoCluster
from aibroker.registry import Registry, open_catalog
from aibroker.registry.typecheck import cached_verdict
from aibroker.settings import Settings
from tests.integration.test_registry_servers import (  # noqa: F401  (fixtures)
    SpecHost,
    kv_document,
    registry_settings,
    shared_venv,
    spec_host,
)

DEMO = ["hero_calendar", "hero_jobs", "hero_kv"]


def snapshot(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its modification time: proof that nothing was written."""
    return {
        str(path.relative_to(root)): path.lstat().st_mtime_ns
        for path in root.rglob("*")
        if not path.is_dir() or path.is_symlink()
    }


@pytest.fixture
def demo(registry_settings: Settings) -> Iterator[DemoCluster]:  # noqa: F811
    state = registry_settings.home.parent / "state"
    with DemoCluster(registry_settings.sockets_dir, state) as cluster:
        yield cluster


def test_cold_discovery_publishes_verified_versions(
    registry_settings: Settings,  # noqa: F811
    demo: DemoCluster,
) -> None:
    registry = Registry(registry_settings)
    outcomes = registry.discover()
    assert [(o.name, o.result, o.version) for o in outcomes] == [(name, "new", 1) for name in DEMO]
    home = registry_settings.home
    for name in DEMO:
        version = home / "services" / name / "v1"
        assert os.readlink(home / "services" / name / "current") == "v1"
        assert sorted(p.name for p in version.iterdir()) == sorted(
            [
                "openrpc.json",
                "spec_hash",
                "client.py",
                "interface.py",
                "card.txt",
                "verify.json",
                "meta.json",
            ]
        )
        verify = json.loads((version / "verify.json").read_text())
        statuses = {check["name"]: check["status"] for check in verify["checks"]}
        assert statuses == {
            "compile": "passed",
            "import": "passed",
            "mypy": "skipped",
            "discover": "passed",
            "examples": "passed",
        }
        mypy = next(c for c in verify["checks"] if c["name"] == "mypy")
        assert "registry_verify_mypy" in mypy["detail"]
        assert (home / "services" / name / "source").read_text().strip() == (
            f"unix://{demo.sockets[name]}"
        )
        link = home / "python" / "clients" / f"{name}.py"
        assert Path(os.readlink(link)) == home / "services" / name / "current" / "client.py"
        assert link.resolve() == (version / "client.py").resolve()
    replays = next(
        c
        for c in json.loads((home / "services/hero_kv/v1/verify.json").read_text())["checks"]
        if c["name"] == "examples"
    )["replays"]
    replayed = {r["method"] for r in replays}
    assert {"get", "list_keys"} <= replayed
    assert not replayed & {"set", "delete", "incr"}  # never call what may change data


def test_warm_discovery_changes_nothing_on_disk(
    registry_settings: Settings,  # noqa: F811
    demo: DemoCluster,
) -> None:
    registry = Registry(registry_settings)
    registry.discover()
    before = snapshot(registry_settings.home / "services")
    outcomes = Registry(registry_settings).discover()
    assert [(o.name, o.result, o.version) for o in outcomes] == [
        (name, "unchanged", 1) for name in DEMO
    ]
    assert snapshot(registry_settings.home / "services") == before


def test_the_catalog_serves_live_versions(
    registry_settings: Settings,  # noqa: F811
    demo: DemoCluster,
) -> None:
    Registry(registry_settings).discover()
    catalog = open_catalog(registry_settings)
    assert [entry.name for entry in catalog.entries()] == DEMO
    kv = catalog.get("hero_kv")
    assert kv is not None
    assert kv.endpoint == f"unix://{demo.sockets['hero_kv']}"
    assert kv.client_path == registry_settings.home / "services/hero_kv/v1/client.py"
    assert f"class {kv.class_name}" in kv.client_path.read_text()
    assert "get" in kv.methods
    assert kv.card.startswith("SERVICE:")
    assert "get" in catalog.method_detail("hero_kv", "get")
    assert catalog.get("nope") is None


def test_status_rows_describe_each_service(
    registry_settings: Settings,  # noqa: F811
    demo: DemoCluster,
) -> None:
    registry = Registry(registry_settings)
    registry.discover()
    rows = {row.name: row for row in registry.services()}
    assert set(rows) == set(DEMO)
    kv = rows["hero_kv"]
    assert (kv.status, kv.version_label, kv.methods) == ("ok", "v1", 7)
    assert kv.verified_at is not None
    assert registry.read("hero_kv", "spec").startswith("{")
    assert json.loads(registry.read("hero_kv", "spec"))["info"]["title"] == "hero_kv"


@pytest.mark.slow
def test_mypy_verdicts_are_recorded_and_cached_by_client_hash(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    settings = registry_settings.model_copy(update={"registry_verify_mypy": True})
    spec_host.serve(settings.sockets_dir / "kv.sock", kv_document())
    outcome = Registry(settings).discover()[0]
    assert outcome.result == "new", outcome.error
    version = settings.home / "services" / "tiny_kv" / "v1"
    mypy = next(
        c
        for c in json.loads((version / "verify.json").read_text())["checks"]
        if c["name"] == "mypy"
    )
    assert (mypy["status"], mypy["cached"]) == ("passed", False)
    client = (version / "client.py").read_bytes()
    assert cached_verdict(client, settings.home / "cache" / "mypy") is True
    second = Registry(settings).register(f"unix://{settings.sockets_dir / 'kv.sock'}", force=True)
    assert (second.result, second.version) == ("updated", 2)
    mypy = next(
        c
        for c in json.loads((version.with_name("v2") / "verify.json").read_text())["checks"]
        if c["name"] == "mypy"
    )
    assert (mypy["status"], mypy["cached"]) == ("passed", True)


def test_services_toml_adds_file_sources_with_their_endpoint(
    registry_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = tmp_path / "petstore.json"
    spec.write_text(json.dumps(kv_document("Petstore API")))
    (registry_settings.home / "services.toml").write_text(
        f'[services]\npets = {{ source = "{spec}", endpoint = "unix:///run/pets.sock" }}\n'
    )
    registry = Registry(registry_settings)
    (outcome,) = registry.discover()
    assert (outcome.name, outcome.result, outcome.source) == ("pets", "new", str(spec))
    row = registry.status("pets")
    assert (row.endpoint, row.title) == ("unix:///run/pets.sock", "Petstore API")
    verify = registry.live("pets").verify
    skipped = {c["name"]: c["detail"] for c in verify["checks"] if c["status"] == "skipped"}
    assert skipped["discover"] == skipped["examples"] == "the source is a file, not live"
    assert registry.discover()[0].result == "unchanged"


def test_discover_round_trips_through_the_generated_client_when_listed(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    document = kv_document("self describing")
    document["methods"].append(
        {
            "name": "rpc.discover",
            "params": [],
            "result": {"name": "spec", "schema": {"type": "object"}},
        }
    )
    spec_host.serve(registry_settings.sockets_dir / "sd.sock", document)
    (outcome,) = Registry(registry_settings).discover()
    assert outcome.result == "new", outcome.error
    verify = Registry(registry_settings).live("self_describing").verify
    check = next(c for c in verify["checks"] if c["name"] == "discover")
    assert check["status"] == "passed"
    assert check["detail"] == "via SelfDescribing.rpc_discover(): same document"
