"""Every spec of the real corpus: generated clients compile, import alone, type-check, and the
output is byte-identical across processes with different hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aibroker.codegen import generate
from aibroker.openrpc import parse_document
from tests.conftest import REPO_ROOT, corpus_specs

PYTHON = sys.executable
GENERATE_SCRIPT = """
import hashlib, json, sys
from aibroker.codegen import generate
from aibroker.openrpc import parse_document
digest = hashlib.sha256()
for path in sys.argv[1:]:
    generated = generate(parse_document(json.load(open(path))).document)
    for text in (generated.client, generated.interface, generated.card):
        digest.update(text.encode())
print(digest.hexdigest())
"""


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every corpus client written as ``<service>.py`` in one directory."""
    directory = tmp_path_factory.mktemp("clients")
    for spec in corpus_specs():
        generated = generate(parse_document(json.loads(spec.read_text())).document)
        (directory / f"{generated.name}.py").write_text(generated.client, encoding="utf-8")
    return directory


def test_every_corpus_spec_generates_a_distinct_module(generated_dir: Path) -> None:
    assert len(list(generated_dir.glob("*.py"))) == len(corpus_specs())


def test_every_client_imports_in_a_fresh_interpreter(generated_dir: Path) -> None:
    modules = sorted(path.stem for path in generated_dir.glob("*.py"))
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    completed = subprocess.run(
        [PYTHON, "-c", script, *modules],
        cwd=generated_dir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(generated_dir), "PYTHONWARNINGS": "error"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


@pytest.mark.slow
def test_every_client_passes_mypy_strict(generated_dir: Path) -> None:
    completed = subprocess.run(
        [
            PYTHON,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            str(REPO_ROOT / "pyproject.toml"),
            *sorted(map(str, generated_dir.glob("*.py"))),
        ],
        cwd=generated_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-5000:]


def test_output_is_identical_under_different_hash_seeds() -> None:
    specs = [str(path) for path in corpus_specs()]
    digests = set()
    for seed in ("1", "4242"):
        completed = subprocess.run(
            [PYTHON, "-c", GENERATE_SCRIPT, *specs],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        digests.add(completed.stdout.strip())
    assert len(digests) == 1
