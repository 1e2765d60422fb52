"""Reading versions back: integrity checks, failed versions, fallback, pruning."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from aibroker.openrpc import spec_hash
from aibroker.registry.layout import Layout, switch_symlink
from aibroker.registry.versions import list_versions, live_version, prune_versions

DOC: dict[str, Any] = {
    "openrpc": "1.2.6",
    "info": {"title": "kv", "version": "1.0.0"},
    "methods": [],
}


def make_version(
    layout: Layout, number: int, *, ok: bool = True, document: dict[str, Any] | None = None
) -> Path:
    """A complete version directory written by hand, as the publisher lays it out."""
    document = document or {**DOC, "info": {"title": "kv", "version": f"1.0.{number}"}}
    path = layout.version_dir("kv", number)
    path.mkdir(parents=True)
    (path / "openrpc.json").write_text(json.dumps(document, indent=2))
    (path / "spec_hash").write_text(spec_hash(document) + "\n")
    (path / "client.py").write_text("class Kv: ...\n")
    (path / "interface.py").write_text("# SERVICE: kv\n")
    (path / "card.txt").write_text("SERVICE: kv\nSUMMARY: keys\n")
    verify = {"ok": ok, "reason": None if ok else "mypy: error: boom", "checks": []}
    (path / "verify.json").write_text(json.dumps(verify))
    (path / "meta.json").write_text(json.dumps({"method_count": 0, "endpoint": "unix:///x"}))
    return path


def test_a_complete_version_is_good(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    make_version(layout, 1)
    switch_symlink(layout.service_dir("kv") / "current", "v1")
    (info,) = list_versions(layout, "kv")
    assert info.status == "ok"
    assert info.is_current
    assert info.spec_hash == spec_hash({**DOC, "info": {"title": "kv", "version": "1.0.1"}})


def test_missing_files_make_a_version_broken(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    path = make_version(layout, 1)
    (path / "client.py").unlink()
    (info,) = list_versions(layout, "kv")
    assert info.status == "broken"
    assert info.reason == "missing client.py"


def test_a_spec_that_does_not_match_its_hash_is_broken(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    path = make_version(layout, 1)
    (path / "openrpc.json").write_text(json.dumps({**DOC, "methods": [{"name": "x"}]}))
    (info,) = list_versions(layout, "kv")
    assert info.status == "broken"
    assert info.reason is not None
    assert "does not match openrpc.json" in info.reason


def test_a_truncated_spec_is_broken(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    path = make_version(layout, 1)
    (path / "openrpc.json").write_text('{"openrpc": "1.2.6", "info": {')
    (info,) = list_versions(layout, "kv")
    assert info.status == "broken"
    assert info.reason is not None
    assert "cannot be read as JSON" in info.reason


def test_failed_verification_is_reported_with_its_reason(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    make_version(layout, 1, ok=False)
    (info,) = list_versions(layout, "kv")
    assert info.status == "failed"
    assert info.reason == "mypy: error: boom"


def test_current_pointing_to_a_broken_version_falls_back_to_newest_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = Layout(tmp_path)
    make_version(layout, 1)
    make_version(layout, 2)
    make_version(layout, 3, ok=False)
    broken = make_version(layout, 4)
    (broken / "spec_hash").write_text("0" * 64)
    switch_symlink(layout.service_dir("kv") / "current", "v4")
    with caplog.at_level(logging.WARNING):
        live = live_version(layout, "kv")
    assert live is not None
    assert live.number == 2
    assert "current version v4 is broken" in caplog.text


def test_no_good_version_means_no_live_version(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    make_version(layout, 1, ok=False)
    assert live_version(layout, "kv") is None


def test_prune_keeps_the_newest_and_the_current(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for number in range(1, 8):
        make_version(layout, number)
    switch_symlink(layout.service_dir("kv") / "current", "v2")
    removed = prune_versions(layout, "kv", keep=3)
    assert removed == [1, 3, 4]
    assert layout.version_numbers("kv") == [2, 5, 6, 7]
