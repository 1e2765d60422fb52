"""Regenerate the golden files: ``.venv/bin/python -m aibroker.codegen.golden``.

For each spec in :data:`GOLDEN_SPECS` it writes ``tests/golden/<spec-stem>/{client.py,
interface.py, card.txt}``; ``tests/unit/test_codegen_golden.py`` compares generated output
with them byte for byte, so every change to generated code shows up as a reviewable diff.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aibroker.codegen import generate
from aibroker.codegen.output import write_atomic
from aibroker.openrpc import parse_document

GOLDEN_SPECS = (
    "open-rpc_examples__petstore-openrpc.json",
    "open-rpc_examples__simple-math-openrpc.json",
    "threefoldtech_zinit__openrpc.json",
    "threefoldtech_mycelium__openrpc.json",
    "freeflowuniverse_herolib__job_manager_openrpc.json",
)
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SPECS_DIR = REPO_ROOT.parent / "shared" / "specs"
DEFAULT_GOLDEN_DIR = REPO_ROOT / "tests" / "golden"


def golden_files(spec_path: Path) -> dict[str, str]:
    """The golden file name → expected content for one spec."""
    raw = json.loads(spec_path.read_text(encoding="utf-8"))
    generated = generate(parse_document(raw).document)
    return {
        "client.py": generated.client,
        "interface.py": generated.interface,
        "card.txt": generated.card + "\n",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--specs", type=Path, default=DEFAULT_SPECS_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_GOLDEN_DIR)
    arguments = parser.parse_args(argv)
    for spec_name in GOLDEN_SPECS:
        spec_path = arguments.specs / spec_name
        for file_name, content in golden_files(spec_path).items():
            write_atomic(arguments.out / spec_path.stem / file_name, content)
        print(f"wrote {arguments.out / spec_path.stem}")


if __name__ == "__main__":
    main()
