"""``python -m aibroker.demo``: the process that ``aibroker demo up --detach`` starts.

It is the foreground server with its own tiny argument parser, so that the detached
process does not depend on the CLI's command layout (which other commands share).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aibroker.demo.cluster import Endpoints
from aibroker.demo.daemon import describe, run_foreground
from aibroker.demo.errors import DemoError


def main(argv: list[str] | None = None) -> int:
    """Serve the demo services until SIGINT/SIGTERM; 1 when they cannot start."""
    parser = argparse.ArgumentParser(
        prog="python -m aibroker.demo", description="Serve the aibroker demo services."
    )
    parser.add_argument("--sockets-dir", type=Path, required=True, help="where the sockets go")
    parser.add_argument("--state-dir", type=Path, required=True, help="databases and pid file")
    parser.add_argument("--http", action="store_true", help="also serve HTTP on 127.0.0.1")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def announce(endpoints: Endpoints) -> None:
        print("demo services listening:", *describe(endpoints), sep="\n", flush=True)

    try:
        run_foreground(
            arguments.sockets_dir, arguments.state_dir, http=arguments.http, on_ready=announce
        )
    except DemoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("demo services stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
