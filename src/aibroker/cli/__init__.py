"""Command-line interface: ``aibroker <command>``.

One module per group of commands; each registers itself on :data:`aibroker.cli.app.app`
when imported here. Heavy imports stay inside command functions so ``aibroker --help``
stays fast.
"""

from __future__ import annotations

from aibroker.cli import (  # noqa: F401  (importing registers the commands)
    commands_demo,
    commands_exec,
    commands_generate,
    commands_model,
    commands_registry,
    commands_run,
    commands_serve,
)
from aibroker.cli.app import app


def main() -> None:
    """Entry point of the ``aibroker`` console script."""
    app()


__all__ = ["app", "main"]
