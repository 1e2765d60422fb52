"""Code mode against a tool-calling baseline: same model, same tasks, fresh demo state each.

Usage::

    .venv/bin/python bench/bench_agent.py [--tasks kv_read,jobs_loop] [--repeat 1]
        [--json results.json] [--max-steps 24]
        [--modes code,baseline,direct]

Every task starts the real demo services (hero_kv, hero_calendar, hero_jobs) on a fresh
state directory, seeds them, runs one agent, and checks the services' state (or the value
the answer reports) through the generated clients, never the wording. Code mode is the
agent graph with the direct route switched off (rerank + write_code + sandboxed script);
the baseline is :mod:`aibroker.tools.baseline`, a ReAct loop over all 23 method tools.
Both use one chat model from settings (the embedded local model unless an endpoint is
configured). LLM calls and tokens come from the responses' usage metadata, collected by a
callback on every chat-model call. A last section compares the direct route (rerank names
one call, ToolNode makes it) with code mode on single-call tasks. Nothing is asserted;
wall times depend on the machine and whatever else shares its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import LLMResult
from rich.console import Console
from rich.table import Table

from aibroker.catalog import InMemoryCatalog
from aibroker.demo import DemoCluster
from aibroker.graph.builder import build_graph
from aibroker.graph.context import Context
from aibroker.llm import make_chat_model
from aibroker.openrpc import parse_document
from aibroker.sandbox import link_client, run_script
from aibroker.settings import Settings
from aibroker.tools import all_method_tools
from aibroker.tools.baseline import DEFAULT_MAX_STEPS, run_baseline
from aibroker.tools.clients import client_class

SPECS = Path(__file__).resolve().parent.parent / "src" / "aibroker" / "demo" / "specs"
Clients = dict[str, Any]  # service name -> connected client


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    """One request, how to seed the services before it, and how to check it was done."""

    name: str
    kind: str
    intent: str
    seed: Callable[[Clients], None]
    check: Callable[[Clients, str], bool]  # (clients, answer text) -> done right?


def _mentions(text: str, value: object) -> bool:
    """``value`` appears in ``text`` as a whole token (7 does not match 17)."""
    return re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w])", text) is not None


def _nothing(clients: Clients) -> None:
    return None


def _seed_users(clients: Clients) -> None:
    kv = clients["hero_kv"]
    for key, value in [("user:42:name", "Ada Lovelace"), ("user:42:email", "ada@example.com"),
                       ("user:7:name", "Alan Turing"), ("user:9:name", "Grace Hopper"),
                       ("config:theme", "dark"), ("config:lang", "en")]:  # fmt: skip
        kv.set(key, value)


def _seed_jobs(clients: Clients) -> None:
    jobs = clients["hero_jobs"]
    for index in range(7):
        jobs.submit_job("resize_image", payload={"n": index})
    for _ in range(3):
        claimed = jobs.claim_next_job("seed-worker")
        jobs.fail_job(claimed.id, "disk full")
    claimed = jobs.claim_next_job("seed-worker")
    jobs.complete_job(claimed.id)  # now: 3 queued, 3 failed, 1 done


def _seed_events(clients: Clients) -> None:
    calendar = clients["hero_calendar"]
    for title, start, end in [("Standup", "09:00", "09:15"), ("Design review", "11:00", "12:00"),
                              ("Retro", "16:00", "17:00")]:  # fmt: skip
        calendar.create_event(title, f"2030-01-07T{start}:00Z", f"2030-01-07T{end}:00Z")
    calendar.create_event("Other day", "2030-01-08T09:00:00Z", "2030-01-08T10:00:00Z")


def _squares_stored(clients: Clients, _answer: str) -> bool:
    kv = clients["hero_kv"]
    return all(kv.get(f"item:{n}") == str(n * n) for n in range(1, 13))


def _batch_submitted(clients: Clients, _answer: str) -> bool:
    jobs = clients["hero_jobs"].list_jobs(name="thumbnail")
    return sorted(job.payload.get("page") for job in jobs) == list(range(1, 16))


def _notified(clients: Clients, _answer: str) -> bool:
    events = clients["hero_calendar"].list_events(
        start="2030-01-07T00:00:00Z", end="2030-01-08T00:00:00Z"
    )
    jobs = clients["hero_jobs"].list_jobs(name="notify")
    return sorted(job.payload.get("event_id") for job in jobs) == sorted(e.id for e in events)


def _team_sync(clients: Clients, _answer: str) -> bool:
    events = clients["hero_calendar"].list_events(
        start="2030-01-07T00:00:00Z", end="2030-01-08T00:00:00Z"
    )
    return [(e.title, e.start, e.end) for e in events] == [
        ("Team sync", "2030-01-07T10:00:00Z", "2030-01-07T10:30:00Z")
    ]


TASKS: tuple[Task, ...] = (
    Task("kv_read", "single read", "What is the value stored under the key 'user:42:name'?",
         _seed_users, lambda c, answer: "Ada Lovelace" in answer),
    Task("kv_write", "single write", "Store the value 'blue' under the key 'color'.",
         _nothing, lambda c, answer: c["hero_kv"].get("color") == "blue"),
    Task("cal_write_read", "write + read",
         "Create a calendar event 'Team sync' on 2030-01-07 from 10:00 to 10:30 UTC, "
         "then list the events of that day.",
         _nothing, lambda c, answer: _team_sync(c, answer) and "Team sync" in answer),
    Task("kv_loop", "loop x12",
         "For every n from 1 to 12, store the square of n under the key 'item:<n>' "
         "(for example item:3 = 9).", _nothing, _squares_stored),
    Task("jobs_loop", "loop x15",
         "Submit 15 jobs named 'thumbnail', with payload {\"page\": n} for n = 1 to 15.",
         _nothing, _batch_submitted),
    Task("cross_notify", "cross-service",
         "For each calendar event on 2030-01-07, submit a job named 'notify' with the "
         "payload {\"event_id\": <the event's id>}.", _seed_events, _notified),
    Task("count_users", "aggregation",
         "How many keys in the key-value store start with 'user:'?",
         _seed_users, lambda c, answer: _mentions(answer, 4)),
    Task("jobs_to_kv", "count + write",
         "Count the jobs that are in state 'failed' and store that number under the key "
         "'failed_jobs' in the key-value store.",
         _seed_jobs, lambda c, answer: c["hero_kv"].get("failed_jobs") == "3"),
)  # fmt: skip
DIRECT_TASKS = ("kv_read", "kv_write")


# --------------------------------------------------------------------------- measuring


class UsageMeter(BaseCallbackHandler):
    """Counts chat-model calls and sums the token usage their responses report."""

    def __init__(self) -> None:
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.calls += 1

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                usage = message.usage_metadata if isinstance(message, AIMessage) else None
                if usage:
                    self.input_tokens += usage.get("input_tokens", 0)
                    self.output_tokens += usage.get("output_tokens", 0)


@dataclass
class Row:
    """One run of one task in one mode."""

    task: str
    kind: str
    mode: str  # code | baseline | direct
    repeat: int
    ok: bool
    status: str
    llm_calls: int
    input_tokens: int
    output_tokens: int
    wall_s: float
    detail: str  # attempts / route / tool calls, for reading the table
    transcript: str = ""  # the last script (code mode) or the tool calls made (baseline)


@dataclass
class World:
    """The generated clients of the demo services and where their sockets will be."""

    root: Path
    sockets_dir: Path
    catalog: InMemoryCatalog
    home: Path  # sandbox home holding the managed venv with the bench's client links


def make_world(root: Path) -> World:
    sockets_dir = root / "sockets"
    documents = {
        path.stem: parse_document(json.loads(path.read_text("utf-8"))).document
        for path in sorted(SPECS.glob("*.json"))
    }
    endpoints = {name: f"unix://{sockets_dir / name}.sock" for name in documents}
    catalog = InMemoryCatalog.from_documents(documents, endpoints=endpoints, out_dir=root / "gen")
    home = root / "home"
    for entry in catalog.entries():
        link_client(home, entry.name, entry.client_path)
    return World(root, sockets_dir, catalog, home)


def connect_all(world: World) -> Clients:
    clients: Clients = {}
    for entry in world.catalog.entries():
        cls: Any = client_class(entry)
        clients[entry.name] = cls.connect(entry.endpoint)
    return clients


async def run_task(
    world: World, task: Task, mode: str, repeat: int, model: BaseChatModel, max_steps: int
) -> Row:
    """Fresh demo state, seed, one agent run, check: one row of the table."""
    state_dir = world.root / f"state-{task.name}-{mode}-{repeat}"
    with DemoCluster(world.sockets_dir, state_dir):
        clients = connect_all(world)
        try:
            task.seed(clients)
            meter = UsageMeter()
            started = time.perf_counter()
            try:
                if mode == "baseline":
                    run = await _baseline(world, task, model, meter, max_steps)
                else:
                    run = await _code_mode(world, task, model, meter, mode)
                status, answer, detail, transcript = run
            except Exception as error:  # recorded in the row and shown; the suite goes on
                status, answer, transcript = "error", "", ""
                detail = f"{type(error).__name__}: {str(error)[:160]}"
            wall = time.perf_counter() - started
            ok = status == "success" and task.check(clients, answer)
        finally:
            for client in clients.values():
                client.close()
    return Row(
        task.name,
        task.kind,
        mode,
        repeat,
        ok,
        status,
        meter.calls,
        meter.input_tokens,
        meter.output_tokens,
        round(wall, 1),
        detail,
        transcript,
    )


async def _code_mode(
    world: World, task: Task, model: BaseChatModel, meter: UsageMeter, mode: str
) -> tuple[str, str, str, str]:
    runner = partial(_sandboxed, home=world.home)
    graph = build_graph(catalog=world.catalog, rerank_model=model, code_model=model, runner=runner)
    context = Context(allow_direct_call=mode == "direct")
    output = await graph.ainvoke({"intent": task.intent}, {"callbacks": [meter]}, context=context)
    route = "direct" if any(t["kind"] == "direct" for t in output["trace"]) else "code"
    answer = f"{output['answer']}\n{json.dumps(output['result'], default=str)}"
    detail = f"{route}, {output['attempts']} script(s)"
    return str(output["status"]), answer, detail, output["code"] or output["trace"][-1]["code"]


async def _sandboxed(code: str, *, services: Any, time_limit: float, home: Path) -> Any:
    from aibroker.sandbox import AllowedService

    allow = [AllowedService(name=entry.name, endpoint=entry.endpoint) for entry in services]
    return await run_script(code, allow=allow, timeout=time_limit, home=home)


async def _baseline(
    world: World, task: Task, model: BaseChatModel, meter: UsageMeter, max_steps: int
) -> tuple[str, str, str, str]:
    tools = await asyncio.to_thread(all_method_tools, world.catalog)
    outcome = await run_baseline(
        model, tools, task.intent, max_steps=max_steps, config={"callbacks": [meter]}
    )
    detail = f"{outcome.tool_calls} tool call(s), {outcome.tool_errors} error(s)"
    calls = [
        f"{call['name']}({json.dumps(call['args'])})"
        for message in outcome.messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
    ]
    return outcome.status, outcome.answer, detail, "\n".join([*calls, outcome.answer])


# --------------------------------------------------------------------------- reporting


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator else "-"


def _sums(rows: list[Row]) -> tuple[int, int, int, int, float]:
    return (
        sum(r.ok for r in rows),
        sum(r.llm_calls for r in rows),
        sum(r.input_tokens for r in rows),
        sum(r.output_tokens for r in rows),
        sum(r.wall_s for r in rows),
    )


def report(rows: list[Row], console: Console) -> None:
    """Per-task table with baseline/code ratios, totals, the goals, and the direct route."""
    table = Table(title="code mode (c) vs tool-calling baseline (b): same model, same tasks")
    for header in (
        "task",
        "kind",
        "ok c/b",
        "LLM calls c/b",
        "input tok c/b",
        "output tok c/b",
        "wall s c/b",
        "b/c in tok",
        "b/c wall",
    ):
        table.add_column(header, justify="left" if header in ("task", "kind") else "right")
    main = [r for r in rows if r.mode in ("code", "baseline")]
    for name in dict.fromkeys(r.task for r in main):
        code = [r for r in main if r.task == name and r.mode == "code"]
        base = [r for r in main if r.task == name and r.mode == "baseline"]
        (c_ok, c_calls, c_in, c_out, c_wall), (b_ok, b_calls, b_in, b_out, b_wall) = (
            _sums(code),
            _sums(base),
        )
        table.add_row(
            name,
            (code or base)[0].kind,
            f"{c_ok}/{len(code)} | {b_ok}/{len(base)}",
            f"{c_calls} | {b_calls}",
            f"{c_in} | {b_in}",
            f"{c_out} | {b_out}",
            f"{c_wall:.0f} | {b_wall:.0f}",
            _ratio(b_in, c_in),
            _ratio(b_wall, c_wall),
        )
    code_all = [r for r in main if r.mode == "code"]
    base_all = [r for r in main if r.mode == "baseline"]
    (c_ok, c_calls, c_in, c_out, c_wall), (b_ok, b_calls, b_in, b_out, b_wall) = (
        _sums(code_all),
        _sums(base_all),
    )
    table.add_section()
    table.add_row(
        "TOTAL",
        "",
        f"{c_ok}/{len(code_all)} | {b_ok}/{len(base_all)}",
        f"{c_calls} | {b_calls}",
        f"{c_in} | {b_in}",
        f"{c_out} | {b_out}",
        f"{c_wall:.0f} | {b_wall:.0f}",
        _ratio(b_in, c_in),
        _ratio(b_wall, c_wall),
    )
    console.print(table)
    details = Table(title="runs", show_lines=False)
    for header in ("task", "mode", "ok", "status", "calls", "in", "out", "wall s", "detail"):
        details.add_column(header)
    for r in rows:
        details.add_row(
            r.task,
            r.mode,
            "yes" if r.ok else "NO",
            r.status,
            str(r.llm_calls),
            str(r.input_tokens),
            str(r.output_tokens),
            f"{r.wall_s:.1f}",
            r.detail,
        )
    console.print(details)
    _goals(main, console)
    _direct(rows, console)


def _goals(main: list[Row], console: Console) -> None:
    first_try = [r for r in main if r.mode == "code" and r.ok and r.detail.endswith(" 1 script(s)")]
    exact = sum(r.llm_calls == 2 for r in first_try)
    console.print(
        f"goal: first-try code-mode successes using exactly 2 LLM calls: {exact}/{len(first_try)}"
    )
    multi = [t.name for t in TASKS if t.kind.startswith(("loop", "cross", "count +"))]
    for name in multi:
        code = [r for r in main if r.task == name and r.mode == "code"]
        base = [r for r in main if r.task == name and r.mode == "baseline"]
        if code and base:
            ratio = _sums(base)[2] / max(1, _sums(code)[2])
            verdict = "met" if ratio >= 5 else "NOT met"
            console.print(
                f"goal: {name}: baseline/code input tokens {ratio:.1f}x (>= 5x {verdict})"
            )
    c_rate = sum(r.ok for r in main if r.mode == "code")
    b_rate = sum(r.ok for r in main if r.mode == "baseline")
    verdict = "met" if c_rate >= b_rate else "NOT met"
    console.print(f"goal: success rate code {c_rate} vs baseline {b_rate} (not below: {verdict})")


def _direct(rows: list[Row], console: Console) -> None:
    direct = [r for r in rows if r.mode == "direct"]
    if not direct:
        return
    table = Table(title="direct route (rerank names one call -> ToolNode) vs code mode")
    for header in ("task", "route", "ok", "LLM calls", "input tok", "output tok", "wall s"):
        table.add_column(header)
    for r in direct:
        code = [c for c in rows if c.task == r.task and c.mode == "code" and c.repeat == r.repeat]
        for row, label in [(r, f"direct allowed ({r.detail})"), *((c, "code only") for c in code)]:
            table.add_row(
                row.task,
                label,
                "yes" if row.ok else "NO",
                str(row.llm_calls),
                str(row.input_tokens),
                str(row.output_tokens),
                f"{row.wall_s:.1f}",
            )
    console.print(table)


# --------------------------------------------------------------------------- main


async def run_all(args: argparse.Namespace, console: Console) -> list[Row]:
    wanted = set(args.tasks.split(",")) if args.tasks else None
    tasks = [t for t in TASKS if wanted is None or t.name in wanted]
    unknown = (wanted or set()) - {t.name for t in TASKS}
    if unknown:
        raise SystemExit(
            f"unknown task(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(t.name for t in TASKS)}"
        )
    settings = Settings()
    model = await asyncio.to_thread(make_chat_model, settings, role="code")
    console.print(f"model: {settings.llm_model} at {getattr(model, 'openai_api_base', '?')}")
    root = Path(tempfile.mkdtemp(prefix="abench-"))  # short: unix socket paths are limited
    rows: list[Row] = []
    try:
        world = await asyncio.to_thread(make_world, root)
        modes = [m for m in ("code", "baseline") if m in args.modes.split(",")]
        plan = [(t, m) for t in tasks for m in modes]
        if "direct" in args.modes.split(","):
            plan += [(t, "direct") for t in tasks if t.name in DIRECT_TASKS]
        for repeat in range(1, args.repeat + 1):
            for task, mode in plan:
                row = await run_task(world, task, mode, repeat, model, args.max_steps)
                rows.append(row)
                console.print(
                    f"[dim]{row.task:<14} {row.mode:<8} ok={row.ok!s:<5} "
                    f"calls={row.llm_calls:<3} in={row.input_tokens:<6} "
                    f"out={row.output_tokens:<5} {row.wall_s:6.1f}s  {row.detail}[/]"
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="", help="comma-separated task names (default all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per task and mode")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--max-steps",
        type=int,
        default=DEFAULT_MAX_STEPS,
        help="model calls the baseline may make per task",
    )
    parser.add_argument(
        "--modes", default="code,baseline,direct", help="which of code,baseline,direct to run"
    )
    args = parser.parse_args()
    console = Console(width=max(140, Console().width))
    rows = asyncio.run(run_all(args, console))
    report(rows, console)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", "utf-8")
        console.print(f"rows written to {args.json}")


if __name__ == "__main__":
    main()
