"""Each demo service describes itself fully and truthfully through ``rpc.discover``.

The document must satisfy the OpenRPC meta-schema strictly, document every method well
enough for a small model to use it, and its examples must hold against the live service:
the registry replays the examples of ``x-safe`` methods on a fresh service and validates the
results against the result schemas, so that is exactly what happens here.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from aibroker.demo import DEMO_SERVICES, DemoCluster
from aibroker.demo.service import load_spec
from aibroker.openrpc.validate import validate
from tests.integration.test_demo_framing import RawClient

STANDARD_CODES = range(-32768, -31999)


def _validator(document: dict[str, Any], pointer: str) -> Draft7Validator:
    """A validator for the schema at ``pointer`` whose $refs resolve inside ``document``."""
    registry: Registry[Any] = Registry().with_resource("urn:doc", DRAFT7.create_resource(document))
    return Draft7Validator({"$ref": f"urn:doc#{pointer}"}, registry=registry)


def _problems(validator: Draft7Validator, value: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(value)]


@pytest.fixture
def documents(demo_services: DemoCluster) -> dict[str, dict[str, Any]]:
    found = {}
    for name, path in demo_services.sockets.items():
        with RawClient(path) as client:
            found[name] = client.result("rpc.discover")
    return found


def test_every_demo_service_is_running(demo_services: DemoCluster) -> None:
    assert sorted(demo_services.sockets) == sorted(DEMO_SERVICES)
    assert sorted(demo_services.http_urls) == sorted(DEMO_SERVICES)
    assert all(path.is_socket() for path in demo_services.sockets.values())


@pytest.mark.parametrize("name", DEMO_SERVICES)
def test_discover_returns_a_strictly_valid_openrpc_document(
    documents: dict[str, dict[str, Any]], name: str
) -> None:
    document = documents[name]
    assert document == load_spec(name)
    assert validate(document, strict=True) == []
    assert document["openrpc"] == "1.2.6"
    assert document["info"]["title"] == name
    assert document["info"]["description"].strip()
    assert document["components"]["schemas"]


@pytest.mark.parametrize("name", DEMO_SERVICES)
def test_every_method_is_fully_documented(documents: dict[str, dict[str, Any]], name: str) -> None:
    for method in documents[name]["methods"]:
        where = f"{name}.{method['name']}"
        assert method["name"].isidentifier(), where
        assert method["summary"].strip(), where
        assert method["description"].strip(), where
        assert method["examples"], where
        assert "schema" in method["result"], where
        assert isinstance(method["errors"], list), where
        for error in method["errors"]:
            assert error["code"] not in STANDARD_CODES, where
            assert error["message"].strip(), where
        for param in method["params"]:
            assert param["description"].strip(), where
            assert "schema" in param, where
            assert isinstance(param["required"], bool), where
        # required params first, so that by-position calls can leave optional ones out
        flags = [param["required"] for param in method["params"]]
        assert flags == sorted(flags, reverse=True), where


@pytest.mark.parametrize("name", DEMO_SERVICES)
def test_examples_agree_with_their_schemas(documents: dict[str, dict[str, Any]], name: str) -> None:
    document = documents[name]
    for index, method in enumerate(document["methods"]):
        positions = {param["name"]: i for i, param in enumerate(method["params"])}
        result_schema = _validator(document, f"/methods/{index}/result/schema")
        for example in method["examples"]:
            where = f"{name}.{method['name']} example {example['name']!r}"
            for given in example["params"]:
                schema = _validator(
                    document, f"/methods/{index}/params/{positions[given['name']]}/schema"
                )
                assert _problems(schema, given["value"]) == [], where
            given_names = {given["name"] for given in example["params"]}
            required = {param["name"] for param in method["params"] if param["required"]}
            assert required <= given_names, where
            assert _problems(result_schema, example["result"]["value"]) == [], where


@pytest.mark.parametrize("name", DEMO_SERVICES)
def test_safe_examples_replayed_on_an_empty_service_give_valid_results(
    demo_services: DemoCluster, documents: dict[str, dict[str, Any]], name: str
) -> None:
    document = documents[name]
    safe = [(i, m) for i, m in enumerate(document["methods"]) if m.get("x-safe") is True]
    assert safe, f"{name} marks no method x-safe"
    with RawClient(demo_services.sockets[name]) as client:
        for index, method in safe:
            result_schema = _validator(document, f"/methods/{index}/result/schema")
            for example in method["examples"]:
                by_name = {given["name"]: given["value"] for given in example["params"]}
                result = client.result(method["name"], by_name)
                assert _problems(result_schema, result) == [], (method["name"], result)
                order = [param["name"] for param in method["params"]]
                if list(by_name) == order[: len(by_name)]:  # also replay by position
                    assert client.result(method["name"], list(by_name.values())) == result


@pytest.mark.parametrize("name", DEMO_SERVICES)
def test_side_effect_methods_are_not_marked_safe(
    documents: dict[str, dict[str, Any]], name: str
) -> None:
    writers = ("set", "delete", "incr", "create", "update", "submit", "claim", "complete")
    writers += ("fail", "cancel", "retry")
    for method in documents[name]["methods"]:
        if method["name"].startswith(writers):
            assert "x-safe" not in method, method["name"]
