"""Both clients against real raw Unix-socket servers, well-behaved and misbehaving."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aibroker.rpc import (
    AsyncRpcClient,
    ConnectError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JsonRpcError,
    MethodNotFound,
    ProtocolError,
    RpcClient,
    RpcError,
    RpcTimeout,
)
from tests.rpc_servers import DISCOVER_DOC, RawUnixServer, client_factory

Connect = Callable[..., Any]


class KeyNotFound(JsonRpcError):
    """A spec-declared error class, as generated clients declare them."""

    code = -32004


@pytest.fixture(params=["sync", "async"])
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    make, made = client_factory(request.param)
    yield make
    for client in made:
        await client.aclose()


@pytest.mark.parametrize(
    "behaviour",
    ["echo", "no_newline", "chunked", "stray_first", "string_ids", "reply_to_notifications"],
)
async def test_calls_by_position_and_by_name(connect: Connect, behaviour: str) -> None:
    with RawUnixServer(behaviour) as server:
        client = connect(server.endpoint, service="calc")
        assert await client.call("add", [2, 3]) == 5
        assert await client.call("add", {"a": 10, "b": -4}) == 6
        assert await client.call("echo", None) is None


async def test_unicode_and_nested_values_round_trip(connect: Connect) -> None:
    value = {"text": "héllo 日本 🚀", "nested": [{"a": [1, 2.5, None, True]}], "brace": "}]"}
    with RawUnixServer("chunked") as server:
        assert await connect(server.endpoint).call("echo", value) == value


async def test_plain_path_endpoint_means_raw_unix(connect: Connect) -> None:
    with RawUnixServer() as server:
        assert await connect(server.path).call("add", [1, 1]) == 2


async def test_kept_open_connection_is_reused(connect: Connect) -> None:
    with RawUnixServer("echo") as server:
        client = connect(server.endpoint)
        for n in range(4):
            assert await client.call("add", [n, 1]) == n + 1
        assert server.accepted == 1


@pytest.mark.parametrize("behaviour", ["read_once", "one_per_connection"])
async def test_closed_connection_is_replaced_transparently(
    connect: Connect, behaviour: str
) -> None:
    # read_once closes after replying (seen before reuse); one_per_connection reads the
    # second request and hangs up unanswered (seen only after sending): both reconnect once.
    with RawUnixServer(behaviour) as server:
        client = connect(server.endpoint)
        assert [await client.call("add", [n, n]) for n in range(3)] == [0, 2, 4]
        assert server.accepted == 3
        assert server.dispatcher.calls == 3  # nothing was executed twice


async def test_discover_document_sent_as_a_json_string(connect: Connect) -> None:
    with RawUnixServer("no_newline") as server:
        result = await connect(server.endpoint).call("rpc.discover")
        assert isinstance(result, str)
        assert json.loads(result) == DISCOVER_DOC


async def test_error_codes_become_distinct_classes(connect: Connect) -> None:
    with RawUnixServer() as server:
        client = connect(server.endpoint, service="kv", errors={-32004: KeyNotFound})
        with pytest.raises(MethodNotFound) as missing:
            await client.call("no_such_method", [])
        with pytest.raises(InvalidParams) as invalid:
            await client.call("add", {"a": 1})
        failure = {"code": -32004, "message": "key not found", "data": {"key": "a"}}
        with pytest.raises(KeyNotFound) as declared:
            await client.call("fail", failure)
        with pytest.raises(JsonRpcError) as other:
            await client.call("fail", {"code": -32099, "message": "custom"})
        with pytest.raises(InternalError):
            await client.call("fail", {"code": -32603, "message": "oops"})
    assert missing.value.code == -32601
    assert invalid.value.code == -32602
    assert invalid.value.data == {"got": [1, None]}
    assert type(other.value) is JsonRpcError
    assert other.value.code == -32099
    assert str(declared.value) == (
        'kv.fail failed with JSON-RPC error -32004 \'key not found\' data={"key": "a"}'
    )
    report = declared.value.to_dict()
    assert report["service"] == "kv"
    assert report["method"] == "fail"
    assert report["params"]["code"] == -32004
    assert report["code"] == -32004


async def test_batch_returns_results_and_errors_in_call_order(connect: Connect) -> None:
    with RawUnixServer("no_newline") as server:
        client = connect(server.endpoint, service="calc")
        results = await client.batch(
            [("add", [1, 2]), ("nope", None), ("add", {"a": 5, "b": 5}), ("add", ["x", 1])]
        )
        assert await client.batch([]) == []
    assert results[0] == 3
    assert isinstance(results[1], MethodNotFound)
    assert results[1].method == "nope"
    assert results[2] == 10
    assert isinstance(results[3], InvalidParams)
    assert results[3].params == ["x", 1]


async def test_batch_rejected_as_a_whole_raises(connect: Connect) -> None:
    with RawUnixServer("batch_unsupported") as server:
        client = connect(server.endpoint)
        with pytest.raises(InvalidRequest, match="batches are not supported"):
            await client.batch([("add", [1, 2]), ("add", [3, 4])])


async def test_notifications_reach_the_server(connect: Connect) -> None:
    with RawUnixServer() as server:
        client = connect(server.endpoint)
        await client.notify("log", {"line": "hello"})
        await client.notify("log", ["bye"])
        assert await client.call("notifications") == [["log", {"line": "hello"}], ["log", ["bye"]]]


@pytest.mark.parametrize("behaviour", ["reply_to_notifications", "read_once"])
async def test_replies_to_notifications_are_tolerated(connect: Connect, behaviour: str) -> None:
    # The server answers notifications (one with a null-id error, for an unknown method);
    # neither answer may be mistaken for the reply to the next call.
    with RawUnixServer(behaviour) as server:
        client = connect(server.endpoint)
        await client.notify("echo", [1])
        await client.notify("unknown_method", [])
        assert await client.call("add", [20, 22]) == 42
        assert await client.call("add", [1, 1]) == 2


@pytest.mark.parametrize(
    ("behaviour", "match"),
    [
        ("garbage", "not UTF-8 JSON"),
        ("early_close", "closed the connection without replying"),
        ("truncated", "in the middle of a reply"),
    ],
)
async def test_broken_replies_are_protocol_errors(
    connect: Connect, behaviour: str, match: str
) -> None:
    with RawUnixServer(behaviour) as server:
        client = connect(server.endpoint, timeout=5.0)
        with pytest.raises(ProtocolError, match=match) as caught:
            await client.call("echo", [1])
    assert server.path in str(caught.value)


async def test_silent_server_times_out(connect: Connect) -> None:
    with RawUnixServer("hang") as server:
        client = connect(server.endpoint, service="svc", timeout=0.3)
        with pytest.raises(RpcTimeout, match=r"svc\.echo: no complete reply within 0\.3 s") as t:
            await client.call("echo", [1])
    assert t.value.method == "echo"
    assert t.value.timeout == 0.3


async def test_per_call_timeout_and_recovery(connect: Connect) -> None:
    with RawUnixServer() as server:
        client = connect(server.endpoint, timeout=30.0)
        with pytest.raises(RpcTimeout, match=r"0\.3 s"):
            await client.call("sleep", [5], timeout=0.3)
        assert await client.call("add", [1, 2]) == 3  # a fresh connection after the timeout


async def test_endless_reply_is_cut_at_max_reply_bytes(connect: Connect) -> None:
    with RawUnixServer("flood") as server:
        client = connect(server.endpoint, timeout=10.0, max_reply_bytes=256 * 1024)
        with pytest.raises(ProtocolError, match="exceeds max_reply_bytes=262144"):
            await client.call("echo", [1])


async def test_large_reply_within_limit_and_oversized_one(connect: Connect) -> None:
    with RawUnixServer("echo") as server:
        client = connect(server.endpoint, max_reply_bytes=3_000_000)
        assert len(await client.call("big", [2_500_000])) == 2_500_000
        with pytest.raises(ProtocolError, match="max_reply_bytes"):
            await client.call("big", [3_500_000])
        assert await client.call("add", [1, 1]) == 2


async def test_missing_socket_is_a_connect_error(connect: Connect) -> None:
    path = "/tmp/aibroker-no-such-dir/none.sock"
    with pytest.raises(ConnectError, match="no such socket") as caught:
        await connect(f"unix://{path}").call("echo", [])
    assert path in str(caught.value)
    assert caught.value.hint is not None
    assert "running" in caught.value.hint


async def test_stale_socket_file_is_connection_refused(connect: Connect) -> None:
    directory = Path(tempfile.mkdtemp(prefix="rpc-", dir="/tmp"))
    path = directory / "stale.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens: what a crashed service leaves behind
    try:
        with pytest.raises(ConnectError, match="refused"):
            await connect(str(path)).call("echo", [])
    finally:
        shutil.rmtree(directory)


async def test_closed_client_refuses_calls(connect: Connect) -> None:
    with RawUnixServer() as server:
        client = connect(server.endpoint)
        await client.call("echo", [])
        await client.aclose()
        with pytest.raises(RpcError, match="is closed"):
            await client.call("echo", [])


async def test_unencodable_params_are_reported_before_sending(connect: Connect) -> None:
    with RawUnixServer() as server:
        client = connect(server.endpoint)
        with pytest.raises(RpcError, match="must be a list"):
            await client.call("echo", 42)
        assert server.dispatcher.calls == 0


def test_sync_client_is_safe_to_share_between_threads() -> None:
    with RawUnixServer("chunked") as server, RpcClient(server.endpoint) as client:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda n: client.call("add", [n, 1000]), range(40)))
        assert results == [n + 1000 for n in range(40)]
        assert 1 <= server.accepted <= 8  # pooled connections, at most one per thread


async def test_async_client_runs_calls_concurrently() -> None:
    with RawUnixServer("echo") as server:
        async with AsyncRpcClient(server.endpoint) as client:
            results = await asyncio.gather(*(client.call("sleep", [0.1]) for _ in range(5)))
        assert results == [0.1] * 5
        assert server.accepted == 5  # one connection per concurrent call, not queued behind a lock
        assert server.dispatcher.max_in_flight == 5  # all five were being served at once
