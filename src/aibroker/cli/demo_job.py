"""The README's main job: ``aibroker demo [INTENT]``, end to end on embedded defaults.

Starts the real demo services, registers them (generate + verify + publish), makes sure the
local model is downloaded and served when no endpoint is configured, then answers example
intents (or the one given), showing the chosen services, each attempt, the code and the answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from aibroker.settings import Settings

EXAMPLE_INTENTS = (
    "Store the key 'greeting' with the value 'hello world', then read it back.",
    "Submit three jobs named build, test and deploy, then count how many jobs are queued.",
    "Create a calendar event 'Team sync' on 2030-01-07 from 10:00 to 10:30 UTC, "
    "then list the events of that day.",
)


def _register_demo(settings: Settings, sockets: dict[str, Path], console: Console) -> None:
    """Register every demo service; a failure is shown but the others still register."""
    from aibroker.registry import Registry

    registry = Registry(settings)
    with console.status("registering the demo services (generate, verify, publish)…"):
        for socket in sorted(sockets.values()):
            outcome = registry.register(f"unix://{socket}")
            colour = "red" if outcome.result == "failed" else "green"
            console.print(f"[{colour}]{outcome.describe()}[/]")


def _ensure_model(settings: Settings, console: Console) -> None:
    """Download (with progress) and serve the local model unless an endpoint is configured."""
    if settings.llm_base_url:
        console.print(f"model: [cyan]{settings.llm_model}[/] at {settings.llm_base_url}")
        return
    from aibroker.localmodel.progress import make_reporter
    from aibroker.localmodel.pull import pull_model
    from aibroker.localmodel.server import ensure_local_server

    with make_reporter() as reporter:
        pulled = pull_model(settings, reporter=reporter)
    console.print(f"model: [cyan]{pulled.path.name}[/] ({pulled.source})")
    with console.status("starting the local model server…"):
        url = ensure_local_server(settings, on_status=lambda message: console.print(message))
    console.print(f"model server: {url}")


def run_demo(settings: Settings, intent: str | None, console: Console) -> int:
    """Run the demo; returns the exit status (0 when every intent succeeded)."""
    from aibroker.cli.agent_session import EXIT_CODES
    from aibroker.demo import DemoCluster

    home = settings.home.expanduser()
    sockets_dir, state_dir = home / "demo" / "sockets", home / "demo" / "state"
    sockets_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    intents = [intent] if intent else list(EXAMPLE_INTENTS)
    with DemoCluster(sockets_dir, state_dir) as cluster:
        console.rule("demo services")
        for name, socket in sorted(cluster.sockets.items()):
            console.print(f"[green]●[/] {name}  [dim]unix://{socket}[/]")
        _register_demo(settings, cluster.sockets, console)
        _ensure_model(settings, console)
        statuses = asyncio.run(_ask_all(intents, settings, console))
        worst = max(EXIT_CODES.get(status, 1) for status in statuses)
    return worst


async def _ask_all(intents: list[str], settings: Settings, console: Console) -> list[str]:
    """Each intent's status, asked one after the other in ONE event loop: the chat model's
    pooled HTTP connections belong to the loop that opened them, so a second
    ``asyncio.run`` would find them bound to a closed loop ("Event loop is closed")."""
    from aibroker.cli.agent_session import run_intent

    statuses = []
    for text in intents:
        console.rule(f"[bold]{text}")
        output = await run_intent(text, settings=settings, console=console)
        statuses.append(str(output.get("status")))
    return statuses
