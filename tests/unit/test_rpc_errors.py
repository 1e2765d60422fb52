"""The error hierarchy: typing by code, messages an LLM can act on, JSON-safe reports."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from aibroker.errors import AibrokerError
from aibroker.rpc import (
    ConnectError,
    EndpointError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JsonRpcError,
    MethodNotFound,
    ParseError,
    ProtocolError,
    RpcError,
    RpcTimeout,
    TransportError,
)
from aibroker.rpc.protocol import CallContext, outcome


class KeyNotFound(JsonRpcError):
    """A spec-declared error, as a generated client would declare it."""

    code = -32004


CONTEXT = CallContext(endpoint="unix:///kv.sock", service="hero_kv", errors={-32004: KeyNotFound})


def _error_reply(code: int, message: str = "m", data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": 1}


def test_hierarchy_roots_in_aibroker_error() -> None:
    for transport in (ConnectError, RpcTimeout, ProtocolError, EndpointError):
        assert issubclass(transport, TransportError)
    for reply in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError):
        assert issubclass(reply, JsonRpcError)
    assert issubclass(TransportError, RpcError)
    assert issubclass(JsonRpcError, RpcError)
    assert issubclass(RpcError, AibrokerError)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-32700, ParseError),
        (-32600, InvalidRequest),
        (-32601, MethodNotFound),
        (-32602, InvalidParams),
        (-32603, InternalError),
        (-32004, KeyNotFound),
        (-32000, JsonRpcError),
        (42, JsonRpcError),
    ],
)
def test_reply_codes_map_to_classes(code: int, cls: type[JsonRpcError]) -> None:
    error = outcome(_error_reply(code), method="kv_get", params=None, context=CONTEXT)
    assert type(error) is cls
    assert error.code == code


def test_declared_mapping_overrides_standard_classes() -> None:
    class Busy(JsonRpcError):
        code = -32603

    context = CallContext(endpoint="x", errors={-32603: Busy})
    error = outcome(_error_reply(-32603), method="m", params=None, context=context)
    assert type(error) is Busy


def test_str_is_one_actionable_line() -> None:
    error = outcome(
        _error_reply(-32004, "key not found", {"key": "a"}),
        method="kv_get",
        params={"key": "a"},
        context=CONTEXT,
    )
    assert str(error) == (
        'hero_kv.kv_get failed with JSON-RPC error -32004 \'key not found\' data={"key": "a"}'
    )
    invalid = outcome(_error_reply(-32602, "bad"), method="kv_get", params=[], context=CONTEXT)
    assert str(invalid).startswith("hero_kv.kv_get failed with JSON-RPC error -32602 'bad' (")
    assert "parameter" in str(invalid)  # the hint says what to check


def test_long_data_is_abbreviated_in_str_but_kept_whole() -> None:
    data = {"blob": "y" * 5000}
    error = JsonRpcError(-1, "too much", data, method="m")
    assert len(str(error)) < 500
    assert error.data == data
    assert error.to_dict()["data"] == data


def test_to_dict_is_json_safe_and_complete() -> None:
    class Model:
        def model_dump(self, **_: Any) -> dict[str, Any]:
            return {"key": "a"}

    error = KeyNotFound(
        -32004,
        "key not found",
        {"k": ("a", "b")},
        method="kv_get",
        params=[Model()],
        service="hero_kv",
    )
    report = error.to_dict()
    assert json.loads(json.dumps(report)) == report
    assert report == {
        "type": "KeyNotFound",
        "service": "hero_kv",
        "method": "kv_get",
        "params": [{"key": "a"}],
        "code": -32004,
        "message": "key not found",
        "data": {"k": ["a", "b"]},
    }


def test_json_rpc_errors_survive_pickling() -> None:
    error = InvalidParams(-32602, "bad", {"x": 1}, method="m", params=[1], service="s")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidParams
    assert copy.to_dict() == error.to_dict()
    assert str(copy) == str(error)


@pytest.mark.parametrize(
    "reply",
    [
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "error": "boom", "id": 1},
        {"jsonrpc": "2.0", "error": {"code": "x", "message": "m"}, "id": 1},
        {"jsonrpc": "2.0", "error": {"code": True, "message": "m"}, "id": 1},
    ],
)
def test_malformed_replies_are_protocol_errors(reply: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError, match=r"hero_kv\.kv_get"):
        outcome(reply, method="kv_get", params=None, context=CONTEXT)
