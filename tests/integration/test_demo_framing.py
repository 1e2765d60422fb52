"""Hero-style framing and JSON-RPC protocol of the demo services, on real unix sockets.

Also home of :class:`RawClient`, the few-line raw socket client the other demo tests use
(written by hand so these tests do not depend on :mod:`aibroker.rpc`).
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aibroker.demo import DemoCluster
from aibroker.demo.framing import JsonStreamSplitter


class RawClient:
    """A raw JSON-RPC client: writes bytes, reads newline-terminated replies."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._buffer = b""
        self._ids = itertools.count(1)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> Any:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; unparsed: {self._buffer!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            message["params"] = params
        self.send(json.dumps(message).encode())
        response: dict[str, Any] = self.reply()
        assert response["id"] == message["id"], response
        return response

    def result(self, method: str, params: Any = None) -> Any:
        response = self.request(method, params)
        assert "error" not in response, response
        return response["result"]

    def error(self, method: str, params: Any = None) -> dict[str, Any]:
        response = self.request(method, params)
        assert "result" not in response, response
        error: dict[str, Any] = response["error"]
        return error

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _request(id_: int, method: str, params: Any = None) -> bytes:
    message = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}
    return json.dumps(message).encode()


@pytest.fixture
def kv_socket(demo_services: DemoCluster) -> Path:
    return demo_services.sockets["hero_kv"]


def test_request_without_newline_gets_a_newline_terminated_reply(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        client.send(_request(1, "exists", {"key": "nothing"}))
        raw = b""
        while not raw.endswith(b"\n"):
            raw += client.sock.recv(65536)
    assert json.loads(raw) == {"jsonrpc": "2.0", "id": 1, "result": False}


def test_two_requests_in_one_write_get_two_replies_in_order(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        client.send(
            _request(1, "set", {"key": "k", "value": "v"}) + _request(2, "get", {"key": "k"})
        )
        first, second = client.reply(), client.reply()
    assert first["id"] == 1
    assert first["result"]["value"] == "v"
    assert second == {"jsonrpc": "2.0", "id": 2, "result": "v"}


def test_request_split_across_writes_is_reassembled(kv_socket: Path) -> None:
    value = 'split "quoted" {braces} [brackets] \\ backslash é'
    payload = _request(7, "set", {"key": "split", "value": value}) + b"\n"
    with RawClient(kv_socket) as client:
        for start in range(0, len(payload), 9):
            client.send(payload[start : start + 9])
            time.sleep(0.002)  # let the server read each piece on its own
        assert client.reply()["result"]["value"] == value
        assert client.result("get", {"key": "split"}) == value


def test_connection_stays_open_for_many_requests(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        results = [client.result("incr", {"key": "n"}) for _ in range(25)]
    assert results == list(range(1, 26))


def test_reply_is_sent_after_the_client_half_closes(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        client.send(_request(3, "exists", {"key": "k"}))
        client.sock.shutdown(socket.SHUT_WR)
        assert client.reply() == {"jsonrpc": "2.0", "id": 3, "result": False}


def test_batch_answers_requests_and_skips_notifications(kv_socket: Path) -> None:
    batch = [
        {"jsonrpc": "2.0", "method": "set", "params": {"key": "b", "value": "1"}},
        {"jsonrpc": "2.0", "id": "x", "method": "get", "params": ["b"]},
        {"jsonrpc": "2.0", "id": "y", "method": "nope"},
        5,
    ]
    with RawClient(kv_socket) as client:
        client.send(json.dumps(batch).encode())
        replies = client.reply()
    assert [reply["id"] for reply in replies] == ["x", "y", None]
    assert replies[0]["result"] == "1"  # the notification before it was executed
    assert replies[1]["error"]["code"] == -32601
    assert replies[2]["error"]["code"] == -32600


def test_notifications_get_no_reply(kv_socket: Path) -> None:
    notification = {"jsonrpc": "2.0", "method": "set", "params": {"key": "n", "value": "v"}}
    with RawClient(kv_socket) as client:
        client.send(json.dumps(notification).encode())
        client.send(json.dumps([notification, notification]).encode())
        # the next reply on the wire is the one to this request: nothing came before it
        assert client.request("get", {"key": "n"})["result"] == "v"


def test_empty_batch_is_an_invalid_request(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        client.send(b"[]")
        reply = client.reply()
    assert reply["id"] is None
    assert reply["error"]["code"] == -32600


def test_parse_error_is_answered_and_the_connection_stays_usable(kv_socket: Path) -> None:
    with RawClient(kv_socket) as client:
        client.send(b'{"jsonrpc": "2.0", "id": 1, "method": tru}\n')
        reply = client.reply()
        assert reply["id"] is None
        assert reply["error"]["code"] == -32700
        assert "invalid JSON" in reply["error"]["message"]
        assert client.result("exists", {"key": "k"}) is False


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (b'{"jsonrpc": "2.0", "id": 1}', "'method' must be a string"),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "get"}', "'jsonrpc' must be"),
        (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "get"}', "'id' must be"),
        (b"42\n", "must be a JSON object"),
    ],
)
def test_malformed_requests_are_invalid_requests(
    kv_socket: Path, message: bytes, problem: str
) -> None:
    with RawClient(kv_socket) as client:
        client.send(message)
        reply = client.reply()
    assert reply["error"]["code"] == -32600
    assert problem in reply["error"]["message"]


def test_http_transport_serves_the_same_service(demo_services: DemoCluster) -> None:
    url = demo_services.http_urls["hero_kv"]
    with httpx.Client(timeout=10) as http:
        call = {"jsonrpc": "2.0", "id": 1, "method": "set", "params": {"key": "h", "value": "v"}}
        assert http.post(url, json=call).json()["result"]["key"] == "h"
        note = {"jsonrpc": "2.0", "method": "incr", "params": {"key": "c"}}
        assert http.post(url, json=note).status_code == 204
        batch = [{"jsonrpc": "2.0", "id": 2, "method": "get", "params": ["c"]}]
        assert http.post(url, json=batch).json() == [{"jsonrpc": "2.0", "id": 2, "result": "1"}]
        broken = http.post(url, content=b"{nope", headers={"content-type": "application/json"})
        assert broken.json()["error"]["code"] == -32700
        document = http.get(url + "openrpc.json").json()
        assert document["info"]["title"] == "hero_kv"
        assert http.put(url, content=b"{}").status_code == 405
    with RawClient(demo_services.sockets["hero_kv"]) as client:  # same data behind both
        assert client.result("get", {"key": "h"}) == "v"


def test_splitter_finds_every_message_whatever_the_split() -> None:
    messages: list[Any] = [{"a": 'x\\"}{[', "b": [1, {"c": "é"}]}, [1, 2], {"z": "\\"}]
    stream = b"".join(json.dumps(m, ensure_ascii=False).encode() for m in messages)
    stream += b' {"last": true}'
    expected = [*messages, {"last": True}]
    for size in range(1, 12):
        splitter = JsonStreamSplitter()
        frames = []
        for start in range(0, len(stream), size):
            frames += splitter.feed(stream[start : start + size])
        frames += splitter.finish()
        assert [frame.value for frame in frames] == expected, size
        assert all(frame.error is None for frame in frames)


def test_splitter_caps_message_size() -> None:
    splitter = JsonStreamSplitter(max_message_bytes=64)
    frames = splitter.feed(b'{"key": "' + b"x" * 100)
    assert len(frames) == 1
    assert frames[0].fatal
    assert "larger than 64 bytes" in (frames[0].error or "")
