"""CLI commands: ``aibroker generate`` (clients + interfaces to a directory), ``aibroker inspect``.

``generate`` carries on past a failing source so one broken service does not hide the
others, then exits 1 if any failed. Both take ``--json`` for scripts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from aibroker.cli.app import app

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command()
def generate(
    sources: Annotated[
        list[str], typer.Argument(help="Spec files, http(s) URLs or unix sockets (rpc.discover).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory receiving <service>/ folders.")],
    as_json: JsonOption = False,
) -> None:
    """Generate a typed client, interface and card for each OpenRPC source."""
    from aibroker.errors import AibrokerError

    rows: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    taken: dict[str, str] = {}
    for source in sources:
        try:
            rows.append(_generate_one(source, out, taken))
        except AibrokerError as error:
            failures.append((source, str(error)))
    if as_json:
        payload = {"generated": rows, "failed": [{"source": s, "error": e} for s, e in failures]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        _print_table(rows, failures)
    if failures:
        raise typer.Exit(1)


def _generate_one(source: str, out: Path, taken: dict[str, str]) -> dict[str, Any]:
    from aibroker.codegen import CodegenError
    from aibroker.codegen import generate as generate_service
    from aibroker.codegen.output import write_service
    from aibroker.openrpc import load_spec
    from aibroker.tokens import count_tokens

    started = time.perf_counter()
    raw_spec, parsed = load_spec(source)
    generated = generate_service(parsed.document, endpoint=raw_spec.endpoint)
    if generated.name in taken:
        raise CodegenError(
            f"{source}: gives the service name {generated.name!r}, like {taken[generated.name]}",
            hint="generate them into different --out directories",
        )
    taken[generated.name] = source
    directory = write_service(out, generated, raw_spec.raw, parsed.spec_hash)
    elapsed_ms = (time.perf_counter() - started) * 1000
    spec_tokens = count_tokens(json.dumps(raw_spec.raw))
    interface_tokens = count_tokens(generated.interface)
    return {
        "source": source,
        "service": generated.name,
        "directory": str(directory),
        "methods": generated.method_count,
        "spec_tokens": spec_tokens,
        "interface_tokens": interface_tokens,
        "reduction_percent": round(100 * (1 - interface_tokens / spec_tokens), 1)
        if spec_tokens
        else 0.0,
        "time_ms": round(elapsed_ms, 1),
        "warnings": list(parsed.warnings),
    }


def _print_table(rows: list[dict[str, Any]], failures: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if rows:
        table = Table("service", "methods", "spec tokens", "interface tokens", "reduction", "time")
        for row in rows:
            table.add_row(
                row["service"],
                str(row["methods"]),
                str(row["spec_tokens"]),
                str(row["interface_tokens"]),
                f"{row['reduction_percent']:.1f}%",
                f"{row['time_ms']:.0f} ms",
            )
        console.print(table)
    error_console = Console(stderr=True)
    for source, error in failures:
        error_console.print(f"[red]failed: {escape(source)}: {escape(error)}[/red]")


@app.command()
def inspect(
    source: Annotated[str, typer.Argument(help="Spec file, http(s) URL or unix socket.")],
    method: Annotated[
        str | None, typer.Option("--method", help="Show the full detail of this one method.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a service's card and interface, or one method's full detail."""
    from aibroker.codegen import generate as generate_service
    from aibroker.codegen import method_detail
    from aibroker.errors import AibrokerError
    from aibroker.openrpc import load_spec

    try:
        raw_spec, parsed = load_spec(source)
        generated = generate_service(parsed.document, endpoint=raw_spec.endpoint)
        detail = method_detail(parsed.document, method) if method is not None else None
    except AibrokerError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from error
    if as_json:
        payload: dict[str, Any] = {"service": generated.name, "card": generated.card}
        payload.update({"method": method, "detail": detail} if method else {})
        if not method:
            payload["interface"] = generated.interface
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    _show(generated.card + "\n\n" + (detail if detail is not None else generated.interface))


def _show(text: str) -> None:
    from rich.console import Console
    from rich.syntax import Syntax

    console = Console()
    if console.is_terminal:
        console.print(Syntax(text, "python", word_wrap=True))
    else:
        typer.echo(text, nl=False)
