"""CLI commands: ``aibroker serve`` (HTTP API + dashboard), ``aibroker mcp``, ``aibroker history``.

``serve`` and ``mcp --http`` refuse to bind beyond loopback unless a bearer token is set
(``AIBROKER_SERVER_TOKEN``). ``history`` reads the same run history the server writes (SQLite
under the home, or Postgres with ``AIBROKER_DATABASE_URL``), first marking runs whose server
process died as ``error`` so nothing stays ``running`` forever.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from aibroker.cli.app import app

if TYPE_CHECKING:
    from aibroker.errors import AibrokerError
    from aibroker.server.records import RunRecord

HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Bind address (default: the server_host setting, 127.0.0.1)."),
]
PortOption = Annotated[
    int | None, typer.Option("--port", help="Port (default: the server_port setting, 8000).")
]


def _fail(error: AibrokerError) -> NoReturn:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the HTTP API (threads, runs, history, services), the dashboard at /, MCP at
    /mcp (streamable HTTP) and A2A at /a2a."""
    import uvicorn

    from aibroker.errors import AibrokerError
    from aibroker.server.app import create_app
    from aibroker.server.auth import check_bind
    from aibroker.settings import get_settings

    settings = get_settings()
    bind_host = host or settings.server_host
    token = settings.server_token.get_secret_value() if settings.server_token else None
    try:
        check_bind(bind_host, token)
        application = create_app(settings, host=bind_host)
    except AibrokerError as error:
        _fail(error)
    typer.echo(f"aibroker serving on http://{bind_host}:{port or settings.server_port}/")
    uvicorn.run(application, host=bind_host, port=port or settings.server_port, log_level="info")


@app.command()
def mcp(
    http: Annotated[
        bool, typer.Option("--http", help="Streamable HTTP at /mcp instead of stdio.")
    ] = False,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Serve aibroker's tools over MCP: stdio by default, or streamable HTTP on loopback."""
    import asyncio

    from aibroker.errors import AibrokerError
    from aibroker.server.mcp_server import mcp_http_app, serve_stdio
    from aibroker.server.runtime import default_directory, default_graph_factory
    from aibroker.settings import get_settings

    settings = get_settings()
    directory = default_directory(settings)
    factory = default_graph_factory(settings)
    try:
        if not http:
            asyncio.run(serve_stdio(settings, directory, factory))
            return
        import uvicorn

        from aibroker.server.auth import check_bind

        bind_host = host or settings.server_host
        token = settings.server_token.get_secret_value() if settings.server_token else None
        check_bind(bind_host, token)
        application = mcp_http_app(settings, directory, factory, host=bind_host)
    except AibrokerError as error:
        _fail(error)
    bind_port = port or settings.server_port
    typer.echo(f"aibroker MCP on http://{bind_host}:{bind_port}/mcp", err=True)
    uvicorn.run(application, host=bind_host, port=bind_port, log_level="info")


def _row(run: RunRecord) -> list[str]:
    from aibroker.server.records import iso

    tokens = run.tokens
    return [
        (iso(run.created_at) or "")[:19].replace("T", " "),
        run.run_id[:8],
        run.status,
        run.outcome or "",
        ", ".join(run.services),
        str(len((run.output or {}).get("trace") or [])),
        f"{tokens['input']}/{tokens['output']}",
        "" if run.duration_s is None else f"{run.duration_s:.2f}",
        run.intent if len(run.intent) <= 60 else run.intent[:57] + "...",
    ]


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array of runs.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most recent N runs.")] = 20,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, running, success, error, timeout, interrupted."),
    ] = None,
) -> None:
    """The run history: intent, services, attempts, tokens, duration and status per run."""
    import asyncio

    from aibroker.errors import AibrokerError
    from aibroker.server.history import open_history
    from aibroker.settings import get_settings

    settings = get_settings()
    if status not in (None, "pending", "running", "success", "error", "timeout", "interrupted"):
        typer.secho(f"error: unknown status {status!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)

    async def load() -> list[RunRecord]:
        async with open_history(settings) as store:
            await store.recover(own_owner="", stale_after=settings.server_heartbeat_s * 6)
            return await store.list_runs(limit=limit, status=status)  # type: ignore[arg-type]

    try:
        runs = asyncio.run(load())
    except AibrokerError as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps([run.to_api().model_dump() for run in runs], indent=2, default=str))
        return
    if not runs:
        typer.echo("No runs yet. Start one with `aibroker run INTENT` or POST /runs/wait.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("created", "run", "status", "outcome", "services", "attempts", "tokens in/out",
                  "seconds", "intent")  # fmt: skip
    for run in runs:
        table.add_row(*_row(run))
    Console().print(table)
