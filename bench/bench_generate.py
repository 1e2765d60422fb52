"""Generation time per corpus spec: parse + generate (plan, render, ruff format).

Run: ``.venv/bin/python bench/bench_generate.py [SPEC_DIR] [REPEATS]``. Prints the best of
REPEATS runs (default 3) per stage, and the first (cold) run's total — the parser caches
meta-schema validation by content hash, so later parses of the same spec are cheaper; asserts
nothing. Goals: the 2.7 MB Ethereum spec under
2 s, any spec of <= 50 methods under 200 ms.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aibroker.codegen import generate
from aibroker.openrpc import parse_document

DEFAULT_SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


def main() -> None:
    specs_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPECS
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    warm_up = {"openrpc": "1.2.6", "info": {"title": "warm", "version": "1"}, "methods": []}
    generate(parse_document(warm_up).document)  # imports, templates, the ruff binary
    print(
        f"{'spec':48} {'KiB':>6} {'methods':>7} {'parse ms':>9} {'generate ms':>12} "
        f"{'total ms':>9} {'cold ms':>8}"
    )
    for path in sorted(p for p in specs_dir.glob("*.json") if p.name != "MANIFEST.json"):
        text = path.read_text(encoding="utf-8")
        best_parse = best_generate = float("inf")
        methods = 0
        cold = 0.0
        for attempt in range(repeats):
            started = time.perf_counter()
            document = parse_document(json.loads(text)).document
            parsed = time.perf_counter()
            methods = generate(document).method_count
            done = time.perf_counter()
            best_parse = min(best_parse, parsed - started)
            best_generate = min(best_generate, done - parsed)
            cold = done - started if attempt == 0 else cold
        total = best_parse + best_generate
        print(
            f"{path.stem[:48]:48} {len(text) / 1024:6.0f} {methods:7} {best_parse * 1000:9.1f} "
            f"{best_generate * 1000:12.1f} {total * 1000:9.1f} {cold * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
