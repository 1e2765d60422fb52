"""The root Typer application; command modules attach their commands to :data:`app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="aibroker",
    help="Code-mode agent for JSON-RPC services described by OpenRPC.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
