"""Generated clients on the runtime base classes: connecting, params, builtin-named methods.

A generated client is only its models, errors and RPC methods; ``connect()``, ``close()``,
the context managers and param encoding come from :mod:`aibroker.rpc.service`. These tests
run generated clients against a real JSON-RPC server on a unix socket.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aibroker.codegen import generate
from aibroker.openrpc import parse_document
from aibroker.openrpc.model import OpenRpcDocument
from aibroker.rpc import EndpointError, RpcError
from aibroker.rpc.service import ServiceClient, ServiceInfo, named, positional
from tests.conftest import REPO_ROOT

DEMO_KV = REPO_ROOT / "src" / "aibroker" / "demo" / "specs" / "hero_kv.json"

BUILTIN_NAMES_SPEC: dict[str, Any] = {
    "openrpc": "1.2.6",
    "info": {"title": "shelf", "version": "1"},
    "methods": [
        {
            "name": "set",
            "params": [
                {"name": "key", "required": True, "schema": {"type": "string"}},
                {"name": "tags", "schema": {"type": "array", "items": {"type": "string"}}},
            ],
            "result": {"name": "r", "schema": {"type": "array", "items": {"type": "string"}}},
        },
        {
            "name": "list",
            "params": [],
            "result": {"name": "r", "schema": {"type": "array", "items": {"type": "string"}}},
        },
        {
            "name": "type",
            "params": [{"name": "key", "required": True, "schema": {"type": "string"}}],
            "result": {"name": "r", "schema": {"type": "object", "additionalProperties": {}}},
        },
        {"name": "from", "params": [], "result": {"name": "r", "schema": {"type": "boolean"}}},
    ],
}


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    received: list[dict[str, Any]]


class Handler(socketserver.StreamRequestHandler):
    """One JSON request per line; the result is chosen by method name."""

    server: Server
    results: dict[str, Any] = {  # noqa: RUF012 - read-only table
        "set": ["a", "b"],
        "list": ["k1", "k2"],
        "type": {"kind": "string"},
        "from": True,
        "get": "Ada",
    }

    def handle(self) -> None:
        for line in self.rfile:
            request = json.loads(line)
            self.server.received.append(request)
            if request["method"] == "missing":
                reply = {
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "error": {"code": 1001, "message": "no"},
                }
            else:
                result = self.results.get(request["method"])
                reply = {"jsonrpc": "2.0", "id": request["id"], "result": result}
            self.wfile.write(json.dumps(reply).encode() + b"\n")


@pytest.fixture
def server(short_tmp_dir: Path) -> Iterator[tuple[str, Server]]:
    path = str(short_tmp_dir / "svc.sock")
    unix = Server(path, Handler)
    unix.received = []
    threading.Thread(target=unix.serve_forever, daemon=True).start()
    yield f"unix://{path}", unix
    unix.shutdown()
    unix.server_close()


def load_module(raw: dict[str, Any], module_name: str) -> types.ModuleType:
    generated = generate(parse_document(raw).document)
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    exec(compile(generated.client, f"{module_name}.py", "exec"), module.__dict__)
    return module


def test_generated_client_is_only_its_methods_models_and_errors() -> None:
    client = generate(OpenRpcDocument.model_validate(BUILTIN_NAMES_SPEC)).client
    assert "class Shelf(ServiceClient):" in client
    assert "class AsyncShelf(AsyncServiceClient):" in client
    for plumbing in ("def connect(", "def close(", "def __enter__(", "def __exit__(", "_json("):
        assert plumbing not in client


def test_builtin_method_names_are_kept_and_annotations_still_mean_the_types(
    server: tuple[str, Server],
) -> None:
    client = generate(OpenRpcDocument.model_validate(BUILTIN_NAMES_SPEC)).client
    assert "    def set(self, key: str, *, tags: builtins.list[str] | None = None)" in client
    assert "-> builtins.list[str]:" in client
    assert "def from_(self) -> bool:" in client  # keywords are still escaped
    module = load_module(BUILTIN_NAMES_SPEC, "probe_builtin_names")
    endpoint, unix = server
    with module.Shelf.connect(endpoint) as shelf:
        assert shelf.set("k", tags=["x"]) == ["a", "b"]
        assert shelf.list() == ["k1", "k2"]
        assert shelf.type("k") == {"kind": "string"}
        assert shelf.from_() is True
    assert [(r["method"], r.get("params")) for r in unix.received] == [
        ("set", ["k", ["x"]]),
        ("list", []),
        ("type", ["k"]),
        ("from", []),
    ]


def test_demo_kv_interface_and_client_say_set(server: tuple[str, Server]) -> None:
    raw = json.loads(DEMO_KV.read_text(encoding="utf-8"))
    generated = generate(parse_document(raw).document)
    assert generated.methods["set"] == "set"
    assert "    def set(key: str, value: str, *, ttl_seconds: float = None) -> Entry:" in (
        generated.interface
    )
    module = load_module(raw, "probe_demo_kv")
    endpoint, unix = server
    with module.HeroKv.connect(endpoint) as kv:
        assert kv.get("user:1") == "Ada"
    assert unix.received[-1]["method"] == "get"


def test_connect_resolves_argument_then_environment_then_spec(
    server: tuple[str, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _ = server

    class Kv(ServiceClient):
        _service = ServiceInfo("kv", env_var="KV_PROBE_ENDPOINT", default_endpoint=endpoint)

    monkeypatch.delenv("KV_PROBE_ENDPOINT", raising=False)
    with Kv.connect() as kv:  # the spec's server
        assert str(kv.rpc.endpoint) == endpoint
    monkeypatch.setenv("KV_PROBE_ENDPOINT", "http://127.0.0.1:9/rpc")
    with Kv.connect() as kv:  # the environment wins over the spec
        assert str(kv.rpc.endpoint) == "http://127.0.0.1:9/rpc"
    with Kv.connect(endpoint) as kv:  # the argument wins over both
        assert kv._call("get", ["a"]) == "Ada"
    assert kv.rpc._closed  # the with block closed it


def test_connect_without_any_endpoint_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Kv(ServiceClient):
        _service = ServiceInfo("kv", env_var="KV_PROBE_ENDPOINT")

    monkeypatch.delenv("KV_PROBE_ENDPOINT", raising=False)
    with pytest.raises(EndpointError) as raised:
        Kv.connect()
    assert raised.value.hint is not None
    assert "KV_PROBE_ENDPOINT" in raised.value.hint


def test_a_client_class_without_service_info_fails_clearly() -> None:
    class Orphan(ServiceClient):
        pass

    with pytest.raises(RpcError, match="does not say which service") as raised:
        Orphan.connect("unix:///tmp/nothing.sock")
    assert raised.value.hint is not None


def test_declared_errors_are_raised_as_the_service_classes(server: tuple[str, Server]) -> None:
    endpoint, _ = server
    module = load_module(json.loads(DEMO_KV.read_text(encoding="utf-8")), "probe_demo_kv_errors")
    with module.HeroKv.connect(endpoint) as kv, pytest.raises(module.ValueNotInteger) as raised:
        kv._call("missing", [])
    assert raised.value.code == 1001


def test_params_drop_unset_optionals_and_dump_models() -> None:
    class Point:
        def model_dump(self, **options: Any) -> dict[str, Any]:
            assert options == {"mode": "json", "by_alias": True, "exclude_none": True}
            return {"x": 1}

    assert positional(["a", None, None], 1) == ["a"]
    assert positional(["a", None, 3], 1) == ["a", None, 3]  # a gap is kept as null
    assert positional([Point(), [Point()]], 2) == [{"x": 1}, [{"x": 1}]]
    assert named({"a": Point()}, {"b": None, "c": 0}) == {"a": {"x": 1}, "c": 0}


@pytest.mark.slow
def test_builtin_named_clients_pass_mypy_strict(tmp_path: Path) -> None:
    for name, raw in (
        ("shelf", BUILTIN_NAMES_SPEC),
        ("hero_kv", json.loads(DEMO_KV.read_text(encoding="utf-8"))),
    ):
        source = generate(parse_document(raw).document).client
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "shelf.py", "hero_kv.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
