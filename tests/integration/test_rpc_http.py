"""Both clients against real JSON-RPC-over-HTTP servers, on loopback TCP and over http+unix."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from aibroker.rpc import (
    ConnectError,
    InternalError,
    InvalidParams,
    JsonRpcError,
    MethodNotFound,
    ProtocolError,
    RpcTimeout,
)
from tests.rpc_servers import DISCOVER_DOC, HttpServer, client_factory

Connect = Callable[..., Any]


class Overloaded(JsonRpcError):
    code = -32050


@pytest.fixture(params=["sync", "async"])
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    make, made = client_factory(request.param)
    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(params=["tcp", "unix"])
def server(request: pytest.FixtureRequest) -> Iterator[HttpServer]:
    with HttpServer(unix=request.param == "unix") as running:
        yield running


async def test_calls_by_position_and_by_name(connect: Connect, server: HttpServer) -> None:
    client = connect(server.url("/rpc"), service="calc")
    assert await client.call("add", [2, 3]) == 5
    assert await client.call("add", {"a": 1.5, "b": 1}) == 2.5
    assert json.loads(await client.call("rpc.discover")) == DISCOVER_DOC


async def test_errors_batches_and_declared_codes(connect: Connect, server: HttpServer) -> None:
    client = connect(server.url("/rpc"), service="calc", errors={-32050: Overloaded})
    with pytest.raises(MethodNotFound):
        await client.call("nope")
    with pytest.raises(InvalidParams):
        await client.call("add", [1])
    with pytest.raises(Overloaded, match=r"calc\.fail failed with JSON-RPC error -32050"):
        await client.call("fail", {"code": -32050, "message": "busy"})
    results = await client.batch([("add", [1, 1]), ("nope", []), ("echo", {"k": "v"})])
    assert results[0] == 2
    assert isinstance(results[1], MethodNotFound)
    assert results[2] == {"k": "v"}


async def test_notifications_and_chatty_servers(connect: Connect, server: HttpServer) -> None:
    client = connect(server.url("/rpc"))
    await client.notify("log", ["a"])
    chatty = connect(server.url("/chatty"))
    await chatty.notify("log", ["b"])  # answered with a body anyway: ignored
    assert await client.call("notifications") == [["log", ["a"]], ["log", ["b"]]]


async def test_json_rpc_error_with_failure_status_is_typed(
    connect: Connect, server: HttpServer
) -> None:
    client = connect(server.url("/error500"))
    with pytest.raises(InternalError, match="database is down"):
        await client.call("anything")


@pytest.mark.parametrize(("path", "match"), [("/html", "not JSON"), ("/missing", "HTTP 404")])
async def test_non_json_rpc_answers_are_protocol_errors(
    connect: Connect, server: HttpServer, path: str, match: str
) -> None:
    with pytest.raises(ProtocolError, match=match):
        await connect(server.url(path)).call("echo", [])


async def test_slow_server_times_out(connect: Connect, server: HttpServer) -> None:
    client = connect(server.url("/slow"), service="svc", timeout=0.3)
    with pytest.raises(RpcTimeout, match=r"svc\.echo: no complete reply within 0\.3 s"):
        await client.call("echo", [])


async def test_oversized_reply_is_refused(connect: Connect, server: HttpServer) -> None:
    client = connect(server.url("/rpc"), max_reply_bytes=10_000)
    assert len(await client.call("big", [5_000])) == 5_000
    with pytest.raises(ProtocolError, match="max_reply_bytes=10000"):
        await client.call("big", [50_000])


async def test_unreachable_endpoints_are_connect_errors(connect: Connect) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a port nobody listens on
    with pytest.raises(ConnectError, match="refused"):
        await connect(f"http://127.0.0.1:{port}/rpc").call("echo", [])
    with pytest.raises(ConnectError, match="no such socket") as caught:
        await connect("http+unix:///tmp/aibroker-none/x.sock/rpc").call("echo", [])
    assert caught.value.hint is not None
