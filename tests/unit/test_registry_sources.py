"""Sources: canonical forms, the sockets directory scan, services.toml."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from aibroker.registry.errors import RegistryError
from aibroker.registry.sources import (
    Source,
    canonical_source,
    read_services_toml,
    scan_sockets,
)


def test_the_same_socket_written_three_ways_is_one_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = f"unix://{tmp_path}/kv.sock"
    assert canonical_source("kv.sock") == expected
    assert canonical_source(f"{tmp_path}/kv.sock") == expected
    assert canonical_source(f"unix://{tmp_path}/kv.sock") == expected


def test_files_become_absolute_and_urls_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert canonical_source("spec.json") == str(tmp_path / "spec.json")
    assert canonical_source(" http://127.0.0.1:9/rpc ") == "http://127.0.0.1:9/rpc"
    assert canonical_source("http+unix:///run/x.sock/rpc") == "http+unix:///run/x.sock/rpc"


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(RegistryError, match="unsupported source scheme"):
        canonical_source("ftp://example.org/spec.json")


def test_fallback_names_come_from_the_file_name() -> None:
    assert Source("unix:///run/hero_kv.sock", "sockets_dir").fallback_name == "hero_kv"
    assert Source("/specs/petstore.json", "explicit").fallback_name == "petstore"
    assert Source("http://h/rpc", "explicit").fallback_name is None


def test_scan_finds_only_sock_files_sorted(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "b.sock"))
    (tmp_path / "a.sock").write_text("not a socket, still a candidate: it will fail to connect")
    (tmp_path / "notes.txt").write_text("")
    try:
        found = scan_sockets(tmp_path)
    finally:
        listener.close()
    assert [s.location for s in found] == [
        f"unix://{tmp_path}/a.sock",
        f"unix://{tmp_path}/b.sock",
    ]
    assert all(s.origin == "sockets_dir" for s in found)


def test_a_missing_sockets_directory_is_empty(tmp_path: Path) -> None:
    assert scan_sockets(tmp_path / "nowhere") == []


def test_a_file_as_sockets_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(RegistryError, match="is not a directory"):
        scan_sockets(tmp_path / "f")


def test_services_toml_strings_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text(
        "[services]\n"
        'billing = "unix:///run/billing.sock"\n'
        'petstore = { source = "/specs/petstore.json", endpoint = "http://127.0.0.1:8/rpc" }\n'
    )
    billing, petstore = read_services_toml(path)
    assert billing == Source("unix:///run/billing.sock", "services_toml", "billing", None)
    assert petstore.location == os.path.abspath("/specs/petstore.json")
    assert petstore.name == "petstore"
    assert petstore.endpoint == "http://127.0.0.1:8/rpc"


def test_missing_services_toml_is_empty(tmp_path: Path) -> None:
    assert read_services_toml(tmp_path / "services.toml") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[services\n", "cannot read services.toml"),
        ('services = "x"\n', "must be a table"),
        ("[services]\nx = 3\n", "must be a source string or a table"),
        ('[services]\nx = { source = "a.json", endpoint = 1 }\n', "endpoint must be a string"),
    ],
)
def test_bad_services_toml_says_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "services.toml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=message) as caught:
        read_services_toml(path)
    assert str(path) in caught.value.message
