"""Canonical JSON and spec hashes: formatting never matters, content always does."""

from __future__ import annotations

import json

import pytest

from aibroker.openrpc import SpecError, canonical_json, spec_hash
from tests.conftest import corpus_specs


def _reordered(value: object) -> object:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, 2, {"d": "é", "c": None}]}) == (
        '{"a":[1,2,{"c":null,"d":"é"}],"b":1}'.encode()
    )


def test_hash_ignores_indentation_and_key_order_on_a_real_spec() -> None:
    path = next(p for p in corpus_specs() if "MetaMask" in p.name)
    original = json.loads(path.read_text("utf-8"))
    reindented = json.loads(json.dumps(original, indent=7))
    reordered = _reordered(original)
    assert json.dumps(reordered) != json.dumps(original)  # the test really reorders
    assert spec_hash(reindented) == spec_hash(original) == spec_hash(reordered)


def test_hash_changes_when_a_description_changes() -> None:
    path = next(p for p in corpus_specs() if "petstore-openrpc" in p.name)
    original = json.loads(path.read_text("utf-8"))
    edited = json.loads(path.read_text("utf-8"))
    edited["methods"][0]["summary"] += "!"
    assert spec_hash(edited) != spec_hash(original)
    assert len(spec_hash(original)) == 64
    assert int(spec_hash(original), 16) >= 0  # hex


def test_hash_distinguishes_value_types() -> None:
    assert spec_hash({"a": 1}) != spec_hash({"a": "1"})
    assert spec_hash({"a": [1, 2]}) != spec_hash({"a": [2, 1]})  # list order is content


def test_non_json_values_are_rejected() -> None:
    with pytest.raises(SpecError, match="canonical JSON"):
        canonical_json({"x": float("nan")})
