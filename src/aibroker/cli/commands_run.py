"""``aibroker run "INTENT"``: answer one intent with the agent over the registered services."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from aibroker.cli.app import app


@app.command("run")
def run(
    intent: Annotated[str, typer.Argument(help="What you want done, in plain words.")],
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="Only use this service (repeatable)."),
    ] = None,
    thread: Annotated[
        str | None, typer.Option("--thread", help="Thread id: follow-ups see earlier turns.")
    ] = None,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Scripts written before giving up.")
    ] = 3,
    direct: Annotated[
        bool,
        typer.Option(
            "--direct",
            help="Allow one direct method call instead of a script (for capable models).",
        ),
    ] = False,
    summarize: Annotated[
        bool, typer.Option("--summarize", help="Add a short LLM summary to the answer.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the output state as JSON.")
    ] = False,
) -> None:
    """Answer INTENT: choose services, write a script, check it, run it in the sandbox.

    Exit status: 0 success, 1 failed after the attempt cap, 2 no service fits.
    """
    from rich.console import Console

    from aibroker.cli.agent_session import EXIT_CODES, run_intent
    from aibroker.graph.context import Context
    from aibroker.settings import get_settings

    console = Console(stderr=as_json)
    output = asyncio.run(
        run_intent(
            intent,
            settings=get_settings(),
            console=console,
            services=service or None,
            thread_id=thread,
            context=Context(
                max_attempts=max_attempts, summarize=summarize, allow_direct_call=direct
            ),
            quiet=as_json,
        )
    )
    if as_json:
        typer.echo(json.dumps(output, indent=2, default=str))
    raise typer.Exit(EXIT_CODES.get(str(output.get("status")), 1))
