"""Loading specs from live services: real HTTP and unix-socket servers on this machine.

The servers are deliberately small and written here, on the standard library, so these tests
exercise the real :mod:`aibroker.rpc` transports against independent server code.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aibroker.openrpc import (
    SpecLoadError,
    SpecValidationError,
    aload_spec,
    load_spec,
    spec_hash,
)
from tests.conftest import corpus_specs

ZINIT = next(p for p in corpus_specs() if "zinit" in p.name)
ZINIT_DOC: dict[str, Any] = json.loads(ZINIT.read_text("utf-8"))

POLL = 0.02
"""Seconds between the test servers' shutdown checks (the default 0.5 s slows teardown)."""

Reply = Callable[[dict[str, Any]], bytes]
"""Builds the raw bytes a server sends back for one decoded JSON-RPC request."""


def result_reply(result: Any) -> Reply:
    def reply(request: dict[str, Any]) -> bytes:
        body = {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
        return json.dumps(body).encode()

    return reply


def error_reply(code: int, message: str) -> Reply:
    def reply(request: dict[str, Any]) -> bytes:
        error = {"code": code, "message": message}
        return json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": error}).encode()

    return reply


def garbage_reply(_request: dict[str, Any]) -> bytes:
    return b"<html>this is not JSON-RPC</html>\n"


# --- a raw JSON-RPC server on a unix socket (one JSON value in, one out, no framing) --------


class _UnixHandler(socketserver.BaseRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        decoder = json.JSONDecoder()
        buffer = ""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buffer += chunk.decode()
            try:
                request, _ = decoder.raw_decode(buffer.lstrip())
            except json.JSONDecodeError:
                continue
            self.server.requests.append(request)
            self.request.sendall(self.server.reply(request))  # no newline: loose framing
            return


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        super().__init__(str(path), _UnixHandler)


@pytest.fixture
def unix_service(tmp_path: Path) -> Iterator[Callable[[Reply], tuple[Path, _UnixServer]]]:
    servers: list[_UnixServer] = []

    def start(reply: Reply) -> tuple[Path, _UnixServer]:
        path = tmp_path / f"svc{len(servers)}.sock"
        server = _UnixServer(path, reply)
        threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
        servers.append(server)
        return path, server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- an HTTP server on 127.0.0.1: GET for *.json files, POST for JSON-RPC ------------------


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_GET(self) -> None:
        if self.path == "/openrpc.json":
            self._send(200, ZINIT.read_bytes())
        else:
            self._send(404, b"not found")

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        self._send(200, self.server.routes[self.path](request))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.routes: dict[str, Reply] = {
            "/rpc": result_reply(ZINIT_DOC),
            "/rpc-string": result_reply(json.dumps(ZINIT_DOC)),
            "/rpc-error": error_reply(-32601, "Method not found"),
            "/rpc-garbage": garbage_reply,
        }
        super().__init__(("127.0.0.1", 0), _HttpHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def http_service() -> Iterator[_HttpServer]:
    server = _HttpServer()
    threading.Thread(target=server.serve_forever, args=(POLL,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# --- unix sockets ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_string", [False, True], ids=["object", "json-string"])
def test_discover_over_a_unix_socket(unix_service: Any, as_string: bool) -> None:
    result = json.dumps(ZINIT_DOC) if as_string else ZINIT_DOC
    path, server = unix_service(result_reply(result))
    raw_spec, parsed = load_spec(f"unix://{path}")
    assert server.requests[0]["method"] == "rpc.discover"
    assert (raw_spec.kind, raw_spec.endpoint) == ("unix", f"unix://{path}")
    assert raw_spec.raw == ZINIT_DOC
    assert parsed.spec_hash == spec_hash(ZINIT_DOC)
    assert "service_list" in [m.name for m in parsed.document.methods]


def test_a_plain_socket_path_is_discovered(unix_service: Any) -> None:
    path, _ = unix_service(result_reply(json.dumps(ZINIT_DOC)))
    raw_spec, _ = load_spec(str(path))
    assert (raw_spec.source, raw_spec.endpoint) == (str(path), f"unix://{path}")


async def test_async_discover_over_a_unix_socket(unix_service: Any) -> None:
    path, server = unix_service(result_reply(json.dumps(ZINIT_DOC)))
    raw_spec, parsed = await aload_spec(f"unix://{path}")
    assert server.requests[0]["method"] == "rpc.discover"
    assert raw_spec.raw == ZINIT_DOC
    assert parsed.spec_hash == spec_hash(ZINIT_DOC)


def test_dead_socket(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens
    with pytest.raises(SpecLoadError) as caught:
        load_spec(str(path), timeout=2.0)
    assert str(caught.value).startswith(f"{path}: cannot get the OpenRPC document")
    assert "running" in (caught.value.hint or "")


def test_missing_socket(tmp_path: Path) -> None:
    with pytest.raises(SpecLoadError, match="cannot get the OpenRPC document"):
        load_spec(f"unix://{tmp_path}/nobody.sock", timeout=2.0)


def test_a_socket_server_replying_garbage(unix_service: Any) -> None:
    path, _ = unix_service(garbage_reply)
    with pytest.raises(SpecLoadError, match="cannot get the OpenRPC document"):
        load_spec(f"unix://{path}", timeout=2.0)


def test_a_discover_string_that_is_not_json(unix_service: Any) -> None:
    path, _ = unix_service(result_reply("{not json"))
    with pytest.raises(SpecLoadError) as caught:
        load_spec(f"unix://{path}")
    assert "the string returned by rpc.discover is not valid JSON" in str(caught.value)


def test_a_discover_reply_that_is_not_a_document(unix_service: Any) -> None:
    path, _ = unix_service(result_reply({"hello": "world"}))
    with pytest.raises(SpecValidationError, match="methods: missing"):
        load_spec(f"unix://{path}")
    path, _ = unix_service(result_reply([1, 2]))
    with pytest.raises(SpecLoadError, match="JSON array, not an object"):
        load_spec(f"unix://{path}")


def test_a_service_without_rpc_discover(unix_service: Any) -> None:
    path, _ = unix_service(error_reply(-32601, "Method not found"))
    with pytest.raises(SpecLoadError) as caught:
        load_spec(f"unix://{path}")
    assert "answered rpc.discover with an error" in str(caught.value)
    assert "from a file" in (caught.value.hint or "")


# --- HTTP -----------------------------------------------------------------------------------


def test_get_a_json_file_over_http(http_service: _HttpServer) -> None:
    raw_spec, parsed = load_spec(f"{http_service.base}/openrpc.json")
    assert (raw_spec.kind, raw_spec.endpoint) == ("http", None)
    assert raw_spec.raw == ZINIT_DOC
    assert http_service.requests == []  # a GET, not a JSON-RPC call
    assert parsed.document.info.title == ZINIT_DOC["info"]["title"]


@pytest.mark.parametrize("route", ["/rpc", "/rpc-string"])
def test_discover_over_http(http_service: _HttpServer, route: str) -> None:
    url = f"{http_service.base}{route}"
    raw_spec, parsed = load_spec(url)
    assert http_service.requests[0]["method"] == "rpc.discover"
    assert (raw_spec.kind, raw_spec.endpoint) == ("http", url)
    assert parsed.spec_hash == spec_hash(ZINIT_DOC)


async def test_async_http_get_and_discover(http_service: _HttpServer) -> None:
    got, _ = await aload_spec(f"{http_service.base}/openrpc.json")
    discovered, _ = await aload_spec(f"{http_service.base}/rpc-string")
    assert got.raw == discovered.raw == ZINIT_DOC


def test_http_errors(http_service: _HttpServer) -> None:
    with pytest.raises(SpecLoadError, match="HTTP 404"):
        load_spec(f"{http_service.base}/missing.json")
    with pytest.raises(SpecLoadError, match=r"answered rpc\.discover with an error"):
        load_spec(f"{http_service.base}/rpc-error")
    with pytest.raises(SpecLoadError, match="cannot get the OpenRPC document"):
        load_spec(f"{http_service.base}/rpc-garbage")


def test_unreachable_http_server() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SpecLoadError, match="cannot fetch the document"):
        load_spec(f"http://127.0.0.1:{port}/openrpc.json", timeout=2.0)
    with pytest.raises(SpecLoadError, match="cannot get the OpenRPC document"):
        load_spec(f"http://127.0.0.1:{port}/rpc", timeout=2.0)


def test_the_largest_corpus_spec_over_a_unix_socket(unix_service: Any) -> None:
    """2.7 MB through rpc.discover as a JSON string, like zinit would send it."""
    path_on_disk = next(p for p in corpus_specs() if "ethereum" in p.name)
    document = json.loads(path_on_disk.read_text("utf-8"))
    socket_path, _ = unix_service(result_reply(json.dumps(document)))
    raw_spec, parsed = load_spec(str(socket_path))
    assert raw_spec.raw == document
    assert len(parsed.document.methods) == len(document["methods"])
