"""CLI commands of the service registry: discover, register, list, show, roll back, watch.

Exit codes: 0 success; 1 something failed (a source during discovery, the home not
writable, …); 2 the user named something that does not exist (a service, a version) — the
message lists what does. Every listing takes ``--json`` for scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from aibroker.cli.app import app

if TYPE_CHECKING:
    from aibroker.registry import Outcome, Registry
    from aibroker.registry.registry import Artifact

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NameArgument = Annotated[str, typer.Argument(help="Service name (see `aibroker services`).")]
_PROGRESS_THRESHOLD = 4  # show a progress bar from this many sources on


def _registry() -> Registry:
    from aibroker.registry import Registry

    return Registry()


def _fail(error: Exception) -> NoReturn:
    from aibroker.errors import AibrokerError
    from aibroker.registry import ServiceNotFoundError, VersionNotFoundError

    message = error.message if isinstance(error, AibrokerError) else str(error)
    typer.echo(f"error: {message}", err=True)
    hint = getattr(error, "hint", None)
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(2 if isinstance(error, ServiceNotFoundError | VersionNotFoundError) else 1)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _outcome_table(outcomes: list[Outcome]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "result", "version", "methods", "time", "detail")
    styles = {"new": "green", "updated": "cyan", "failed": "red", "gone": "yellow"}
    for outcome in outcomes:
        version = outcome.version_label or "-"
        if outcome.result == "updated" and outcome.previous is not None:
            version = f"v{outcome.previous}→{version}"
        style = styles.get(outcome.result, "")
        detail = outcome.error or "; ".join(outcome.warnings[:1]) or ""
        table.add_row(
            outcome.name or outcome.source,
            f"[{style}]{outcome.result}[/]" if style else outcome.result,
            version,
            "-" if outcome.methods is None else str(outcome.methods),
            f"{outcome.duration_s:.2f}s",
            detail,
        )
    Console(soft_wrap=False).print(table)


@app.command()
def discover(
    sockets_dir: Annotated[
        Path | None,
        typer.Option("--sockets-dir", help="Directory of *.sock services (default: setting)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Regenerate even when the spec is unchanged.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Discover services on unix sockets (and services.toml), publish what changed."""
    import asyncio

    from rich.progress import Progress

    from aibroker.errors import AibrokerError

    registry = _registry()
    progress = Progress(transient=True, disable=as_json)
    task = progress.add_task("discovering", total=None)

    def on_sources(total: int) -> None:
        progress.update(task, total=total)
        if total >= _PROGRESS_THRESHOLD:
            progress.start()

    def on_outcome(outcome: Outcome) -> None:
        progress.update(task, advance=1, description=outcome.name or "discovering")

    try:
        outcomes = asyncio.run(
            registry.adiscover(
                sockets_dir, force=force, on_outcome=on_outcome, on_sources=on_sources
            )
        )
    except AibrokerError as error:
        _fail(error)
    finally:
        progress.stop()
    if as_json:
        _print_json([outcome.to_dict() for outcome in outcomes])
    elif outcomes:
        _outcome_table(outcomes)
    else:
        where = sockets_dir or registry.settings.sockets_dir
        typer.echo(f"no services found (no *.sock in {where}, no services.toml entries)")
    if any(outcome.result == "failed" for outcome in outcomes):
        raise typer.Exit(1)


@app.command()
def register(
    source: Annotated[
        str, typer.Argument(help="Spec file, unix socket (path or unix://), or http(s) URL.")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Service name (default: from the title).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="Where the service is called (for a spec file)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Regenerate and re-verify even if unchanged.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Register one service (or update it: the same source again is an update)."""
    from aibroker.errors import AibrokerError

    try:
        outcome = _registry().register(source, name=name, endpoint=endpoint, force=force)
    except AibrokerError as error:
        _fail(error)
    if as_json:
        _print_json(outcome.to_dict())
    else:
        typer.echo(outcome.describe())
        for warning in outcome.warnings:
            typer.echo(f"warning: {warning}", err=True)
    if outcome.result == "failed":
        raise typer.Exit(1)


@app.command()
def services(as_json: JsonOption = False) -> None:
    """List registered services: version, methods, endpoint, status, last verified."""
    from rich.console import Console
    from rich.table import Table

    from aibroker.errors import AibrokerError

    try:
        rows = _registry().services()
    except AibrokerError as error:
        _fail(error)
    if as_json:
        _print_json([row.to_dict() for row in rows])
        return
    if not rows:
        typer.echo("no services registered; run `aibroker discover` or `aibroker register`")
        return
    table = Table("name", "version", "methods", "endpoint", "status", "last verified")
    for row in rows:
        status = row.status + (f" (pinned {row.version_label})" if row.pinned else "")
        table.add_row(
            row.name,
            row.version_label or "-",
            "-" if row.methods is None else str(row.methods),
            row.endpoint or "-",
            status,
            row.verified_at or "-",
        )
    Console(soft_wrap=False).print(table)


def _show(name: str, artifact: Artifact) -> None:
    from aibroker.errors import AibrokerError

    try:
        text = _registry().read(name, artifact)
    except AibrokerError as error:
        _fail(error)
    typer.echo(text, nl=not text.endswith("\n"))


@app.command()
def interface(name: NameArgument) -> None:
    """Print the live version's interface (what the agent reads)."""
    _show(name, "interface")


@app.command()
def client(name: NameArgument) -> None:
    """Print the live version's generated Python client."""
    _show(name, "client")


@app.command()
def spec(name: NameArgument) -> None:
    """Print the live version's OpenRPC document."""
    _show(name, "spec")


@app.command()
def versions(name: NameArgument, as_json: JsonOption = False) -> None:
    """List a service's versions, newest first, with status and reason."""
    from rich.console import Console
    from rich.table import Table

    from aibroker.errors import AibrokerError

    try:
        infos = _registry().versions(name)
    except AibrokerError as error:
        _fail(error)
    if as_json:
        _print_json([info.to_dict() for info in infos])
        return
    table = Table("version", "current", "status", "methods", "created", "spec hash", "reason")
    for info in infos:
        methods = info.meta.get("method_count")
        table.add_row(
            info.label,
            "*" if info.is_current else "",
            info.status,
            "-" if methods is None else str(methods),
            str(info.meta.get("created_at", "-")),
            (info.spec_hash or "-")[:12],
            info.reason or "",
        )
    Console(soft_wrap=False).print(table)


@app.command()
def rollback(
    name: NameArgument,
    version: Annotated[
        str | None, typer.Argument(help="Version to make current (v3 or 3); default: previous.")
    ] = None,
) -> None:
    """Make an older good version current (and pin it until `register --force`)."""
    from aibroker.errors import AibrokerError

    number: int | None = None
    if version is not None:
        text = version.lower().removeprefix("v")
        if not text.isdigit():
            typer.echo(f"error: {version!r} is not a version (write v3 or 3)", err=True)
            raise typer.Exit(2)
        number = int(text)
    try:
        info = _registry().rollback(name, number)
    except AibrokerError as error:
        _fail(error)
    typer.echo(f"{name}: current is now {info.label}")


@app.command()
def unregister(name: NameArgument) -> None:
    """Remove a service and all its versions."""
    from aibroker.errors import AibrokerError

    try:
        _registry().unregister(name)
    except AibrokerError as error:
        _fail(error)
    typer.echo(f"{name}: unregistered")


@app.command()
def watch(
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between discoveries.")
    ] = 30.0,
    sockets_dir: Annotated[
        Path | None,
        typer.Option("--sockets-dir", help="Directory of *.sock services (default: setting)."),
    ] = None,
    cycles: Annotated[
        int | None, typer.Option("--cycles", min=1, help="Stop after N cycles.", hidden=True)
    ] = None,
) -> None:
    """Re-discover periodically, printing changes (updated / failed / gone), until Ctrl-C."""
    import asyncio

    from aibroker.errors import AibrokerError

    seen: dict[str, str] = {}

    def on_cycle(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            repeated = outcome.result in ("unchanged", "gone") and (
                seen.get(outcome.source) == outcome.result
            )
            if not repeated:
                typer.echo(outcome.describe())
            seen[outcome.source] = outcome.result

    typer.echo(f"watching every {interval:g} s (Ctrl-C to stop)", err=True)
    try:
        asyncio.run(
            _registry().awatch(interval, sockets_dir=sockets_dir, on_cycle=on_cycle, cycles=cycles)
        )
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    except AibrokerError as error:
        _fail(error)
