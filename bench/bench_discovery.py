"""Discovery of many live services: cold (generate + verify) against warm (hashes unchanged).

Usage::

    .venv/bin/python bench/bench_discovery.py [-n 50] [--runs 5] [--no-mypy]

A separate process serves N real JSON-RPC services on unix sockets in a temporary directory
(the demo services' server core, answering every method with its first example's result);
their specs are the three demo specs under N distinct titles, so every service has its own
name and hash. Phases:

* cold, mypy off / on — a fresh registry home each: every service is fetched, generated,
  verified (compile, import in the venv, discover round-trip, example replay; plus
  ``mypy --strict`` when on) and published. The execution venv is built beforehand and
  timed separately, as it is shared by all services.
* warm — the same home again: every hash is unchanged, so nothing is parsed or written.
* one changed — one service's spec changes: only that one is regenerated.
* warm via CLI — ``aibroker discover --json`` as a user runs it (interpreter start included).

Nothing is asserted: the table prints times and ratios against the warm run.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aibroker.registry import Registry
from aibroker.sandbox import ensure_environment
from aibroker.settings import Settings

DEMO_SPECS = ("hero_kv", "hero_calendar", "hero_jobs")


def specs(count: int, changed: int | None = None) -> dict[str, dict[str, Any]]:
    """``count`` distinct documents keyed by socket stem; ``changed`` gets a new description."""
    from aibroker.demo.service import load_spec

    bases = [load_spec(name) for name in DEMO_SPECS]
    documents = {}
    for index in range(count):
        document = copy.deepcopy(bases[index % len(bases)])
        document["info"]["title"] = f"{document['info']['title']} {index:02d}"
        if index == changed:
            document["info"]["description"] += " (changed)"
        documents[f"svc{index:02d}"] = document
    return documents


# --- the server process -------------------------------------------------------------------


def serve(sockets_dir: Path, count: int, changed: int | None) -> None:
    """Serve ``specs(count, changed)`` on ``sockets_dir/<stem>.sock`` until SIGTERM."""
    from aibroker.demo.protocol import Dispatcher
    from aibroker.demo.server import ServiceEndpoint
    from aibroker.demo.service import Service

    def handler(method: dict[str, Any]) -> Any:
        examples = method.get("examples") or []
        value = examples[0].get("result", {}).get("value") if examples else None
        return lambda **_: copy.deepcopy(value)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        endpoints = []
        for stem, document in specs(count, changed).items():
            handlers = {m["name"]: handler(m) for m in document["methods"]}
            endpoint = ServiceEndpoint(Dispatcher(Service(stem, document, handlers)))
            await endpoint.listen_unix(sockets_dir / f"{stem}.sock")
            endpoints.append(endpoint)
        print("ready", flush=True)
        await stop.wait()
        for endpoint in endpoints:
            await endpoint.close()

    asyncio.run(main())


class Servers:
    """The server process, started and stopped around a phase."""

    def __init__(self, sockets_dir: Path, count: int, changed: int | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(sockets_dir), "-n", str(count)]
            + ([] if changed is None else ["--changed", str(changed)]),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the server process did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


# --- phases -------------------------------------------------------------------------------


def timed_discover(settings: Settings) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    outcomes = Registry(settings).discover()
    elapsed = time.perf_counter() - started
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
        if outcome.result == "failed":
            print(f"  failed: {outcome.describe()}", file=sys.stderr)
    return elapsed, counts


def cli_discover(settings: Settings) -> float:
    env = {
        **os.environ,
        "AIBROKER_HOME": str(settings.home),
        "AIBROKER_SOCKETS_DIR": str(settings.sockets_dir),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from aibroker.cli import main; main()", "discover", "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def fresh_home(root: Path, label: str, venv: Path) -> Path:
    home = root / label
    home.mkdir()
    (home / "python").symlink_to(venv)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="number of services")
    parser.add_argument("--runs", type=int, default=5, help="warm runs (median reported)")
    parser.add_argument("--no-mypy", action="store_true", help="skip the mypy-on cold phase")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--changed", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.n, args.changed)
        return

    root = Path(tempfile.mkdtemp(prefix="ab-bench-", dir="/tmp"))
    sockets = root / "s"
    sockets.mkdir()
    rows: list[tuple[str, float, dict[str, int]]] = []
    try:
        started = time.perf_counter()
        venv = ensure_environment(root / "venv-home").root
        venv_s = time.perf_counter() - started

        def settings(home: Path, mypy: bool) -> Settings:
            return Settings(home=home, sockets_dir=sockets, registry_verify_mypy=mypy)

        servers = Servers(sockets, args.n)
        try:
            off = settings(fresh_home(root, "off", venv), mypy=False)
            rows.append(("cold, mypy off", *timed_discover(off)))
            warm = [timed_discover(off) for _ in range(args.runs)]
            rows.append(("warm", statistics.median(t for t, _ in warm), warm[-1][1]))
            cli = statistics.median(cli_discover(off) for _ in range(args.runs))
            rows.append(("warm via CLI", cli, warm[-1][1]))
            if not args.no_mypy:
                on = settings(fresh_home(root, "on", venv), mypy=True)
                rows.append(("cold, mypy on", *timed_discover(on)))
                rows.append(("warm, mypy on", *timed_discover(on)))
        finally:
            servers.stop()
        servers = Servers(sockets, args.n, changed=0)
        try:
            rows.append(("one changed, mypy off", *timed_discover(off)))
        finally:
            servers.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    warm_s = next(t for label, t, _ in rows if label == "warm")
    print(f"\n{args.n} services on unix sockets; execution venv built once in {venv_s:.2f} s")
    print(f"{'phase':<24}{'time (s)':>10}{'ms/service':>12}{'× warm':>9}  results")
    for label, seconds, counts in rows:
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(
            f"{label:<24}{seconds:>10.3f}{seconds / args.n * 1000:>12.1f}"
            f"{seconds / warm_s:>9.1f}  {summary}"
        )


if __name__ == "__main__":
    main()
