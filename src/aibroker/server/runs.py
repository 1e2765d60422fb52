"""Executing runs: persist, queue, stream node by node, record the outcome.

A run is written to the history as ``pending`` before anything executes, so it can never go
missing: it then ends ``success`` (the graph finished; its own verdict is in the output),
``error`` (the graph raised, or the server died — see :meth:`RunHistory.recover`),
``timeout``, or ``interrupted`` (cancelled on request, :meth:`RunManager.cancel`). At most
``server_max_concurrent_runs`` execute at once; runs on one thread run one after another
(LangGraph's ``enqueue`` strategy), since they share its checkpoints.

Streaming subscribers read a per-run event log that is replayed from the start, so a client
that subscribes after the run began still sees every event; once a run is finished its log
is dropped and the record in the history is the source of truth.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aibroker.errors import AibrokerError
from aibroker.graph.context import Context
from aibroker.graph.state import OutputState
from aibroker.server.history import RunHistory
from aibroker.server.records import RunRecord, RunStatus, ThreadRecord, now

log = logging.getLogger(__name__)

OUTPUT_KEYS = tuple(sorted(OutputState.__required_keys__ | OutputState.__optional_keys__))
STREAM_MODES = ("values", "updates")


class RunInput(BaseModel):
    """The graph's input: an intent, optionally restricted to some services."""

    model_config = ConfigDict(extra="forbid")

    intent: str = Field(min_length=1, max_length=20_000, description="What the person wants.")
    services: list[str] | None = Field(
        default=None, description="Only these services may be used (default: all)."
    )


class RunCreate(BaseModel):
    """A run request in the shape ``langgraph_sdk`` sends (unknown SDK fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    assistant_id: str = Field(default="aibroker", description="The agent to run.")
    input: RunInput
    context: dict[str, Any] | None = Field(
        default=None, description="Context fields (max_attempts, exec_timeout, summarize, …)."
    )
    metadata: dict[str, Any] | None = None
    stream_mode: str | list[str] | None = Field(
        default=None, description="values and/or updates (stream endpoints only)."
    )
    if_not_exists: Literal["create", "reject"] | None = Field(
        default=None, description="create: make the thread if it does not exist yet."
    )
    timeout_s: float | None = Field(
        default=None, gt=0, description="Stop the run after this many seconds (status timeout)."
    )


class RunRequestError(AibrokerError):
    """A run request that cannot be executed as given (bad context, unknown agent)."""


class RunNotFoundError(AibrokerError):
    """No run with this id is in the history."""


class RunNotCancellableError(AibrokerError):
    """The run has already finished, or executes on another server process."""


@dataclass
class _RunChannel:
    """The event log of one active run, replayed to every subscriber."""

    events: list[tuple[str, Any]] = field(default_factory=list)
    done: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def publish(self, event: str, data: Any, *, last: bool = False) -> None:
        async with self.changed:
            self.events.append((event, data))
            self.done = self.done or last
            self.changed.notify_all()


def _grown(channel: _RunChannel, seen: int) -> bool:
    return len(channel.events) > seen


def make_context(values: dict[str, Any] | None) -> Context:
    """A :class:`Context` from request JSON, with a clear error for unknown or bad fields."""
    try:
        return Context(**(values or {}))
    except AibrokerError as exc:
        raise RunRequestError(f"invalid run context: {exc.message}", hint=exc.hint) from exc
    except TypeError as exc:
        known = ", ".join(sorted(Context.__dataclass_fields__))
        raise RunRequestError(f"invalid run context: {exc}", hint=f"known fields: {known}") from exc


class RunManager:
    """Creates, executes and streams runs of one compiled graph."""

    def __init__(
        self,
        graph: Any,
        history: RunHistory,
        *,
        agent_id: str,
        owner: str,
        max_concurrent: int,
        run_timeout: float,
        on_finished: Callable[[RunRecord], None] | None = None,
    ) -> None:
        self.graph = graph
        self.history = history
        self.agent_id = agent_id
        self.owner = owner
        self.run_timeout = run_timeout
        self._slots = asyncio.Semaphore(max(1, max_concurrent))
        self._thread_locks: dict[str, asyncio.Lock] = {}
        self._thread_users: dict[str, int] = {}
        self._channels: dict[str, _RunChannel] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel_requested: set[str] = set()
        self._on_finished = on_finished

    @property
    def active_run_ids(self) -> list[str]:
        return list(self._tasks)

    def thread_busy(self, thread_id: str) -> bool:
        lock = self._thread_locks.get(thread_id)
        return lock is not None and lock.locked()

    async def ensure_thread(self, thread_id: str) -> None:
        if await self.history.get_thread(thread_id) is None:
            stamp = now()
            await self.history.add_thread(
                ThreadRecord(thread_id=thread_id, created_at=stamp, updated_at=stamp)
            )

    async def start(self, request: RunCreate, *, thread_id: str | None) -> RunRecord:
        """Persist a pending run and schedule it; returns at once."""
        if request.assistant_id not in (self.agent_id, "agent"):
            raise RunRequestError(
                f"unknown agent {request.assistant_id!r}",
                hint=f"this server runs the agent {self.agent_id!r} (see GET /agents)",
            )
        context = make_context(request.context)
        if thread_id is None:
            thread_id = str(uuid.uuid4())
        await self.ensure_thread(thread_id)
        graph_input = request.input.model_dump(exclude_none=True)
        run = RunRecord(
            run_id=str(uuid.uuid4()),
            thread_id=thread_id,
            agent_id=self.agent_id,
            status="pending",
            intent=request.input.intent,
            input=graph_input,
            owner=self.owner,
            created_at=now(),
            metadata=request.metadata or {},
        )
        await self.history.add_run(run)
        channel = _RunChannel()
        self._channels[run.run_id] = channel
        await channel.publish("metadata", {"run_id": run.run_id, "thread_id": thread_id})
        timeout = min(request.timeout_s or self.run_timeout, self.run_timeout)
        task = asyncio.create_task(self._execute(run, context, timeout), name=run.run_id)
        self._tasks[run.run_id] = task
        return run

    async def _execute(self, run: RunRecord, context: Context, limit_s: float) -> None:
        channel = self._channels[run.run_id]
        status: RunStatus = "error"
        output: dict[str, Any] | None = None
        error: str | None = None
        lock = self._thread_locks.setdefault(run.thread_id, asyncio.Lock())
        self._thread_users[run.thread_id] = self._thread_users.get(run.thread_id, 0) + 1
        try:
            async with self._slots, lock:
                await self.history.mark_running(run.run_id)
                config = {"configurable": {"thread_id": run.thread_id}, "run_id": run.run_id}
                values: dict[str, Any] = {}
                async with asyncio.timeout(limit_s):
                    async for mode, chunk in self.graph.astream(
                        run.input, config, context=context, stream_mode=list(STREAM_MODES)
                    ):
                        if mode == "values":
                            values = dict(chunk)
                            chunk = {k: values[k] for k in OUTPUT_KEYS if k in values}
                        await channel.publish(mode, chunk)
                output = {key: values.get(key) for key in OUTPUT_KEYS}
                status = "success"
        except TimeoutError:
            status, error = "timeout", f"the run did not finish within {limit_s:g} s"
        except asyncio.CancelledError:
            if run.run_id not in self._cancel_requested:
                status, error = "error", "the server shut down while the run was executing"
                raise
            # Our own cancel (RunManager.cancel): the run ends here, the task does not.
            status, error = "interrupted", "the run was cancelled on request"
        except Exception as exc:  # a failing graph is a failed run, recorded, not a crash
            log.exception("run %s failed", run.run_id)
            status, error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            # Recording the outcome must survive a cancel that lands while it is written
            # (a shutdown, or a cancel request racing the run's end): finish it, then go on.
            finishing = asyncio.ensure_future(self._finish(run, status, output, error))
            try:
                await asyncio.shield(finishing)
            except asyncio.CancelledError:
                await finishing
                raise
            finally:
                self._release_thread(run.thread_id)

    def _release_thread(self, thread_id: str) -> None:
        """Forget a thread's lock once no queued or running run of it holds a reference."""
        users = self._thread_users.get(thread_id, 1) - 1
        if users <= 0:
            self._thread_users.pop(thread_id, None)
            self._thread_locks.pop(thread_id, None)
        else:
            self._thread_users[thread_id] = users

    async def _finish(
        self, run: RunRecord, status: RunStatus, output: dict[str, Any] | None, error: str | None
    ) -> None:
        channel = self._channels[run.run_id]
        try:
            await self.history.finish_run(run.run_id, status, output=output, error=error)
            await self.history.touch_thread(run.thread_id)
        finally:
            if error is not None:
                await channel.publish("error", {"error": status, "message": error})
            await channel.publish("end", {"run_id": run.run_id, "status": status}, last=True)
            self._channels.pop(run.run_id, None)
            self._tasks.pop(run.run_id, None)
            self._cancel_requested.discard(run.run_id)
            if self._on_finished is not None:
                finished = run.model_copy(update={"status": status, "output": output})
                self._on_finished(finished)

    async def cancel(self, run_id: str, *, thread_id: str | None = None) -> RunRecord:
        """Stop a pending or running run of this process; it ends ``interrupted``.

        Cancelling the asyncio task interrupts whatever the run awaits — its queue slot, the
        model, the sandboxed script (the runner kills the subprocess when cancelled) — and
        :meth:`_execute` records the outcome before the task ends. Returns the finished record.
        """
        record = await self.history.get_run(run_id)
        if record is None or (thread_id is not None and record.thread_id != thread_id):
            where = f" on thread {thread_id}" if thread_id is not None else ""
            raise RunNotFoundError(
                f"run {run_id} not found{where}", hint="list runs with GET /runs"
            )
        task = self._tasks.get(run_id)
        if task is None:
            if record.status in ("pending", "running"):
                raise RunNotCancellableError(
                    f"run {run_id} is {record.status} on another server process "
                    f"({record.owner}); this one cannot stop it",
                    hint="send the cancel to the server that started the run",
                )
            raise RunNotCancellableError(
                f"run {run_id} already finished with status {record.status}; "
                "only pending or running runs can be cancelled",
                hint=f"see its outcome with GET /runs/{run_id}",
            )
        self._cancel_requested.add(run_id)
        task.cancel()
        return await self.wait(run_id)

    async def wait(self, run_id: str) -> RunRecord:
        """The finished run (waits if it is still executing here)."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.wait({task})
        record = await self.history.get_run(run_id)
        if record is None:
            raise RunRequestError(f"run {run_id} vanished from the history")
        return record

    async def events(self, run_id: str) -> AsyncIterator[tuple[str, Any]]:
        """Every event of an active run from its start; a finished run yields its end."""
        channel = self._channels.get(run_id)
        if channel is None:
            record = await self.history.get_run(run_id)
            if record is not None:
                yield "metadata", {"run_id": run_id, "thread_id": record.thread_id}
                if record.output is not None:
                    yield "values", record.output
                yield "end", {"run_id": run_id, "status": record.status}
            return
        index = 0
        while True:
            async with channel.changed:
                await channel.changed.wait_for(partial(_grown, channel, index))
                batch = channel.events[index:]
            for event in batch:
                yield event
            index += len(batch)
            if channel.done and index >= len(channel.events):
                return

    async def close(self) -> None:
        """Cancel what is executing; each cancelled run is recorded as error."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
