"""The card, the interface and method detail: shape, limits, and the golden files."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from aibroker.codegen import CodegenError, generate, method_detail
from aibroker.codegen.golden import GOLDEN_SPECS, golden_files
from aibroker.openrpc import parse_document
from aibroker.openrpc.model import OpenRpcDocument
from aibroker.tokens import count_tokens
from tests.conftest import REPO_ROOT, corpus_specs

GOLDEN_DIR = REPO_ROOT / "tests" / "golden"


def load(path: Path) -> OpenRpcDocument:
    return parse_document(json.loads(path.read_text(encoding="utf-8"))).document


@pytest.mark.parametrize("spec", GOLDEN_SPECS)
def test_golden_files_match_byte_for_byte(spec: str, specs_dir: Path) -> None:
    expected_dir = GOLDEN_DIR / Path(spec).stem
    for file_name, content in golden_files(specs_dir / spec).items():
        expected = (expected_dir / file_name).read_text(encoding="utf-8")
        assert content == expected, (
            f"{expected_dir / file_name} is stale: run "
            "`.venv/bin/python -m aibroker.codegen.golden` and review the diff"
        )


@pytest.mark.parametrize("spec", corpus_specs(), ids=lambda p: p.stem)
def test_card_and_interface_shape_over_the_corpus(spec: Path) -> None:
    generated = generate(load(spec))
    lines = generated.card.split("\n")
    assert len(lines) == 2
    assert lines[0] == f"SERVICE: {generated.name}"
    assert lines[1].startswith("SUMMARY: ")
    assert len(lines[1]) > len("SUMMARY: ")
    assert count_tokens(generated.card) <= 40
    tree = ast.parse(generated.interface)  # valid Python, whatever the spec text holds
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes[0].name == generated.class_name
    methods = [node.name for node in classes[0].body if isinstance(node, ast.FunctionDef)]
    assert methods == list(generated.methods.values())
    assert generated.interface.startswith(f"# SERVICE: {generated.name}\n# SUMMARY: ")


def test_interface_of_petstore_reads_like_python(specs_dir: Path) -> None:
    interface = generate(load(specs_dir / "open-rpc_examples__petstore-openrpc.json")).interface
    assert "    def get_pet(pet_id: int) -> Pet: " in interface
    assert '# petstore.create_pet("fluffy") -> 7' in interface
    assert "class Pet(BaseModel): id: int; name: str; tag: str | None" in interface
    assert "class PetsBusy(JsonRpcError): code = 100  # pets busy" in interface
    assert "# ENDPOINT: http://localhost:8080" in interface


def test_interface_is_much_smaller_than_large_specs(specs_dir: Path) -> None:
    path = specs_dir / "ethereum_execution-apis__openrpc.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    generated = generate(parse_document(raw).document)
    assert count_tokens(generated.interface) < count_tokens(json.dumps(raw)) / 20


def test_card_summary_falls_back_to_method_names() -> None:
    document = OpenRpcDocument.model_validate(
        {
            "openrpc": "1.2.6",
            "info": {"title": "Tiny", "version": "1"},
            "methods": [{"name": "ping", "params": [], "result": {"name": "r", "schema": {}}}],
        }
    )
    assert generate(document).card == "SERVICE: tiny\nSUMMARY: Tiny: methods ping"


def test_card_is_cut_to_the_token_limit() -> None:
    document = OpenRpcDocument.model_validate(
        {
            "openrpc": "1.2.6",
            "info": {"title": "Long", "version": "1", "description": "word " * 300},
        }
    )
    card = generate(document).card
    assert count_tokens(card) <= 40
    assert card.endswith("…")


def test_method_detail_has_schemas_errors_and_examples(specs_dir: Path) -> None:
    document = load(specs_dir / "open-rpc_examples__petstore-openrpc.json")
    detail = method_detail(document, "list_pets")
    assert "def list_pets(self, *, limit: int | None = None) -> list[Pet]" in detail
    assert '"minimum": 1' in detail  # the param schema
    assert '"title": "Pet"' in detail  # the result's named reference, expanded
    assert "PetsBusy (code 100): pets busy" in detail
    assert "listPetExample" in detail
    assert "class Pet(BaseModel)" in detail


def test_method_detail_accepts_python_names_and_suggests_close_ones(specs_dir: Path) -> None:
    document = load(specs_dir / "threefoldtech_zinit__openrpc.json")
    assert method_detail(document, "service_status") == method_detail(document, "service_status")
    assert "rpc.discover" in method_detail(document, "rpc_discover")
    with pytest.raises(CodegenError, match="no method") as raised:
        method_detail(document, "service_stat")
    assert raised.value.hint is not None
    assert "service_status" in raised.value.hint
