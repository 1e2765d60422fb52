"""Bad input never stops discovery of the good services, and never leaves junk live.

One sockets directory holds a good service beside every kind of trouble: a dangling socket
path, a socket nobody listens on, a server that hangs, one that answers garbage, a reply
that is not OpenRPC, a spec with a broken ``$ref``, a title that tries path traversal, and
two services with the same title. Unwritable homes (read-only, full) get their own tests.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aibroker.registry import Outcome, Registry
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
from tests.rpc_servers import RawUnixServer


def broken_ref_document() -> dict[str, Any]:
    document = kv_document("broken ref")
    document["methods"][0]["params"] = [{"$ref": "#/components/contentDescriptors/Missing"}]
    return document


@pytest.fixture
def troubled_dir(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> Iterator[Path]:
    sockets = registry_settings.sockets_dir
    spec_host.serve(sockets / "good.sock", kv_document("good"))
    (sockets / "dangling.sock").symlink_to(sockets / "nowhere" / "x.sock")
    refusing = socket.socket(socket.AF_UNIX)
    refusing.bind(str(sockets / "refuses.sock"))  # bound, never listening: refused
    spec_host.serve(sockets / "notopenrpc.sock", {"hello": "world"}, discover_only=True)
    spec_host.serve(sockets / "brokenref.sock", broken_ref_document(), discover_only=True)
    spec_host.serve(sockets / "traversal.sock", kv_document("../../etc"))
    spec_host.serve(sockets / "twin_a.sock", kv_document("twin"))
    spec_host.serve(sockets / "twin_b.sock", kv_document("twin", description="other"))
    with RawUnixServer("hang") as hang, RawUnixServer("garbage") as garbage:
        (sockets / "hang.sock").symlink_to(hang.path)
        (sockets / "garbage.sock").symlink_to(garbage.path)
        yield sockets
    refusing.close()


def by_socket(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {Path(o.source.removeprefix("unix://")).stem: o for o in outcomes}


def test_every_bad_source_fails_alone_and_good_ones_are_published(
    registry_settings: Settings,  # noqa: F811
    troubled_dir: Path,
) -> None:
    registry = Registry(registry_settings.model_copy(update={"discover_timeout": 1.0}))
    outcomes = by_socket(registry.discover())
    assert {name: o.result for name, o in outcomes.items()} == {
        "good": "new",
        "dangling": "failed",
        "refuses": "failed",
        "hang": "failed",
        "garbage": "failed",
        "notopenrpc": "failed",
        "brokenref": "failed",
        "traversal": "new",
        "twin_a": "new",
        "twin_b": "failed",
    }

    def error(name: str) -> str:
        text = outcomes[name].error
        assert text is not None
        return text

    assert "no such" in error("dangling").lower() or "not found" in error("dangling").lower()
    assert "refused" in error("refuses").lower()
    assert "within 1 s" in error("hang") or "timed out" in error("hang").lower()
    assert "garbage" in error("garbage").lower() or "json" in error("garbage").lower()
    assert "openrpc" in error("notopenrpc").lower()
    assert "#/components/contentDescriptors/Missing" in error("brokenref")
    assert "already taken by" in error("twin_b")
    assert f"unix://{troubled_dir}/twin_a.sock" in error("twin_b")

    services = registry_settings.home / "services"
    traversal = outcomes["traversal"].name
    assert traversal is not None
    assert (services / traversal).resolve().parent == services.resolve()
    assert not (registry_settings.home.parent / "etc").exists()
    assert sorted(registry.names()) == sorted(["good", traversal, "twin"])
    assert (
        services / "twin" / "source"
    ).read_text().strip() == f"unix://{troubled_dir}/twin_a.sock"
    # nothing half-made for the failed ones
    assert not any(p.name.startswith(".") for p in services.iterdir())


def test_a_name_clash_is_stable_across_runs(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    sockets = registry_settings.sockets_dir
    spec_host.serve(sockets / "b.sock", kv_document("twin"))
    registry = Registry(registry_settings)
    assert registry.discover()[0].result == "new"
    spec_host.serve(sockets / "a.sock", kv_document("twin", description="the newcomer"))
    outcomes = by_socket(registry.discover())  # a.sock sorts first, but b owns the name
    assert (outcomes["a"].result, outcomes["b"].result) == ("failed", "unchanged")
    renamed = registry.register(str(sockets / "a.sock"), name="twin_two")
    assert (renamed.result, renamed.name) == ("new", "twin_two")
    assert registry.register(str(sockets / "a.sock"), name="twin_two").result == "unchanged"


def test_re_registering_the_same_source_is_an_update(
    registry_settings: Settings,  # noqa: F811
    spec_host: SpecHost,  # noqa: F811
) -> None:
    path = registry_settings.sockets_dir / "kv.sock"
    service = spec_host.serve(path, kv_document())
    registry = Registry(registry_settings)
    assert registry.register(str(path)).result == "new"
    assert registry.register(f"unix://{path}").result == "unchanged"
    service.document["info"]["version"] = "9"
    assert registry.register(str(path)).result == "updated"


def test_a_vanished_registered_source_is_gone_and_leaves_the_catalog(
    registry_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = tmp_path / "petstore.json"
    spec.write_text(json.dumps(kv_document("petstore")))
    registry = Registry(registry_settings)
    assert registry.register(str(spec), endpoint="unix:///tmp/petstore.sock").result == "new"
    assert registry.catalog().get("petstore") is not None
    spec.unlink()
    (outcome,) = registry.discover()
    assert (outcome.result, outcome.name) == ("gone", "petstore")
    assert registry.status("petstore").status == "gone"
    assert registry.catalog().get("petstore") is None
    assert registry.live("petstore").label == "v1"  # kept, in case it comes back


def run_cli(settings: Settings, *args: str, wrap: list[str] | None = None, **popen: Any) -> Any:
    return subprocess.run(
        [*(wrap or []), *cli_command(*args)],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **popen,
    )


@pytest.mark.bwrap
def test_a_read_only_home_is_a_clear_error_and_changes_nothing(
    registry_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = tmp_path / "svc.json"
    spec.write_text(json.dumps(kv_document("svc")))
    first = run_cli(registry_settings, "register", str(spec))
    assert first.returncode == 0, first.stderr
    spec.write_text(json.dumps(kv_document("svc", description="changed")))
    home = str(registry_settings.home)
    bwrap = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", home, home, "--"]
    probe = subprocess.run([*bwrap, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot run here: {probe.stderr!r}")
    result = run_cli(registry_settings, "register", str(spec), wrap=bwrap)
    assert result.returncode == 1
    assert "cannot write the registry" in result.stdout + result.stderr
    assert "Read-only file system" in result.stdout + result.stderr
    service = registry_settings.home / "services" / "svc"
    assert os.readlink(service / "current") == "v1"
    assert sorted(p.name for p in service.iterdir()) == ["current", "source", "state.json", "v1"]


def _small_file_limit() -> None:
    """In the child: files may not grow past 64 KiB (EFBIG, as a full disk gives ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))


def test_a_full_home_is_a_clear_error_and_leaves_nothing_half_written(
    registry_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = tmp_path / "svc.json"
    spec.write_text(json.dumps(kv_document("svc")))
    assert run_cli(registry_settings, "register", str(spec)).returncode == 0
    spec.write_text(json.dumps(kv_document("svc", description="x" * 200_000)))
    result = run_cli(registry_settings, "register", str(spec), preexec_fn=_small_file_limit)
    assert result.returncode == 1
    assert "cannot write the registry" in result.stdout + result.stderr
    assert "File too large" in result.stdout + result.stderr
    service = registry_settings.home / "services" / "svc"
    assert os.readlink(service / "current") == "v1"
    assert sorted(p.name for p in service.iterdir()) == ["current", "source", "state.json", "v1"]
    assert Registry(registry_settings).live("svc").ok
