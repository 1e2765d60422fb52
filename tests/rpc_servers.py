"""Real JSON-RPC servers for tests: well-behaved ones and ones that misbehave like real services.

Everything runs in background threads of the test process, on Unix sockets in short temporary
directories (AF_UNIX paths are limited to ~107 bytes, too short for pytest's tmp_path) or on
127.0.0.1 ephemeral ports. Servers are context managers::

    with RawUnixServer("no_newline") as server:
        RpcClient(server.endpoint).call("echo", [1])

Raw behaviours (``RawUnixServer(behaviour)``), see :data:`BEHAVIOURS`: ``echo`` (newline-
delimited, keeps the connection open), ``no_newline``, ``chunked`` (1-byte writes with tiny
sleeps), ``garbage``, ``early_close``, ``truncated``, ``hang``, ``reply_to_notifications``,
``stray_first`` (another id and a server notification before each reply), ``string_ids``,
``one_per_connection`` (a second request on a connection is dropped unanswered),
``read_once`` (one 4 KiB read, reply, close), ``flood`` (an endless value), and
``batch_unsupported``. Every server knows the methods of :class:`Dispatcher`, including
``rpc.discover`` returning the document as a JSON *string* (as zinit's jsonrpsee does).

HTTP (``HttpServer()`` on loopback, ``HttpServer(unix=True)`` for http+unix) routes by path:
``/rpc`` normal, ``/slow`` (waits 5 s), ``/error500`` (JSON-RPC error with status 500),
``/html`` (not JSON), ``/chatty`` (answers notifications with a body); others are 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aibroker.rpc import AsyncRpcClient, RpcClient

DISCOVER_DOC: dict[str, Any] = {
    "openrpc": "1.2.6",
    "info": {"title": "test service", "version": "1.0.0"},
    "methods": [{"name": "echo", "params": [], "result": {"name": "r", "schema": {}}}],
}


class _Fail(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            self.error["data"] = data


class Dispatcher:
    """The test service's methods, plus a record of notifications received."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, Any]] = []
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0  # most `sleep` calls being served at the same time
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def call(self, method: str, params: Any) -> Any:
        if method == "echo":
            return params
        if method == "add":
            if isinstance(params, dict):
                params = [params.get("a"), params.get("b")]
            if not (isinstance(params, list) and len(params) == 2):
                raise _Fail(-32602, "add takes two numbers a and b", {"got": params})
            if not all(isinstance(x, int | float) for x in params):
                raise _Fail(-32602, "add takes two numbers a and b", {"got": params})
            return params[0] + params[1]
        if method == "fail":
            raise _Fail(params["code"], params["message"], params.get("data"))
        if method == "sleep":
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.stop.wait(params[0])
            with self._lock:
                self.in_flight -= 1
            return params[0]
        if method == "notifications":
            return [[name, args] for name, args in self.notifications]
        if method == "big":
            return "x" * params[0]
        if method == "rpc.discover":
            return json.dumps(DISCOVER_DOC)
        raise _Fail(-32601, f"method {method!r} not found")

    def reply(self, request: Any, *, to_notifications: bool = False) -> dict[str, Any] | None:
        """The reply object for one request (None for a notification, unless asked)."""
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "bad"}, "id": None}
        is_notification = "id" not in request
        if is_notification:
            self.notifications.append((request["method"], request.get("params")))
            if not to_notifications:
                return None
        self.calls += 1
        try:
            result = self.call(request["method"], request.get("params"))
        except _Fail as failure:
            return {"jsonrpc": "2.0", "error": failure.error, "id": request.get("id")}
        return {"jsonrpc": "2.0", "result": result, "id": request.get("id")}

    def handle(self, value: Any, *, to_notifications: bool = False) -> Any:
        """The reply for a request or a batch (None when nothing is to be sent)."""
        if isinstance(value, list):
            replies = [self.reply(item, to_notifications=to_notifications) for item in value]
            kept = [reply for reply in replies if reply is not None]
            return kept or None
        return self.reply(value, to_notifications=to_notifications)


def _values(conn: socket.socket) -> Iterator[Any]:
    """Decode JSON values from a connection, newline or not, until EOF."""
    decoder = json.JSONDecoder()
    buffer = ""
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
        buffer += data.decode("utf-8")
        while buffer.strip():
            buffer = buffer.lstrip()
            try:
                value, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                break
            buffer = buffer[end:]
            yield value


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


Behaviour = Callable[[socket.socket, "RawUnixServer"], None]


def _serve(
    newline: bool = True, *, to_notifications: bool = False, string_ids: bool = False
) -> Behaviour:
    def behaviour(conn: socket.socket, server: RawUnixServer) -> None:
        for request in _values(conn):
            reply = server.dispatcher.handle(request, to_notifications=to_notifications)
            if reply is None:
                continue
            if string_ids and isinstance(reply, dict) and reply.get("id") is not None:
                reply["id"] = str(reply["id"])
            conn.sendall(_dump(reply) + (b"\n" if newline else b""))

    return behaviour


def _chunked(conn: socket.socket, server: RawUnixServer) -> None:
    for request in _values(conn):
        reply = server.dispatcher.handle(request)
        if reply is not None:
            for byte in _dump(reply) + b"\n":
                conn.sendall(bytes([byte]))
                time.sleep(0.0005)


def _first_request_then(action: Callable[[socket.socket, Any, RawUnixServer], None]) -> Behaviour:
    def behaviour(conn: socket.socket, server: RawUnixServer) -> None:
        for request in _values(conn):
            action(conn, request, server)
            return

    return behaviour


def _garbage(conn: socket.socket, request: Any, server: RawUnixServer) -> None:
    conn.sendall(b"\x00\xffnot json at all\n")
    server.dispatcher.stop.wait(5)


def _truncated(conn: socket.socket, request: Any, server: RawUnixServer) -> None:
    reply = _dump(server.dispatcher.handle(request))
    conn.sendall(reply[: len(reply) // 2])


def _hang(conn: socket.socket, request: Any, server: RawUnixServer) -> None:
    server.dispatcher.stop.wait(30)


def _flood(conn: socket.socket, request: Any, server: RawUnixServer) -> None:
    conn.sendall(b'{"jsonrpc": "2.0", "result": "')
    chunk = b"x" * 65536
    while not server.dispatcher.stop.is_set():
        try:
            conn.sendall(chunk)
        except OSError:
            return


def _stray_first(conn: socket.socket, server: RawUnixServer) -> None:
    for request in _values(conn):
        reply = server.dispatcher.handle(request)
        if isinstance(reply, dict):
            stray = {"jsonrpc": "2.0", "result": "not yours", "id": 1_000_000}
            event = {"jsonrpc": "2.0", "method": "event", "params": {"tick": 1}}
            conn.sendall(_dump(stray) + _dump(event) + b"\n" + _dump(reply))


def _one_per_connection(conn: socket.socket, server: RawUnixServer) -> None:
    for served, request in enumerate(_values(conn)):
        if served >= 1:
            return  # read the second request and drop the connection unanswered
        conn.sendall(_dump(server.dispatcher.handle(request)) + b"\n")


def _read_once(conn: socket.socket, server: RawUnixServer) -> None:
    data = conn.recv(4096).decode().lstrip()
    if not data:
        return
    request, _ = json.JSONDecoder().raw_decode(data)  # anything after the first value is lost
    reply = server.dispatcher.handle(request, to_notifications=True)
    if reply is not None:
        conn.sendall(_dump(reply))


def _batch_unsupported(conn: socket.socket, server: RawUnixServer) -> None:
    for request in _values(conn):
        if isinstance(request, list):
            error = {"code": -32600, "message": "batches are not supported"}
            conn.sendall(_dump({"jsonrpc": "2.0", "error": error, "id": None}) + b"\n")
        else:
            conn.sendall(_dump(server.dispatcher.handle(request)) + b"\n")


BEHAVIOURS: dict[str, Behaviour] = {
    "echo": _serve(),
    "no_newline": _serve(newline=False),
    "reply_to_notifications": _serve(to_notifications=True),
    "string_ids": _serve(string_ids=True),
    "chunked": _chunked,
    "garbage": _first_request_then(_garbage),
    "early_close": _first_request_then(lambda conn, request, server: None),
    "truncated": _first_request_then(_truncated),
    "hang": _first_request_then(_hang),
    "flood": _first_request_then(_flood),
    "stray_first": _stray_first,
    "one_per_connection": _one_per_connection,
    "read_once": _read_once,
    "batch_unsupported": _batch_unsupported,
}


class RawUnixServer:
    """A raw JSON-RPC server on a Unix socket; one thread per connection."""

    def __init__(self, behaviour: str | Behaviour = "echo") -> None:
        self.behaviour = BEHAVIOURS[behaviour] if isinstance(behaviour, str) else behaviour
        self.dispatcher = Dispatcher()
        self._dir = Path(tempfile.mkdtemp(prefix="rpc-", dir="/tmp"))
        self.path = str(self._dir / "svc.sock")
        self.endpoint = f"unix://{self.path}"
        self.accepted = 0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> RawUnixServer:
        self._listener.bind(self.path)
        self._listener.listen(16)
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispatcher.stop.set()
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):  # already closed by its handler
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # listener closed: server stopping
            self.accepted += 1
            self._connections.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.behaviour(conn, self)
        except OSError:
            pass  # the client went away mid-reply: expected in misbehaviour tests
        finally:
            conn.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def address_string(self) -> str:
        return "test-client"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        dispatcher: Dispatcher = self.server.dispatcher
        path = self.path
        if path == "/html":
            return self._send(200, b"<html>hello</html>", "text/html")
        if path == "/error500":
            error = {"code": -32603, "message": "database is down"}
            return self._send(500, _dump({"jsonrpc": "2.0", "error": error, "id": 1}))
        if path not in ("/rpc", "/slow", "/chatty"):
            return self._send(404, b"not found", "text/plain")
        if path == "/slow":
            dispatcher.stop.wait(5)
        reply = dispatcher.handle(json.loads(body), to_notifications=path == "/chatty")
        if reply is None:
            return self._send(204, b"")
        return self._send(200, _dump(reply))

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietErrors:
    """Clients that time out and hang up are expected here; don't print their tracebacks."""

    dispatcher: Dispatcher

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _TcpHandler(_Handler):
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls


class _TcpHTTPServer(_QuietErrors, http.server.ThreadingHTTPServer):
    pass


class _UnixHTTPServer(_QuietErrors, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class HttpServer:
    """A JSON-RPC over HTTP server on 127.0.0.1 (or on a Unix socket with ``unix=True``)."""

    def __init__(self, *, unix: bool = False) -> None:
        self.dispatcher = Dispatcher()
        self._dir: Path | None = None
        self._server: socketserver.BaseServer
        if unix:
            self._dir = Path(tempfile.mkdtemp(prefix="rpc-", dir="/tmp"))
            path = str(self._dir / "http.sock")
            self._server = _UnixHTTPServer(path, _Handler)
            self.base = f"http+unix://{path}"
        else:
            self._server = _TcpHTTPServer(("127.0.0.1", 0), _TcpHandler)
            self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._server.dispatcher = self.dispatcher
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/rpc") -> str:
        """The endpoint for one of the routes."""
        return self.base + path

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispatcher.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


class SyncAsAsync:
    """Drive a blocking :class:`RpcClient` from async tests (in worker threads), so one test
    body covers both client flavours: ``await client.call(...)`` works for either."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client

    async def call(self, method: str, params: Any = None, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self.client.call, method, params, **kwargs)

    async def notify(self, method: str, params: Any = None) -> None:
        await asyncio.to_thread(self.client.notify, method, params)

    async def batch(self, calls: Any, **kwargs: Any) -> list[Any]:
        return await asyncio.to_thread(self.client.batch, calls, **kwargs)

    async def aclose(self) -> None:
        self.client.close()


def client_factory(flavour: str) -> tuple[Callable[..., Any], list[Any]]:
    """A constructor for ``flavour`` ("sync" or "async") clients and the list it fills."""
    made: list[Any] = []

    def make(endpoint: str, **kwargs: Any) -> Any:
        client: Any = (
            SyncAsAsync(RpcClient(endpoint, **kwargs))
            if flavour == "sync"
            else AsyncRpcClient(endpoint, **kwargs)
        )
        made.append(client)
        return client

    return make, made
