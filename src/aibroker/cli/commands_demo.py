"""``aibroker demo …``: the demo services (``up``, ``down``, ``status``) and the agent demo.

``demo`` is a group whose unknown first word is an *intent* for the agent demo: ``aibroker
demo`` and ``aibroker demo "how many jobs failed?"`` both go to :func:`demo_run`, while
``up``, ``down`` and ``status`` stay subcommands. :class:`DemoGroup` does that routing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from typer.core import TyperGroup

from aibroker.cli.app import app

if TYPE_CHECKING:
    # Typer vendors click; its groups take the vendored Context, not click's own.
    from typer._click import Context

    from aibroker.demo.cluster import Endpoints
    from aibroker.errors import AibrokerError

DEFAULT_COMMAND = "run"
_GROUP_OPTIONS = ("--help",)


class DemoGroup(TyperGroup):
    """A group that runs :data:`DEFAULT_COMMAND` when no subcommand is named."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in _GROUP_OPTIONS):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


demo_app = typer.Typer(
    cls=DemoGroup,
    help="Run the agent demo (`aibroker demo [INTENT]`) or manage the demo services.",
    no_args_is_help=False,
)
app.add_typer(demo_app, name="demo")

SocketsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--sockets-dir",
        help="Where the services' unix sockets go (default: the sockets_dir setting).",
        show_default=False,
    ),
]
StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Databases, pid file and log (default: AIBROKER_HOME/demo).",
        show_default=False,
    ),
]


@demo_app.command("run")
def demo_run(
    intent: Annotated[
        str | None, typer.Argument(help="What to ask the agent, in plain words.")
    ] = None,
) -> None:
    """Answer INTENT (or example intents) with the agent, against the demo services."""
    from rich.console import Console

    from aibroker.cli.demo_job import run_demo
    from aibroker.errors import AibrokerError
    from aibroker.settings import get_settings

    console = Console()
    try:
        status = run_demo(get_settings(), intent, console)
    except AibrokerError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from error
    raise typer.Exit(status)


@demo_app.command("up")
def demo_up(
    sockets_dir: SocketsDirOption = None,
    state_dir: StateDirOption = None,
    http: Annotated[bool, typer.Option("--http", help="Also serve HTTP on 127.0.0.1.")] = False,
    detach: Annotated[
        bool, typer.Option("--detach", help="Run in the background (stop with `demo down`).")
    ] = False,
) -> None:
    """Start the demo services (hero_calendar, hero_jobs, hero_kv)."""
    from aibroker.demo import daemon
    from aibroker.demo.errors import DemoError

    sockets, state = _sockets_dir(sockets_dir), _state_dir(state_dir)
    try:
        if detach:
            process = daemon.start_detached(sockets, state, http=http)
            typer.echo(f"demo services started in the background (pid {process.pid}):")
            for line in daemon.describe(process):
                typer.echo(line)
            typer.echo(f"log: {state / daemon.LOG_FILE}; stop them with `aibroker demo down`")
            return

        def announce(endpoints: Endpoints) -> None:
            typer.echo("demo services listening:")
            for line in daemon.describe(endpoints):
                typer.echo(line)
            typer.echo("press Ctrl-C to stop")

        daemon.run_foreground(sockets, state, http=http, on_ready=announce)
        typer.echo("demo services stopped; sockets removed")
    except DemoError as error:
        _fail(error)


@demo_app.command("down")
def demo_down(state_dir: StateDirOption = None) -> None:
    """Stop the demo services started with `demo up` and remove their sockets."""
    from aibroker.demo import daemon
    from aibroker.demo.errors import DemoError

    state = _state_dir(state_dir)
    try:
        process = daemon.stop(state)
    except DemoError as error:
        _fail(error)
    if process is None:
        typer.echo(f"demo services are not running (nothing serves {state})")
        return
    typer.echo(f"demo services stopped (pid {process.pid}); sockets removed")


@demo_app.command("status")
def demo_status(state_dir: StateDirOption = None) -> None:
    """Say whether the demo services run, and where their sockets are (exit 1 if not)."""
    from aibroker.demo import daemon
    from aibroker.demo.errors import DemoError

    state = _state_dir(state_dir)
    try:
        process = daemon.running_process(state)
    except DemoError as error:
        _fail(error)
    if process is None:
        typer.echo(f"demo services are not running (nothing serves {state})")
        raise typer.Exit(1)
    typer.echo(f"demo services running (pid {process.pid}, since {process.started_at}):")
    for line in daemon.describe(process):
        typer.echo(line)


def _fail(error: AibrokerError) -> NoReturn:
    typer.echo(f"error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)
    raise typer.Exit(1)


def _sockets_dir(option: Path | None) -> Path:
    from aibroker.settings import get_settings

    return (option or get_settings().sockets_dir).expanduser()


def _state_dir(option: Path | None) -> Path:
    from aibroker.settings import get_settings

    return (option or get_settings().home.expanduser() / "demo").expanduser()
