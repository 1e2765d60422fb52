"""Loading documents from files, and how sources are told apart (no network needed)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from aibroker.openrpc import (
    SpecLoadError,
    SpecValidationError,
    aload_spec,
    load_raw,
    load_spec,
    spec_hash,
)
from aibroker.openrpc.loader import SourcePlan, plan_source
from tests.conftest import corpus_specs


def _corpus(name_part: str) -> Path:
    return next(p for p in corpus_specs() if name_part in p.name)


def test_load_spec_from_a_file() -> None:
    path = _corpus("petstore-openrpc")
    raw_spec, parsed = load_spec(str(path))
    assert (raw_spec.kind, raw_spec.endpoint, raw_spec.source) == ("file", None, str(path))
    assert raw_spec.raw == json.loads(path.read_text("utf-8"))
    assert parsed.spec_hash == spec_hash(raw_spec.raw)
    assert [m.name for m in parsed.document.methods] == ["list_pets", "create_pet", "get_pet"]


async def test_aload_spec_from_a_file_matches_the_sync_result() -> None:
    path = str(_corpus("simple-math"))
    raw_spec, parsed = await aload_spec(path)
    assert raw_spec.kind == "file"
    assert parsed == load_spec(path)[1]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="no such file") as caught:
        load_raw(str(tmp_path / "absent.json"))
    assert "absent.json" in str(caught.value)
    assert "unix://" in (caught.value.hint or "")


def test_a_directory_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="is a directory"):
        load_raw(str(tmp_path))


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "openrpc": "1.2.6",\n  "info": {"title": "x",}\n}\n', "utf-8")
    with pytest.raises(SpecLoadError) as caught:
        load_raw(str(path))
    message = str(caught.value)
    assert "broken.json: the document is not valid JSON" in message
    assert "line 3, column 25" in message


def test_non_utf8_and_nan_are_rejected(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"t": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(SpecLoadError, match="UTF-8"):
        load_raw(str(latin))
    nan = tmp_path / "nan.json"
    nan.write_text('{"x": NaN}', "utf-8")
    with pytest.raises(SpecLoadError, match="NaN is not a JSON value"):
        load_raw(str(nan))


def test_a_json_array_is_not_a_document(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", "utf-8")
    with pytest.raises(SpecLoadError, match="the document is a JSON array, not an object"):
        load_raw(str(path))


def test_an_object_that_is_not_openrpc_fails_validation_naming_the_source(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"name": "package", "version": "1.0.0"}', "utf-8")
    with pytest.raises(SpecValidationError) as caught:
        load_spec(str(path))
    assert str(caught.value).startswith(f"{path}: not a usable OpenRPC document")
    assert "methods: missing" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://h/api/openrpc.json", SourcePlan("http", "get", "https://h/api/openrpc.json")),
        ("http://h/spec.JSON?x=1", SourcePlan("http", "get", "http://h/spec.JSON?x=1")),
        ("http://127.0.0.1:8545", SourcePlan("http", "discover", "http://127.0.0.1:8545")),
        ("unix:///run/x.sock", SourcePlan("unix", "discover", "unix:///run/x.sock")),
        ("http+unix:///run/x.sock", SourcePlan("unix", "discover", "http+unix:///run/x.sock")),
        ("/run/zinit.sock", SourcePlan("unix", "discover", "unix:///run/zinit.sock")),
        ("/tmp/spec.json", SourcePlan("file", "read", "/tmp/spec.json")),
    ],
)
def test_plan_source(source: str, expected: SourcePlan) -> None:
    assert plan_source(source) == expected


def test_a_socket_path_without_the_sock_suffix_is_a_service(tmp_path: Path) -> None:
    path = tmp_path / "service"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        assert plan_source(str(path)) == SourcePlan("unix", "discover", f"unix://{path}")
    finally:
        server.close()


def test_relative_socket_paths_become_absolute_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert plan_source("svc.sock").location == f"unix://{tmp_path}/svc.sock"


def test_unknown_scheme() -> None:
    with pytest.raises(SpecLoadError, match="unsupported source scheme 'ftp'"):
        plan_source("ftp://h/spec.json")
