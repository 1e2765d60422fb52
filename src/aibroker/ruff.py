"""The ruff binary of the installed ``ruff`` package, run on source text.

Code generation formats clients with it and the static check asks it for undefined names;
both go through :func:`run_ruff`. ``--isolated`` ignores any configuration around the
working directory, so the outcome depends only on the source and the pinned ruff version.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


def run_ruff(
    subcommand: str, options: Sequence[str], source: str, *, stdin_filename: str, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """``ruff SUBCOMMAND --isolated OPTIONS -`` with ``source`` on stdin.

    Raises ``OSError`` when ruff cannot be started and ``subprocess.TimeoutExpired``.
    """
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    command = [find_ruff_bin(), subcommand, "--isolated", *options]
    command += ["--stdin-filename", stdin_filename, "-"]
    return subprocess.run(
        command, input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
    )
