"""Registry layout: safe names, atomic writes and symlink switches, temporary sweeping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aibroker.registry.errors import InvalidNameError, RegistryWriteError
from aibroker.registry.layout import (
    Layout,
    check_name,
    sweep_temporaries,
    switch_symlink,
    temporary_version_dir,
    write_json_atomic,
    write_text_atomic,
)


@pytest.mark.parametrize("name", ["hero_kv", "_x", "a1", "ethereum_json_rpc"])
def test_valid_names_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "../../etc", "a/b", ".hidden", "9lives", "Upper", "has-dash", "a.b", "x" * 65]
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError, match="not a valid service name"):
        check_name(name)


def test_layout_never_builds_paths_outside_services(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    with pytest.raises(InvalidNameError):
        layout.service_dir("../../etc")
    assert layout.service_dir("kv").parent == tmp_path / "services"


def test_switch_symlink_replaces_the_link_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    link = tmp_path / "current"
    switch_symlink(link, "v1")
    assert os.readlink(link) == "v1"
    switch_symlink(link, "v2")
    assert os.readlink(link) == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "v1", "v2"]


def test_atomic_writes_leave_only_the_target(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "a.txt", "one")
    write_text_atomic(tmp_path / "a.txt", "two")
    write_json_atomic(tmp_path / "b.json", {"z": 1, "a": 2})
    assert (tmp_path / "a.txt").read_text() == "two"
    assert (tmp_path / "b.json").read_text().index('"a"') < (tmp_path / "b.json").read_text().index(
        '"z"'
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json"]


def test_write_into_a_missing_directory_is_a_registry_write_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryWriteError, match="cannot write the registry") as caught:
        write_text_atomic(tmp_path / "missing" / "x", "data")
    assert caught.value.hint is not None
    assert "writable" in caught.value.hint


def test_versions_and_next_number_count_temporaries(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    service = layout.service_dir("kv")
    (service / "v1").mkdir(parents=True)
    (service / "v3").mkdir()
    (service / "v0").mkdir()  # not a version name
    (service / "vx").mkdir()
    temporary = temporary_version_dir(service, 7)
    assert layout.version_numbers("kv") == [1, 3]
    assert layout.next_number("kv") == 8  # a crashed writer's .v7.tmp is never reused
    switch_symlink(service / "current", "v3")
    assert layout.current_number("kv") == 3
    removed = sweep_temporaries(service)
    assert removed == [temporary]
    assert not temporary.exists()
    assert layout.next_number("kv") == 4


def test_service_names_ignore_invalid_directories(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for name in ("kv", "calendar", ".kv.removed-1", "Bad-Name"):
        (layout.services_dir / name).mkdir(parents=True)
    assert layout.service_names() == ["calendar", "kv"]
