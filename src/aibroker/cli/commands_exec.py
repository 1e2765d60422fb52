"""``aibroker exec FILE``: run a script in the sandbox, as the agent would."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aibroker.cli.app import app

if TYPE_CHECKING:
    from aibroker.sandbox import AllowedService, RunResult

ALLOW_HELP = (
    "A service the script may reach: NAME=ENDPOINT (unix:///path.sock, a socket path, "
    "http+unix://…, http://…) or a registered NAME. Repeatable."
)


@app.command("exec")
def exec_command(
    file: Annotated[
        Path,
        typer.Argument(help="The Python script to run.", exists=True, dir_okay=False),
    ],
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Wall-clock seconds (default from settings).")
    ] = None,
    allow: Annotated[list[str] | None, typer.Option("--allow", help=ALLOW_HELP)] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the whole RunResult as JSON instead.")
    ] = False,
) -> None:
    """Run FILE in the sandbox; the exit code mirrors the script's (1 on timeout or limit)."""
    from aibroker.errors import AibrokerError
    from aibroker.sandbox import run_script_sync
    from aibroker.settings import get_settings

    settings = get_settings()
    try:
        services = [_parse_allow(spec, settings.home.expanduser()) for spec in allow or ()]
        result = run_script_sync(
            file.read_text(encoding="utf-8"), allow=services, timeout=timeout, settings=settings
        )
    except AibrokerError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        sys.stderr.write(result.stderr)
        typer.secho(_status_line(result), fg=_status_colour(result), err=True)
    raise typer.Exit(_exit_code(result))


def _parse_allow(spec: str, home: Path) -> AllowedService:
    """``NAME=ENDPOINT``, or ``NAME`` read from the registry's ``services/NAME/source``."""
    from aibroker.sandbox import AllowedService, SandboxError

    name, separator, endpoint = spec.partition("=")
    name = name.strip()
    if separator:
        if not name or not endpoint.strip():
            raise SandboxError(f"--allow {spec!r} is malformed", hint="use NAME=ENDPOINT")
        return AllowedService(name, endpoint.strip())
    source = home / "services" / name / "source"
    try:
        registered = source.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SandboxError(
            f"service {name!r} is not registered (no {source})",
            hint=f"pass --allow {name}=ENDPOINT, or register the service first",
        ) from exc
    return AllowedService(name, registered)


def _status_line(result: RunResult) -> str:
    parts = [
        f"exit={result.exit_code if result.exit_code is not None else '-'}",
        f"{result.duration_s * 1000:.0f} ms",
        f"isolation={result.isolation}",
    ]
    if result.calls:
        parts.append(f"calls={len(result.calls)}{'+' if result.calls_truncated else ''}")
    if result.killed_by:
        parts.append(f"killed_by={result.killed_by}")
    truncated = [
        n
        for n, t in (("stdout", result.stdout_truncated), ("stderr", result.stderr_truncated))
        if t
    ]
    if truncated:
        parts.append(f"truncated={','.join(truncated)}")
    if result.failure is not None:
        parts.append(f"failure={result.failure.summary()}")
    return ("ok " if result.ok else "FAILED ") + " ".join(parts)


def _status_colour(result: RunResult) -> str:
    return typer.colors.GREEN if result.ok else typer.colors.RED


def _exit_code(result: RunResult) -> int:
    if result.exit_code is not None:
        return result.exit_code if result.exit_code != 0 or result.ok else 1
    return 1
