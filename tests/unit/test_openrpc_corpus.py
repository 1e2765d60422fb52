"""Every real spec in the corpus parses; references resolve as the policy says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aibroker.openrpc import ParsedSpec, SpecValidationError, parse_document, spec_hash
from aibroker.openrpc.refs import NAMED_SCHEMA_REF
from tests.conftest import corpus_specs

# Which corpus documents are not fully conforming, and why (message prefixes, in order).
EXPECTED_WARNINGS: dict[str, tuple[str, ...]] = {
    # OpenRPC 1.4.x is newer than the meta-schema's version list (which ends at 1.3.2).
    "ethereum_execution-apis__openrpc.json": ("openrpc: '1.4.1' is not one of '1.3.2'",),
    # The upstream example of an empty service has an empty title.
    "open-rpc_examples__empty-openrpc.json": ("info.title: empty",),
}

SCHEMA_KEYWORDS_WITH_DATA = ("enum", "const", "default", "examples")


def _load(name_part: str) -> tuple[dict[str, Any], ParsedSpec]:
    path = next(p for p in corpus_specs() if name_part in p.name)
    raw = json.loads(path.read_text("utf-8"))
    return raw, parse_document(raw)


def _refs_outside_schemas(value: Any, path: str = "") -> Iterator[str]:
    """Paths of every ``$ref`` key outside JSON Schemas and free data.

    Starknet writes JSON Schemas into ``errors[].data``, which OpenRPC defines as free data;
    like example values it is passed through untouched.
    """
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "$ref":
                yield path
            elif key not in ("schema", "schemas", "value", "data"):  # schemas and free data
                yield from _refs_outside_schemas(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _refs_outside_schemas(child, f"{path}[{index}]")


def _schema_refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "$ref" and isinstance(child, str):
                yield child
            elif key not in SCHEMA_KEYWORDS_WITH_DATA:
                yield from _schema_refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _schema_refs(child)


@pytest.mark.parametrize("path", corpus_specs(), ids=lambda p: p.name)
def test_every_corpus_spec_parses_leniently(path: Path) -> None:
    raw = json.loads(path.read_text("utf-8"))
    parsed = parse_document(raw)
    assert parsed.raw is raw
    assert parsed.spec_hash == spec_hash(raw)
    assert parsed.document.info.title == raw["info"]["title"]
    assert [m.name for m in parsed.document.methods] == [m["name"] for m in raw["methods"]]

    expected = EXPECTED_WARNINGS.get(path.name, ())
    assert len(parsed.warnings) == len(expected), parsed.warnings
    for warning, prefix in zip(parsed.warnings, expected, strict=True):
        assert warning.startswith(prefix)

    dumped = parsed.document.model_dump(by_alias=True, exclude_none=True)
    assert list(_refs_outside_schemas(dumped)) == []
    schema_names = set(parsed.document.components.schemas)
    for ref in _schema_refs(dumped):
        named = NAMED_SCHEMA_REF.match(ref)
        assert named, f"only #/components/schemas/Name refs may remain, found {ref}"
        assert named.group(1) in schema_names


@pytest.mark.parametrize(
    "path",
    [p for p in corpus_specs() if p.name not in EXPECTED_WARNINGS],
    ids=lambda p: p.name,
)
def test_conforming_corpus_specs_pass_strict_mode(path: Path) -> None:
    parsed = parse_document(json.loads(path.read_text("utf-8")), strict=True)
    assert parsed.warnings == ()


def test_ethereum_fails_strict_mode_on_its_version_only() -> None:
    raw, _ = _load("ethereum_execution-apis")
    with pytest.raises(SpecValidationError) as caught:
        parse_document(raw, strict=True)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("openrpc: '1.4.1' is not one of")


def test_petstore_content_descriptor_refs_are_inlined() -> None:
    raw, parsed = _load("__petstore-openrpc.json")
    assert raw["methods"][2]["params"][0] == {"$ref": "#/components/contentDescriptors/PetId"}
    get_pet = next(m for m in parsed.document.methods if m.name == "get_pet")
    (param,) = get_pet.params
    assert (param.name, param.required) == ("petId", True)
    assert param.schema_ == {"$ref": "#/components/schemas/PetId"}  # named: kept


def test_simple_math_example_refs_are_inlined() -> None:
    _, parsed = _load("simple-math")
    addition = next(m for m in parsed.document.methods if m.name == "addition")
    assert addition.result is not None
    assert addition.result.name == "c"
    pairing = addition.examples[0]
    assert [example.value for example in pairing.params] == [2, 2]
    assert pairing.result is not None
    assert pairing.result.value == 4


def test_metamask_tags_errors_and_deep_pointers() -> None:
    raw, parsed = _load("MetaMask")
    methods = {m.name: m for m in parsed.document.methods}
    assert [t.name for t in methods["wallet_addEthereumChain"].tags] == [
        "MetaMask",
        "Multichain API",
    ]
    (rejected,) = methods["wallet_requestPermissions"].errors
    assert (rejected.code, rejected.message) == (4001, "User rejected the request.")
    schemas = parsed.document.components.schemas
    restricted = schemas["RestrictedPayloadStatusV1"]
    raw_restricted = raw["components"]["schemas"]["RestrictedPayloadStatusV1"]
    source = raw["components"]["schemas"]["PayloadStatusV1"]["properties"]["status"]
    assert isinstance(restricted, dict)
    # A named $ref with siblings: the $ref stays, the siblings are resolved.
    assert restricted["$ref"] == "#/components/schemas/PayloadStatusV1"
    # A deep pointer that narrows the inherited enum: both constraints kept, via allOf.
    assert restricted["properties"]["status"] == {
        "allOf": [source],
        "description": "Set of possible values is restricted to VALID, INVALID, SYNCING",
        "enum": ["VALID", "INVALID", "SYNCING"],
    }
    # A deep pointer without siblings: simply inlined.
    assert restricted["properties"]["validationError"] == {
        "title": "Validation error message",
        "type": "string",
    }
    assert raw_restricted["properties"]["validationError"] == {
        "$ref": "#/components/schemas/PayloadStatusV1/properties/validationError"
    }  # and the raw document is untouched


def test_starknet_error_refs_are_inlined() -> None:
    _, parsed = _load("starknet")
    method = next(m for m in parsed.document.methods if m.name == "starknet_getBlockWithTxHashes")
    assert [(e.code, e.message) for e in method.errors] == [(24, "Block not found")]
    assert parsed.document.info.license is not None  # `license: {}` is accepted
