"""Run one intent through the agent from the command line, with live progress.

Shared by ``aibroker run`` and ``aibroker demo``: it opens the SQLite checkpointer (so a
``--thread`` follow-up sees earlier turns), streams the graph node by node, prints what each
node decided (services chosen, attempt k/N, check and run outcome), records the run in the
run history that ``aibroker history`` and ``GET /runs`` read, and returns the output state.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax

from aibroker.graph.context import Context
from aibroker.graph.state import InputState
from aibroker.nodes.calls import count_calls
from aibroker.settings import Settings

OUTPUT_KEYS = ("answer", "result", "status", "attempts", "code", "trace", "usage", "chosen")
EXIT_CODES = {"success": 0, "failed": 1, "no_service": 2}
"""Process exit status per outcome: scripts can tell "gave up" from "nothing fits"."""


def _describe(node: str, update: dict[str, Any], max_attempts: int) -> str | None:
    """One progress line for a node's state update, or None when there is nothing to say."""
    trace = update.get("trace") or []
    last = trace[-1] if trace else None
    if node == "rerank":
        chosen = update.get("chosen") or []
        direct = update.get("direct")
        if direct:
            return f"[cyan]rerank[/]: direct call {direct['service']}.{direct['method']}"
        return f"[cyan]rerank[/]: services {', '.join(chosen)}" if chosen else None
    if node == "write_code" and last is not None:
        problem = "" if last["check"] in ("ok", "pending") else f" [red]{last['check']}[/]"
        return f"[cyan]attempt {last['attempt']}/{max_attempts}[/]: script written{problem}"
    if node == "check_code" and last is not None:
        if last["check"] == "ok":
            return "  check: [green]ok[/]"
        return f"  check: [red]failed[/] {last['check']}"
    if node == "run_code" and last is not None:
        seconds = last["durations"].get("run", 0.0)
        made = count_calls(last.get("calls") or [])
        calls = f"{made}{'+' if last.get('calls_truncated') else ''} calls" if made else ""
        if last["error"] is None:
            done = f"  run: [green]exit {last['exit_code']}[/] in {seconds:.2f}s"
            return f"{done}, {calls}" if calls else done
        failed = f"[red]failed[/] after {calls}:" if calls else "[red]failed[/]"
        return f"  run: {failed} {last['error'].get('message', '')[:200]}"
    if node == "call_tool" and last is not None:
        return "  call: [green]ok[/]" if last["error"] is None else "  call: [red]failed[/]"
    return None


async def _record(settings: Settings, run_id: str, thread_id: str, intent: str,
                  output: dict[str, Any], started: float) -> None:  # fmt: skip
    """Persist the finished run so ``aibroker history`` and the dashboard show CLI runs too."""
    from aibroker.server.history import open_history
    from aibroker.server.records import RunRecord, new_owner, now

    async with open_history(settings) as history:
        await history.add_run(
            RunRecord(
                run_id=run_id, thread_id=thread_id, agent_id="aibroker", status="success",
                intent=intent, input={"intent": intent}, owner=new_owner(), created_at=started,
                started_at=started, finished_at=now(), output=output,
                metadata={"source": "cli"},
            )
        )  # fmt: skip


async def run_intent(
    intent: str,
    *,
    settings: Settings,
    console: Console,
    services: list[str] | None = None,
    thread_id: str | None = None,
    context: Context | None = None,
    show_code: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """Answer ``intent``; print progress unless ``quiet``; return the graph's output state."""
    from aibroker.graph.builder import build_graph
    from aibroker.graph.checkpoint import open_checkpointer

    context = context or Context()
    thread_id = thread_id or uuid.uuid4().hex
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    started = time.time()
    async with open_checkpointer(settings) as saver:
        graph = build_graph(saver, settings=settings)
        with console.status("thinking…", spinner="dots") as status:
            async for node_updates in graph.astream(
                InputState(intent=intent, services=services),
                config,
                context=context,
                stream_mode="updates",
            ):
                for node, update in node_updates.items():
                    line = _describe(node, update or {}, context.max_attempts)
                    if line and not quiet:
                        console.print(line)
                    status.update(f"{node} done…")
        snapshot = await graph.aget_state(config)
    output = {key: snapshot.values.get(key) for key in OUTPUT_KEYS}
    await _record(settings, uuid.uuid4().hex, thread_id, intent, output, started)
    if not quiet:
        print_answer(console, output, thread_id=thread_id, show_code=show_code)
    return output


def print_answer(
    console: Console, output: dict[str, Any], *, thread_id: str, show_code: bool
) -> None:
    """The final script (highlighted), the answer, and a one-line summary of the run."""
    if show_code and output.get("code"):
        console.print(Syntax(output["code"], "python", line_numbers=False, word_wrap=True))
    colour = {"success": "green", "failed": "red"}.get(str(output.get("status")), "yellow")
    console.print(Panel(str(output.get("answer") or ""), title=f"[{colour}]{output['status']}[/]"))
    usage = output.get("usage") or {}
    tokens_in = sum(stage.get("input", 0) for stage in usage.values())
    tokens_out = sum(stage.get("output", 0) for stage in usage.values())
    console.print(
        f"[dim]attempts {output.get('attempts')} · tokens in {tokens_in} / out {tokens_out}"
        f" · thread {thread_id}[/]"
    )
