"""The example-replay safety rule, example params, and result-schema validation."""

from __future__ import annotations

from typing import Any

import pytest

from aibroker.openrpc import parse_document
from aibroker.openrpc.model import ExamplePairing, Method
from aibroker.registry.examples import example_params, is_safe, result_problem


def method(name: str, **extra: Any) -> Method:
    data: dict[str, Any] = {"name": name, "params": [], "result": {"name": "r", "schema": {}}}
    data.update(extra)
    return Method.model_validate(data)


@pytest.mark.parametrize(
    "name",
    [
        "get",
        "get_user",
        "getUser",
        "list_keys",
        "status",
        "info",
        "version",
        "describe_job",
        "rpc.discover",
        "eth_getBalance",
        "starknet_getNonce",
        "kv.getValue",
    ],
)
def test_read_only_names_are_safe(name: str) -> None:
    assert is_safe(method(name))


@pytest.mark.parametrize(
    "name",
    [
        "set",
        "delete",
        "incr",
        "getaway",  # not the verb "get"
        "delete_list",  # a snake_case tail is not a namespaced verb
        "eth_call",
        "eth_sendRawTransaction",
        "eth_blockNumber",
        "Filecoin.ChainHead",
        "listen",
        "kv_delete",
    ],
)
def test_other_names_are_not_safe(name: str) -> None:
    assert not is_safe(method(name))


def test_explicit_flags_win_over_the_name() -> None:
    assert is_safe(method("purge", **{"x-safe": True}))
    assert is_safe(method("purge", **{"x-readonly": True}))
    assert not is_safe(method("get_and_delete", **{"x-safe": False}))


def test_notifications_are_never_replayed() -> None:
    notification = Method.model_validate({"name": "get_tick", "params": [], "x-safe": True})
    assert not is_safe(notification)


def test_example_params_by_name_and_by_position() -> None:
    pairing = ExamplePairing.model_validate(
        {"params": [{"name": "b", "value": 2}, {"name": "a", "value": 1}]}
    )
    params = [
        {"name": "a", "schema": {}},
        {"name": "b", "schema": {}},
        {"name": "c", "schema": {}},
    ]
    assert example_params(method("get", params=params), pairing) == {"b": 2, "a": 1}
    positional = method("get", params=params, paramStructure="by-position")
    assert example_params(positional, pairing) == [1, 2]


def test_positional_params_after_a_gap_cannot_be_built() -> None:
    pairing = ExamplePairing.model_validate({"params": [{"name": "b", "value": 2}]})
    params = [{"name": "a", "schema": {}}, {"name": "b", "schema": {}}]
    assert (
        example_params(method("get", params=params, paramStructure="by-position"), pairing) is None
    )


DOCUMENT = {
    "openrpc": "1.2.6",
    "info": {"title": "kv", "version": "1"},
    "methods": [
        {
            "name": "get",
            "params": [],
            "result": {"name": "entry", "schema": {"$ref": "#/components/schemas/Entry"}},
        }
    ],
    "components": {
        "schemas": {
            "Entry": {
                "type": "object",
                "required": ["key"],
                "properties": {"key": {"type": "string"}, "ttl": {"type": "number"}},
            }
        }
    },
}


def test_results_are_validated_through_named_schema_references() -> None:
    document = parse_document(DOCUMENT).document
    get = document.methods[0]
    assert result_problem(document, get, {"key": "a", "ttl": 3}) is None
    problem = result_problem(document, get, {"key": 7})
    assert problem is not None
    assert problem.startswith("result at key:")
    assert (
        result_problem(document, get, {"ttl": 1})
        == "result at (the result): 'key' is a required property"
    )
