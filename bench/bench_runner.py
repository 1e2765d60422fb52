"""Sandbox runner overhead against a bare ``python -c pass`` of the same venv and ``uv run``.

Usage::

    .venv/bin/python bench/bench_runner.py [-n 30] [--home DIR]

Every variant runs a script that does nothing, N times, sequentially, in one process; the
table shows the median, the overhead over bare python and the ratio. bwrap and rlimits-only
are reported separately. Nothing is asserted: wall times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from uv import find_uv_bin

from aibroker.sandbox import run_script
from aibroker.sandbox.bwrap import bwrap_works, find_bwrap
from aibroker.sandbox.venv import ensure_environment
from aibroker.settings import Settings

EMPTY = "pass\n"
UV_SCRIPT = "# /// script\n# dependencies = []\n# ///\npass\n"


def time_sync(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm-up: caches, page cache, lazy imports
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


async def time_async(action: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=30)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="aibroker-bench-")) / "home"
    env = ensure_environment(home)
    python = str(env.python)
    uv_script = home / "uv_script.py"
    uv_script.write_text(UV_SCRIPT)
    uv = find_uv_bin()

    def bare() -> object:
        return subprocess.run([python, "-c", "pass"], check=True)

    def bare_isolated() -> object:
        return subprocess.run([python, "-I", "-c", "pass"], check=True)

    def uv_run() -> object:
        command = [uv, "run", "--no-project", "--offline", "--python", python, "--script"]
        return subprocess.run([*command, str(uv_script)], check=True, capture_output=True)

    rows: list[tuple[str, list[float]]] = [
        ("bare python -c pass", time_sync(bare, args.runs)),
        ("bare python -I -c pass", time_sync(bare_isolated, args.runs)),
        ("uv run --offline --script", time_sync(uv_run, args.runs)),
    ]

    async def runner(use_bwrap: bool) -> list[float]:
        settings = Settings(home=home, exec_use_bwrap=use_bwrap)

        async def once() -> object:
            result = await run_script(EMPTY, home=home, timeout=30, settings=settings)
            assert result.ok, result
            return result

        return await time_async(once, args.runs)

    rows.append(("run_script (rlimits only)", asyncio.run(runner(False))))
    bwrap = find_bwrap()
    if bwrap and bwrap_works(bwrap):
        rows.append(("run_script (bwrap)", asyncio.run(runner(True))))
    else:
        rows.append(("run_script (bwrap)", []))

    base = statistics.median(rows[0][1])
    uv_median = statistics.median(rows[2][1])
    print(f"runs per variant: {args.runs}; medians in ms")
    print(
        f"{'variant':<28} {'median':>8} {'p90':>8} {'over bare':>10} {'x bare':>7} {'x uv run':>9}"
    )
    for name, samples in rows:
        if not samples:
            print(f"{name:<28} {'n/a (bubblewrap unavailable)':>40}")
            continue
        median = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(
            f"{name:<28} {median * 1e3:>8.1f} {p90 * 1e3:>8.1f} {(median - base) * 1e3:>+10.1f}"
            f" {median / base:>7.2f} {median / uv_median:>9.2f}"
        )


if __name__ == "__main__":
    main()
