"""Loose framing and reply collection, byte by byte, without sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aibroker.rpc import ProtocolError
from aibroker.rpc.framing import JsonStreamReader
from aibroker.rpc.protocol import CallContext, ReplyCollector

CONTEXT = CallContext(endpoint="unix:///t.sock")


def _feed_all(reader: JsonStreamReader, chunks: list[bytes]) -> list[Any]:
    values: list[Any] = []
    for chunk in chunks:
        reader.feed(chunk)
        values.extend(reader.values())
    return values


def test_values_arrive_whole_from_one_byte_chunks() -> None:
    message = {"jsonrpc": "2.0", "result": {"nested": [1, {"x": "}]"}], "ü": "日本"}, "id": 7}
    data = json.dumps(message, ensure_ascii=False).encode()
    reader = JsonStreamReader(source="t")
    values = _feed_all(reader, [data[i : i + 1] for i in range(len(data))])
    assert values == [message]  # multi-byte UTF-8 split across chunks decodes fine
    assert not reader.has_partial


def test_several_values_without_separators_in_one_chunk() -> None:
    reader = JsonStreamReader(source="t")
    values = _feed_all(reader, [b'{"id":1}{"id":2}\n[{"id":3}]  {"id":'])
    assert values == [{"id": 1}, {"id": 2}, [{"id": 3}]]
    assert reader.has_partial
    assert _feed_all(reader, [b"4}"]) == [{"id": 4}]


@pytest.mark.parametrize("data", [b"hello\n", b"  42\n", b'"a string"'])
def test_text_that_cannot_start_a_reply_is_rejected_at_once(data: bytes) -> None:
    reader = JsonStreamReader(source="unix:///t.sock")
    reader.feed(data)
    with pytest.raises(ProtocolError, match="not a JSON-RPC reply"):
        reader.values()


def test_invalid_utf8_is_rejected() -> None:
    reader = JsonStreamReader(source="unix:///t.sock")
    with pytest.raises(ProtocolError, match="not UTF-8"):
        reader.feed(b"\x00\xff\xfe")


def test_good_value_is_delivered_before_trailing_garbage_is_reported() -> None:
    reader = JsonStreamReader(source="t")
    reader.feed(b'{"id":1}\nGARBAGE')
    assert reader.values() == [{"id": 1}]
    with pytest.raises(ProtocolError):
        reader.values()


def test_progress_describes_what_arrived() -> None:
    reader = JsonStreamReader(source="t")
    assert reader.progress() == ""
    reader.feed(b'{"jsonrpc": "2.0", "res')
    assert reader.values() == []
    assert "23 undecoded characters" in reader.progress()


def test_collector_skips_strays_and_server_notifications() -> None:
    collector = ReplyCollector([5], ignore_null_id=False, context=CONTEXT)
    collector.offer({"jsonrpc": "2.0", "result": "other", "id": 4})
    collector.offer({"jsonrpc": "2.0", "method": "event", "params": {}})
    collector.offer({"jsonrpc": "2.0", "result": None, "id": None})
    assert not collector.done
    collector.offer({"jsonrpc": "2.0", "result": "mine", "id": "5"})  # echoed as a string
    assert collector.done
    assert collector.replies[5]["result"] == "mine"
    assert collector.skipped == 3


def test_collector_treats_null_id_error_as_rejection_unless_notifications_were_sent() -> None:
    rejection = {"jsonrpc": "2.0", "error": {"code": -32700, "message": "parse"}, "id": None}
    strict = ReplyCollector([1], ignore_null_id=False, context=CONTEXT)
    strict.offer(rejection)
    assert strict.done
    assert strict.rejection == rejection
    lenient = ReplyCollector([1], ignore_null_id=True, context=CONTEXT)
    lenient.offer(rejection)
    assert not lenient.done


def test_collector_gathers_a_batch_from_an_array_in_any_order() -> None:
    collector = ReplyCollector([1, 2, 3], ignore_null_id=False, context=CONTEXT)
    collector.offer([{"result": 3, "id": 3}, {"result": 1, "id": 1}])
    assert collector.missing() == [2]
    collector.offer({"result": 2, "id": 2})
    assert collector.done


@pytest.mark.parametrize("value", [[1], {"jsonrpc": "1.0", "result": 1, "id": 1}])
def test_collector_rejects_non_json_rpc_values(value: Any) -> None:
    collector = ReplyCollector([1], ignore_null_id=False, context=CONTEXT)
    with pytest.raises(ProtocolError):
        collector.offer(value)
