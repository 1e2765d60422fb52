"""$ref resolution policy: OpenRPC objects inlined, named schema refs kept, the rest degraded."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aibroker.openrpc import RefError
from aibroker.openrpc.refs import resolve_refs


def _doc(methods: list[Any], **components: Any) -> dict[str, Any]:
    return {
        "openrpc": "1.3.2",
        "info": {"title": "t", "version": "1"},
        "methods": methods,
        "components": components,
    }


def _method(**fields: Any) -> dict[str, Any]:
    return {"name": "m", "params": [], **fields}


def test_content_descriptor_error_tag_example_refs_are_inlined() -> None:
    raw = _doc(
        [
            _method(
                params=[{"$ref": "#/components/contentDescriptors/A"}],
                result={"$ref": "#/components/contentDescriptors/Alias"},
                errors=[{"$ref": "#/components/errors/E"}],
                tags=[{"$ref": "#/components/tags/T"}],
                links=[{"$ref": "#/components/links/L"}],
                examples=[
                    {"$ref": "#/components/examplePairings/P"},
                    {
                        "name": "inline",
                        "params": [{"$ref": "#/components/examples/Two"}],
                        "result": {"$ref": "#/components/examples/Two"},
                    },
                ],
            )
        ],
        contentDescriptors={
            "A": {"name": "a", "schema": {"$ref": "#/components/schemas/Int"}},
            "Alias": {"$ref": "#/components/contentDescriptors/A"},  # a ref to a ref
        },
        schemas={"Int": {"type": "integer"}},
        errors={"E": {"code": 1, "message": "boom"}},
        tags={"T": {"name": "tag"}},
        links={"L": {"name": "next", "method": "m"}},
        examples={"Two": {"name": "two", "value": 2}},
        examplePairings={"P": {"name": "p", "params": [{"$ref": "#/components/examples/Two"}]}},
    )
    pristine = copy.deepcopy(raw)
    method = resolve_refs(raw).document["methods"][0]
    assert method["params"] == [{"name": "a", "schema": {"$ref": "#/components/schemas/Int"}}]
    assert method["result"]["name"] == "a"
    assert method["errors"] == [{"code": 1, "message": "boom"}]
    assert method["tags"] == [{"name": "tag"}]
    assert method["links"] == [{"name": "next", "method": "m"}]
    assert method["examples"][0] == {"name": "p", "params": [{"name": "two", "value": 2}]}
    assert method["examples"][1]["params"] == [{"name": "two", "value": 2}]
    assert method["examples"][1]["result"] == {"name": "two", "value": 2}
    assert raw == pristine  # the input is never mutated


def test_components_themselves_are_resolved() -> None:
    raw = _doc(
        [],
        contentDescriptors={
            "A": {"name": "a", "schema": {"$ref": "#/components/schemas/X/properties/y"}},
            "B": {"$ref": "#/components/contentDescriptors/A"},
        },
        schemas={"X": {"properties": {"y": {"type": "string"}}}},
    )
    components = resolve_refs(raw).document["components"]
    assert components["contentDescriptors"]["B"] == {"name": "a", "schema": {"type": "string"}}


def test_named_schema_refs_are_kept_and_deep_pointers_inlined() -> None:
    raw = _doc(
        [_method(params=[{"name": "p", "schema": {"$ref": "#/components/schemas/B"}}])],
        schemas={
            "A": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}},
            "B": {
                "type": "object",
                "properties": {
                    "id": {"$ref": "#/components/schemas/A/properties/id"},
                    "a": {"$ref": "#/components/schemas/A"},
                    "list": {"type": "array", "items": {"$ref": "#/components/schemas/A"}},
                },
            },
        },
    )
    resolved = resolve_refs(raw)
    assert resolved.warnings == ()
    b = resolved.document["components"]["schemas"]["B"]
    assert b["properties"]["id"] == {"type": "string", "format": "uuid"}
    assert b["properties"]["a"] == {"$ref": "#/components/schemas/A"}
    assert b["properties"]["list"]["items"] == {"$ref": "#/components/schemas/A"}
    param = resolved.document["methods"][0]["params"][0]
    assert param["schema"] == {"$ref": "#/components/schemas/B"}


def test_keys_beside_a_deep_pointer_are_merged_or_combined() -> None:
    base = {"title": "Status", "type": "string", "enum": ["A", "B", "C"]}
    raw = _doc(
        [],
        schemas={
            "Base": {"properties": {"status": base}},
            "Described": {"$ref": "#/components/schemas/Base/properties/status", "title": "S"},
            "Narrowed": {"$ref": "#/components/schemas/Base/properties/status", "enum": ["A"]},
            "Extended": {
                "$ref": "#/components/schemas/Base",
                "properties": {"extra": {"$ref": "#/components/schemas/Base/properties/status"}},
            },
        },
    )
    schemas = resolve_refs(raw).document["components"]["schemas"]
    assert schemas["Described"] == {**base, "title": "S"}  # annotations simply override
    assert schemas["Narrowed"] == {"allOf": [base], "enum": ["A"]}  # both constraints hold
    assert schemas["Extended"] == {
        "$ref": "#/components/schemas/Base",  # named: kept
        "properties": {"extra": base},  # its siblings resolved all the same
    }


def test_self_and_mutually_recursive_named_schemas_stay_finite() -> None:
    raw = _doc(
        [_method(result={"name": "r", "schema": {"$ref": "#/components/schemas/Node"}})],
        schemas={
            "Node": {
                "type": "object",
                "properties": {"children": {"items": {"$ref": "#/components/schemas/Node"}}},
            },
            "Ping": {"properties": {"pong": {"$ref": "#/components/schemas/Pong"}}},
            "Pong": {"properties": {"ping": {"$ref": "#/components/schemas/Ping"}}},
        },
    )
    resolved = resolve_refs(raw)
    schemas = resolved.document["components"]["schemas"]
    assert schemas["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Node"
    }
    assert schemas["Ping"]["properties"]["pong"] == {"$ref": "#/components/schemas/Pong"}
    assert schemas["Pong"]["properties"]["ping"] == {"$ref": "#/components/schemas/Ping"}
    assert resolved.warnings == ()


def test_recursive_deep_pointers_are_cut_with_a_warning() -> None:
    raw = _doc(
        [
            _method(
                params=[{"name": "p", "schema": {"$ref": "#/components/schemas/T/properties/a"}}]
            )
        ],
        schemas={
            "T": {
                "properties": {
                    "a": {
                        "type": "object",
                        "properties": {"b": {"$ref": "#/components/schemas/T/properties/b"}},
                    },
                    "b": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/T/properties/a"},
                    },
                }
            }
        },
    )
    resolved = resolve_refs(raw)
    param_schema = resolved.document["methods"][0]["params"][0]["schema"]
    # a -> b -> a: the second visit to 'a' is cut to {} (any value) instead of looping.
    assert param_schema["properties"]["b"]["type"] == "array"
    assert param_schema["properties"]["b"]["items"] == {}
    assert any(
        "method 'm'" in w and "#/components/schemas/T/properties/a" in w and "itself" in w
        for w in resolved.warnings
    )


def test_unresolvable_schema_refs_degrade_to_any_with_a_warning() -> None:
    raw = _doc(
        [
            _method(
                name="get",
                params=[
                    {"name": "a", "schema": {"$ref": "#/components/schemas/Missing"}},
                    {"name": "b", "schema": {"$ref": "https://example.com/s.json"}},
                    {"name": "c", "schema": {"items": {"$ref": "other.json#/X"}}},
                    {"name": "d", "schema": {"$ref": "#/nowhere/at/all"}},
                ],
            )
        ],
        schemas={"Ok": {"anyOf": [{"$ref": "#/components/schemas/Gone"}, {"type": "null"}]}},
    )
    resolved = resolve_refs(raw)
    params = resolved.document["methods"][0]["params"]
    assert [p["schema"] for p in params] == [{}, {}, {"items": {}}, {}]
    ok = resolved.document["components"]["schemas"]["Ok"]
    assert ok == {"anyOf": [{}, {"type": "null"}]}
    text = "\n".join(resolved.warnings)
    for ref in ("#/components/schemas/Missing", "https://example.com/s.json", "other.json#/X"):
        assert f"method 'get': schema $ref '{ref}'" in text
    assert "components.schemas.Ok: schema $ref '#/components/schemas/Gone'" in text
    assert len(resolved.warnings) == 5


def test_data_that_looks_like_a_ref_is_left_alone() -> None:
    data = {"$ref": "#/components/schemas/Nope"}
    raw = _doc(
        [
            _method(
                params=[{"name": "p", "schema": {"enum": [data], "default": data}}],
                examples=[{"name": "e", "params": [{"name": "p", "value": data}]}],
            )
        ]
    )
    resolved = resolve_refs(raw)
    method = resolved.document["methods"][0]
    assert method["params"][0]["schema"] == {"enum": [data], "default": data}
    assert method["examples"][0]["params"][0]["value"] == data
    assert resolved.warnings == ()


@pytest.mark.parametrize(
    ("method", "fragment"),
    [
        (_method(params=[{"$ref": "#/components/contentDescriptors/Nope"}]), "params[0]"),
        (_method(result={"$ref": "#/components/contentDescriptors/Nope"}), "result"),
        (_method(errors=[{"$ref": "#/components/errors/Nope"}]), "errors[0]"),
        (_method(tags=[{"$ref": "#/components/tags/Nope"}]), "tags[0]"),
        (
            _method(examples=[{"name": "x", "params": [{"$ref": "#/components/examples/Nope"}]}]),
            "examples[0].params[0]",
        ),
    ],
)
def test_missing_non_schema_refs_raise_naming_ref_and_method(
    method: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(RefError) as caught:
        resolve_refs(_doc([method]))
    message = str(caught.value)
    assert "method 'm'" in message
    assert fragment in message
    assert "/Nope'" in message
    assert "does not exist" in message


def test_external_and_cyclic_non_schema_refs_raise() -> None:
    external = _doc([_method(params=[{"$ref": "other.json#/components/contentDescriptors/A"}])])
    with pytest.raises(RefError, match="outside this document"):
        resolve_refs(external)
    cyclic = _doc(
        [_method(errors=[{"$ref": "#/components/errors/A"}])],
        errors={"A": {"$ref": "#/components/errors/B"}, "B": {"$ref": "#/components/errors/A"}},
    )
    with pytest.raises(RefError, match="reference cycle") as caught:
        resolve_refs(cyclic)
    assert "#/components/errors/A -> #/components/errors/B -> #/components/errors/A" in str(
        caught.value
    )


def test_pointer_escapes_are_decoded() -> None:
    raw = _doc(
        [
            _method(
                params=[
                    {"name": "p", "schema": {"$ref": "#/components/schemas/a~1b/properties/c%20d"}}
                ]
            )
        ],
        schemas={"a/b": {"properties": {"c d": {"type": "boolean"}}}},
    )
    resolved = resolve_refs(raw)
    assert resolved.document["methods"][0]["params"][0]["schema"] == {"type": "boolean"}
