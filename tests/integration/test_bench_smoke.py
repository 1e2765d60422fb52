"""The context and generation benches run and print every corpus spec (figures are not asserted:
they are measurements, quoted in the README). A bench nobody runs rots: bench_agent once called a
method that had been renamed and failed at its first task."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, corpus_specs


def run_bench(script: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_bench_context_covers_the_corpus(specs_dir: Path) -> None:
    table = run_bench("bench_context.py", str(specs_dir))
    for spec in corpus_specs():
        assert spec.stem[:48] in table
    assert "median reduction vs spec over specs with >= 10 methods: " in table


def test_bench_generate_covers_the_corpus(specs_dir: Path) -> None:
    table = run_bench("bench_generate.py", str(specs_dir), "1")
    for spec in corpus_specs():
        assert spec.stem[:40] in table
