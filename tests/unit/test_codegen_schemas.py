"""JSON Schema → Python types: each construct the generator supports, checked on real output."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from pydantic import ValidationError

from aibroker.codegen import generate
from aibroker.codegen.plan import ServicePlan, plan_service
from aibroker.openrpc.model import OpenRpcDocument


def document(result: Any, schemas: dict[str, Any] | None = None, **method: Any) -> OpenRpcDocument:
    return OpenRpcDocument.model_validate(
        {
            "openrpc": "1.2.6",
            "info": {"title": "probe", "version": "1"},
            "methods": [
                {"name": "probe", "params": [], "result": {"name": "result", "schema": result}}
                | method
            ],
            "components": {"schemas": schemas or {}},
        }
    )


def result_type(result: Any, schemas: dict[str, Any] | None = None) -> str:
    plan = plan_service(document(result, schemas))
    assert plan.methods[0].result is not None
    return plan.methods[0].result.text


def load_client(doc: OpenRpcDocument, module_name: str = "probe_client") -> types.ModuleType:
    """Execute the generated client as a real module (it must import cleanly)."""
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    exec(compile(generate(doc).client, f"{module_name}.py", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date-time", "pattern": "^x"}, "str"),
        ({"type": "integer"}, "int"),
        ({"type": "number"}, "float"),
        ({"type": "boolean"}, "bool"),
        ({"type": "null"}, "None"),
        ({}, "Any"),
        (True, "Any"),
        ({"enum": ["a", "b", None]}, 'Literal["a", "b"] | None'),
        ({"const": 3}, "Literal[3]"),
        ({"enum": [1.5, 2.5], "type": "number"}, "float"),
        ({"type": ["string", "null"]}, "str | None"),
        ({"type": "integer", "nullable": True}, "int | None"),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "str | int"),
        ({"anyOf": [{"type": "string"}, {}]}, "Any"),
        ({"type": "array", "items": {"type": "string"}}, "list[str]"),
        ({"type": "array"}, "list[Any]"),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "dict[str, int]"),
        ({"type": "object"}, "dict[str, Any]"),
    ],
)
def test_scalar_and_container_mapping(schema: Any, expected: str) -> None:
    assert result_type(schema) == expected


def test_components_become_models_aliases_or_expansions() -> None:
    schemas = {
        "Pet": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        "Color": {"enum": ["red", "green"]},
        "Hash": {"type": "string", "pattern": "^0x"},
        "PetOrHash": {
            "oneOf": [{"$ref": "#/components/schemas/Pet"}, {"$ref": "#/components/schemas/Hash"}]
        },
    }
    assert result_type({"$ref": "#/components/schemas/Pet"}, schemas) == "Pet"
    assert result_type({"$ref": "#/components/schemas/Color"}, schemas) == "Color"
    assert result_type({"$ref": "#/components/schemas/Hash"}, schemas) == "str"
    assert result_type({"$ref": "#/components/schemas/PetOrHash"}, schemas) == "PetOrHash"
    plan = plan_service(document({"$ref": "#/components/schemas/PetOrHash"}, schemas))
    assert [(a.name, a.type.text) for a in plan.aliases] == [("PetOrHash", "Pet | str")]


def test_inline_objects_are_named_and_deduplicated() -> None:
    address = {"type": "object", "properties": {"street": {"type": "string"}}}
    person = {
        "type": "object",
        "properties": {
            "home": address,
            "work": dict(address, description="differs only in annotations"),
            "named": {
                "title": "Office place",
                "type": "object",
                "properties": {"x": {"type": "integer"}},
            },
        },
    }
    plan = plan_service(document(person))
    assert plan.methods[0].result is not None
    assert plan.methods[0].result.text == "ProbeResult"
    models = {m.name: m for m in plan.models}
    assert set(models) == {"ProbeResult", "ProbeResultHome", "OfficePlace"}
    fields = {f.json_name: f.type.text for f in models["ProbeResult"].fields}
    assert fields == {"home": "ProbeResultHome", "work": "ProbeResultHome", "named": "OfficePlace"}


def test_all_of_merges_objects() -> None:
    schemas = {"A": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}
    merged = {
        "allOf": [
            {"$ref": "#/components/schemas/A"},
            {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}},
        ]
    }
    plan = plan_service(document(merged, schemas))
    model = next(m for m in plan.models if m.name == "ProbeResult")
    assert [(f.json_name, f.required) for f in model.fields] == [("a", True), ("b", False)]


def test_all_of_a_named_base_becomes_inheritance() -> None:
    schemas = {
        "Base": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "User": {
            "allOf": [{"$ref": "#/components/schemas/Base"}],
            "properties": {"name": {"type": "string"}},
        },
    }
    module = load_client(document({"$ref": "#/components/schemas/User"}, schemas), "probe_inherit")
    user = module._RESULT_0.validate_python({"id": 1, "name": "ada"})
    assert isinstance(user, module.Base)
    assert (user.id, user.name) == (1, "ada")


def test_recursive_models_validate_nested_data() -> None:
    schemas = {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            },
            "required": ["name"],
        }
    }
    module = load_client(document({"$ref": "#/components/schemas/Node"}, schemas), "probe_tree")
    tree = module._RESULT_0.validate_python(
        {"name": "a", "children": [{"name": "b", "children": []}]}
    )
    assert tree.children[0].name == "b"
    with pytest.raises(ValidationError):
        module._RESULT_0.validate_python({"children": []})


def test_alias_only_cycles_degrade_to_any() -> None:
    schemas = {
        "Json": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
            ]
        }
    }
    plan = plan_service(document({"$ref": "#/components/schemas/Json"}, schemas))
    assert [(a.name, a.type.text) for a in plan.aliases] == [("Json", "str | list[Any]")]


def test_property_names_that_are_not_identifiers_become_aliases() -> None:
    schema = {
        "type": "object",
        "properties": {
            "foo-bar": {"type": "integer"},
            "class": {"type": "string"},
            "model_dump": {"type": "string"},
            "list": {"type": "string"},
            "_id": {"type": "string"},
        },
    }
    module = load_client(document(schema), "probe_alias")
    value = module._RESULT_0.validate_python(
        {"foo-bar": 1, "class": "c", "model_dump": "m", "list": "l", "_id": "i", "extra": True}
    )
    assert (value.foo_bar, value.class_, value.model_dump_, value.list_, value.id) == (
        1,
        "c",
        "m",
        "l",
        "i",
    )
    assert value.model_dump(by_alias=True, exclude_none=True) == {
        "foo-bar": 1,
        "class": "c",
        "model_dump": "m",
        "list": "l",
        "_id": "i",
        "extra": True,
    }


def test_literal_results_are_validated() -> None:
    module = load_client(document({"enum": ["on", "off"]}), "probe_enum")
    assert module._RESULT_0.validate_python("on") == "on"
    with pytest.raises(ValidationError):
        module._RESULT_0.validate_python("maybe")


def test_generated_text_never_escapes_its_string() -> None:
    hostile = 'evil """ + __import__("os").system("x") + """ \\ end"'
    doc = document({"type": "string", "description": hostile}, summary=hostile, description=hostile)
    module = load_client(doc, "probe_hostile")
    assert '"""' in (module.Probe.probe.__doc__ or "")
    generated = generate(doc)
    compile(generated.interface, "interface.py", "exec")


def test_plan_is_a_service_plan() -> None:
    assert isinstance(plan_service(document({"type": "string"})), ServicePlan)
