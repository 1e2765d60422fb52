"""Meta-schema validation: readable messages with paths, lenient vs strict, unusable documents."""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from typing import Any

import pytest

from aibroker.openrpc import SpecValidationError, parse_document
from aibroker.openrpc.validate import MAX_MESSAGES, format_path, validate
from tests.conftest import corpus_specs


def _petstore() -> dict[str, Any]:
    path = next(p for p in corpus_specs() if p.name.endswith("__petstore-openrpc.json"))
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def test_a_conforming_document_has_no_messages() -> None:
    assert validate(_petstore(), strict=True) == []


def test_messages_name_the_path_and_the_method() -> None:
    raw = _petstore()
    del raw["methods"][1]["params"][0]["name"]
    raw["methods"][2]["errors"] = [{"code": "not a number", "message": "x"}]
    messages = validate(raw, strict=False)
    assert messages == [
        "methods[1].params[0]: 'name' is a required property (method 'create_pet')",
        "methods[2].errors[0].code: 'not a number' is not of type 'integer' (method 'get_pet')",
    ]


def test_schema_errors_inside_params_are_reported_at_their_path() -> None:
    raw = _petstore()
    raw["methods"][0]["params"][0]["schema"] = {"type": "strin"}
    messages = validate(raw, strict=False)
    assert len(messages) == 1
    assert messages[0].startswith("methods[0].params[0].schema.type: 'strin' is not")


def test_strict_mode_raises_with_every_message() -> None:
    raw = _petstore()
    raw["methods"][0]["paramStructure"] = "sideways"
    raw["info"]["x-fine"] = True  # extensions are allowed
    raw["info"]["colour"] = "blue"  # other keys are not
    with pytest.raises(SpecValidationError) as caught:
        validate(raw, strict=True)
    problems = caught.value.problems
    assert problems == (
        "info: unexpected property 'colour' (besides its own fields, only 'x-' extensions "
        "are allowed)",
        "methods[0].paramStructure: 'sideways' is not one of 'by-position', 'by-name', "
        "'either' (method 'list_pets')",
    )
    assert "info: unexpected property 'colour'" in str(caught.value)
    assert "lenient mode" in str(caught.value)  # says what to do
    assert validate(raw, strict=False) == list(problems)  # lenient: the same, as warnings


def test_messages_are_sorted_deterministically_and_capped() -> None:
    raw = _petstore()
    raw["methods"] = [{"name": f"m{i}", "params": [], "bogus": i} for i in range(120)]
    messages = validate(raw, strict=False)
    assert len(messages) == MAX_MESSAGES
    assert messages[0].startswith("methods[0]: unexpected property 'bogus'")
    assert messages[1].startswith("methods[1]: ")
    assert messages[10].startswith("methods[10]: ")  # numeric, not lexical, order
    assert messages[-1] == f"… and {120 - MAX_MESSAGES + 1} more problems"
    assert validate(copy.deepcopy(raw), strict=False) == messages


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([1, 2], "(document): expected a JSON object, got array"),
        ({"info": {"title": "t"}}, "methods: missing"),
        ({"info": {"title": "t"}, "methods": {}}, "methods: a object, not a list"),
        ({"methods": []}, "info: missing or not an object"),
        ({"info": {"version": "1"}, "methods": []}, "info.title: missing or not a string"),
        ({"info": {"title": "t"}, "methods": [{"params": []}]}, "methods[0]: 'name' is missing"),
        ({"info": {"title": "t"}, "methods": ["eth_call"]}, "methods[0]: expected an object"),
    ],
)
def test_unusable_documents_are_rejected_even_when_lenient(raw: Any, expected: str) -> None:
    with pytest.raises(SpecValidationError) as caught:
        validate(raw, strict=False)
    assert any(problem.startswith(expected) for problem in caught.value.problems), (
        caught.value.problems
    )


def test_lenient_parse_accepts_small_deviations_and_reports_them() -> None:
    raw = _petstore()
    raw["openrpc"] = "1.4.1"  # newer than the meta-schema knows
    raw["methods"][0]["x-cost"] = 3
    raw["methods"][0]["unknownField"] = True
    parsed = parse_document(raw)
    assert parsed.document.methods[0].name == "list_pets"
    assert parsed.document.methods[0].extensions == {"x-cost": 3}
    assert any(w.startswith("openrpc: '1.4.1' is not one of") for w in parsed.warnings)
    assert (
        "methods[0]: unexpected property 'unknownField' (besides its own fields, only 'x-' "
        "extensions are allowed) (method 'list_pets')" in parsed.warnings
    )


def test_duplicate_names_are_warnings_or_errors_by_mode() -> None:
    raw = _petstore()
    raw["methods"].append(copy.deepcopy(raw["methods"][0]))
    raw["methods"][1]["params"].append(copy.deepcopy(raw["methods"][1]["params"][0]))
    parsed = parse_document(raw)
    assert (
        "methods[3]: duplicate method name 'list_pets' (also methods[0]); method names must "
        "be unique" in parsed.warnings
    )
    assert (
        "methods[1].params[2]: duplicate param name 'newPetName' (method 'create_pet')"
        in parsed.warnings
    )
    with pytest.raises(SpecValidationError, match="duplicate method name"):
        parse_document(raw, strict=True)


def test_model_type_errors_after_resolution_are_readable() -> None:
    raw = _petstore()
    raw["methods"][0]["params"][0]["required"] = "maybe"
    with pytest.raises(SpecValidationError) as caught:
        parse_document(raw)
    assert any(p.startswith("methods[0].params[0].required:") for p in caught.value.problems)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "(document)"),
        (("methods", 3, "params", 0), "methods[3].params[0]"),
        (("components", "schemas", "a/b", "type"), 'components.schemas["a/b"].type'),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_bundled_meta_schemas_are_the_recorded_releases() -> None:
    """The package data is exactly what META_SCHEMA.md says it is (provenance check)."""
    package = resources.files("aibroker.openrpc")
    provenance = package.joinpath("META_SCHEMA.md").read_text("utf-8")
    for name in ("meta-schema.json", "json-schema-meta-schema.json"):
        digest = hashlib.sha256(package.joinpath(name).read_bytes()).hexdigest()
        assert digest in provenance, f"{name} changed without updating META_SCHEMA.md"
    meta = json.loads(package.joinpath("meta-schema.json").read_text("utf-8"))
    assert meta["$id"] == "https://meta.open-rpc.org/"
    assert meta["properties"]["openrpc"]["enum"][0] == "1.3.2"
