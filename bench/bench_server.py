"""Server throughput with a scripted model: N concurrent ``/runs/wait``, at several caps.

Every run is real apart from the model: HTTP over loopback, the graph, the run history in
SQLite, and a real script run in a child Python against a real unix-socket service. Prints
runs per second and the ratio to a cap of 1 (no wall-time assertions; run it to compare).

    .venv/bin/python bench/bench_server.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from tests.fakes import calc_world
from tests.server_harness import adding_agent, calc_server


async def _burst(base_url: str, runs: int) -> tuple[float, int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as http:
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(http.post("/runs/wait", json={"input": {"intent": f"add {i}"}}) for i in range(runs))
        )
        elapsed = time.perf_counter() - started
    ok = sum(1 for r in responses if r.status_code == 200 and r.json().get("result") == 5.0)
    return elapsed, ok


def measure(cap: int, runs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="ab-bench-", dir="/tmp") as tmp:
        root = Path(tmp)
        with (
            calc_world(root) as world,
            calc_server(
                world, adding_agent(root, times=runs), root / "home", server_max_concurrent_runs=cap
            ) as server,
        ):
            return asyncio.run(_burst(server.base_url, runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rows = [(cap, *measure(cap, args.runs)) for cap in (1, 4, 8)]
    base = rows[0][1]
    print(f"{'cap':>4} {'runs':>5} {'ok':>4} {'seconds':>8} {'runs/s':>7} {'speed-up':>9}")
    for cap, elapsed, ok in rows:
        print(
            f"{cap:>4} {args.runs:>5} {ok:>4} {elapsed:>8.2f} {args.runs / elapsed:>7.1f} "
            f"{base / elapsed:>8.2f}x"
        )


if __name__ == "__main__":
    main()
