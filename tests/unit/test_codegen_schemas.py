"""JSON Schema → Python types: each construct the generator supports, checked on real output."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from aibroker.codegen import generate
from aibroker.codegen.plan import ServicePlan, plan_service
from aibroker.codegen.schemas import Ty
from aibroker.openrpc import parse_document
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


PETS: dict[str, Any] = {
    "Cat": {
        "type": "object",
        "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}},
        "required": ["kind", "lives"],
    },
    "Dog": {
        "type": "object",
        "properties": {"kind": {"const": "dog"}, "barks": {"type": "boolean"}},
        "required": ["kind"],
    },
    "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
    "PetWithOwner": {
        "allOf": [
            {"$ref": "#/components/schemas/Pet"},
            {"type": "object", "properties": {"owner": {"type": "string"}}, "required": ["owner"]},
        ]
    },
}


def test_all_of_over_a_union_of_named_objects_distributes() -> None:
    """allOf[Cat | Dog, {owner}] is (Cat ∧ {owner}) | (Dog ∧ {owner}), not just {owner}."""
    doc = document({"$ref": "#/components/schemas/PetWithOwner"}, PETS)
    plan = plan_service(doc)
    aliases = {a.name: a.type.text for a in plan.aliases}
    assert aliases["PetWithOwner"] == "CatWithOwner | DogWithOwner"
    models = {m.name: m for m in plan.models}
    assert models["CatWithOwner"].bases == ["Cat"]
    assert [f.json_name for f in models["CatWithOwner"].all_fields] == ["kind", "lives", "owner"]
    module = load_client(doc, "probe_distribute")
    dog = module._RESULT_0.validate_python({"kind": "dog", "barks": True, "owner": "ada"})
    assert isinstance(dog, module.DogWithOwner)
    assert isinstance(dog, module.Dog)
    assert (dog.barks, dog.owner) == (True, "ada")
    with pytest.raises(ValidationError):
        module._RESULT_0.validate_python({"kind": "dog"})  # the owner is still required


def test_all_of_over_a_union_names_its_variants_after_the_outer_schema() -> None:
    inline = {"allOf": [{"$ref": "#/components/schemas/Pet"}, PETS["PetWithOwner"]["allOf"][1]]}
    assert result_type(inline, PETS) == "ProbeResultCat | ProbeResultDog"


def test_all_of_over_a_union_that_adds_nothing_or_has_inline_variants_is_merged() -> None:
    constrained = {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"not": {"const": "x"}}]}
    assert result_type(constrained, PETS) == "Cat | Dog"
    # Inline variants (a status mix-in, as in Starknet's receipts) are not distributed: each
    # result would repeat the object's fields, and so would every schema that includes it.
    mixin = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"oneOf": [PETS["Cat"], PETS["Dog"]]},
        ]
    }
    plan = plan_service(document({"$ref": "#/components/schemas/Mixin"}, {**PETS, "Mixin": mixin}))
    assert plan.methods[0].result == Ty("Mixin", frozenset({"Mixin"}))
    assert [m.name for m in plan.models] == ["Mixin"]


def test_starknet_receipt_with_block_info_keeps_each_receipt_type(specs_dir: Path) -> None:
    path = specs_dir / "starkware-libs_starknet-specs__starknet_api_openrpc.json"
    doc = parse_document(json.loads(path.read_text(encoding="utf-8"))).document
    plan = plan_service(doc)
    aliases = {a.name: a.type.text for a in plan.aliases}
    kinds = ["Invoke", "L1Handler", "Declare", "Deploy", "DeployAccount"]
    variants = [f"{kind}TxnReceiptWithBlockInfo" for kind in kinds]
    assert aliases["TxnReceiptWithBlockInfo"] == " | ".join(variants)
    models = {m.name: m for m in plan.models}
    for kind, variant in zip(kinds, variants, strict=True):
        assert models[variant].bases == [f"{kind}TxnReceipt"]
        fields = {f.json_name: f.required for f in models[variant].all_fields}
        assert fields["type"]
        assert fields["transaction_hash"]
        assert fields["block_number"]
        assert not fields["block_hash"]
    method = next(m for m in plan.methods if m.rpc_name == "starknet_getTransactionReceipt")
    assert method.result is not None
    assert method.result.text == "TxnReceiptWithBlockInfo"
    module = load_client(doc, "probe_starknet")
    receipt = getattr(module, method.adapter or "").validate_python(
        {
            "type": "DEPLOY_ACCOUNT",
            "transaction_hash": "0x1",
            "actual_fee": {"amount": "0x10", "unit": "FRI"},
            "finality_status": "ACCEPTED_ON_L2",
            "execution_status": "SUCCEEDED",
            "messages_sent": [],
            "events": [],
            "execution_resources": {"l1_gas": 1, "l1_data_gas": 2, "l2_gas": 3},
            "contract_address": "0xabc",
            "block_hash": "0x2",
            "block_number": 7,
        }
    )
    assert type(receipt) is module.DeployAccountTxnReceiptWithBlockInfo
    assert (receipt.contract_address, receipt.block_number) == ("0xabc", 7)
    assert receipt.actual_fee.unit == "FRI"
    assert receipt.execution_resources.l2_gas == 3


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
