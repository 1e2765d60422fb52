"""Threads and runs in the shapes of LangGraph's Agent Server API.

``langgraph_sdk``'s client works against these routes: ``/runs/wait`` answers with the
output values (or ``{"__error__": …}`` when the run failed, like the Agent Server), the
stream endpoints send Server-Sent Events ``metadata``, ``updates``/``values`` node by node,
``error`` and ``end``, and ``Content-Location`` names the run so clients can look it up.
A pending or running run can be cancelled (``…/cancel``): it ends ``interrupted``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from aibroker.server.records import RunRecord, RunStatus, RunView, ThreadRecord, ThreadView, now
from aibroker.server.runs import STREAM_MODES, RunCreate, RunManager

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (e.g. invalid JSON)."},
    401: {"description": "Missing or wrong bearer token."},
    404: {"description": "Unknown thread, run or agent."},
    413: {"description": "Request body too large."},
    422: {"description": "Request does not match the schema."},
}
CANCEL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "The run already finished (or runs on another server process)."},
}


def manager(request: Request) -> RunManager:
    runs: RunManager = request.app.state.runs
    return runs


Manager = Annotated[RunManager, Depends(manager)]


class ThreadCreate(BaseModel):
    """``POST /threads`` body (LangGraph's shape)."""

    model_config = ConfigDict(extra="ignore")

    thread_id: uuid.UUID | None = Field(default=None, description="Id to use (default: new).")
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadSearch(BaseModel):
    """``POST /threads/search`` body."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class Checkpoint(BaseModel):
    thread_id: str
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None


class ThreadState(BaseModel):
    """A thread's latest checkpoint: state values, next nodes, and where it is stored."""

    values: dict[str, Any]
    next: list[str]
    checkpoint: Checkpoint
    parent_checkpoint: Checkpoint | None
    metadata: dict[str, Any]
    created_at: str | None


def _sse(events: AsyncIterator[tuple[str, Any]], modes: set[str]) -> AsyncIterator[dict[str, str]]:
    async def generate() -> AsyncIterator[dict[str, str]]:
        async for event, data in events:
            if event in STREAM_MODES and event not in modes:
                continue
            yield {"event": event, "data": json.dumps(data, ensure_ascii=False, default=str)}

    return generate()


def _modes(request: RunCreate) -> set[str]:
    if request.stream_mode is None:
        return {"values"}
    mode = request.stream_mode
    wanted = {mode} if isinstance(mode, str) else set(mode)
    unknown = wanted - set(STREAM_MODES)
    if unknown:
        raise HTTPException(
            422,
            detail=f"unsupported stream_mode {sorted(unknown)}; supported: {list(STREAM_MODES)}",
        )
    return wanted


def _wait_body(run: RunRecord) -> dict[str, Any]:
    if run.status == "success" and run.output is not None:
        return run.output
    return {"__error__": {"error": run.status, "message": run.error or "run failed"}}


async def _require_thread(runs: RunManager, thread_id: str) -> ThreadRecord:
    thread = await runs.history.get_thread(thread_id)
    if thread is None:
        raise HTTPException(404, detail=f"thread {thread_id} not found (create it: POST /threads)")
    return thread


async def _thread_for_run(runs: RunManager, thread_id: str, payload: RunCreate) -> None:
    if payload.if_not_exists == "create":
        await runs.ensure_thread(thread_id)
    else:
        await _require_thread(runs, thread_id)


def _location(run: RunRecord) -> dict[str, str]:
    return {"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"}


async def _wait(runs: RunManager, payload: RunCreate, thread_id: str | None) -> Response:
    run = await runs.start(payload, thread_id=thread_id)
    finished = await runs.wait(run.run_id)
    body = json.dumps(_wait_body(finished), ensure_ascii=False, default=str)
    return Response(body, media_type="application/json", headers=_location(run))


async def _stream(runs: RunManager, payload: RunCreate, thread_id: str | None) -> Response:
    modes = _modes(payload)
    run = await runs.start(payload, thread_id=thread_id)
    return EventSourceResponse(_sse(runs.events(run.run_id), modes), headers=_location(run))


# ------------------------------------------------------------------------ stateless runs


@router.post("/runs/wait", tags=["runs"], responses=ERRORS, response_model=dict[str, Any])
async def runs_wait(payload: RunCreate, runs: Manager) -> Response:
    """Run the agent on a new thread and answer with its output values."""
    return await _wait(runs, payload, None)


@router.post("/runs/stream", tags=["runs"], responses=ERRORS, response_class=EventSourceResponse)
async def runs_stream(payload: RunCreate, runs: Manager) -> Response:
    """Run the agent on a new thread, streaming events node by node (SSE)."""
    return await _stream(runs, payload, None)


@router.post("/runs", tags=["runs"], responses=ERRORS)
async def runs_create(payload: RunCreate, runs: Manager) -> RunView:
    """Start a run in the background; poll ``GET /runs/{run_id}``."""
    run = await runs.start(payload, thread_id=None)
    return run.to_api()


@router.get("/runs", tags=["runs"], responses=ERRORS)
async def runs_list(
    runs: Manager,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    status: RunStatus | None = None,
    thread_id: str | None = None,
) -> list[RunView]:
    """Run history, newest first."""
    records = await runs.history.list_runs(
        limit=limit, offset=offset, status=status, thread_id=thread_id
    )
    return [record.to_api() for record in records]


@router.get("/runs/{run_id}", tags=["runs"], responses=ERRORS)
async def runs_get(run_id: str, runs: Manager) -> RunView:
    """One run with its attempts (code, output, error), tokens and durations."""
    record = await runs.history.get_run(run_id)
    if record is None:
        raise HTTPException(404, detail=f"run {run_id} not found")
    return record.to_api()


async def _cancel(runs: RunManager, run_id: str, thread_id: str | None, action: str) -> RunView:
    if action != "interrupt":
        raise HTTPException(
            422,
            detail=f"unsupported cancel action {action!r}; this server supports 'interrupt'",
        )
    record = await runs.cancel(run_id, thread_id=thread_id)
    if record.status != "interrupted":
        raise HTTPException(
            409,
            detail=f"run {run_id} finished with status {record.status} before the cancel "
            "took effect",
        )
    return record.to_api()


@router.post("/runs/{run_id}/cancel", tags=["runs"], responses=CANCEL_ERRORS)
async def runs_cancel(
    run_id: str,
    runs: Manager,
    wait: bool = Query(default=True, description="Accepted for LangGraph; always waits."),
    action: str = Query(default="interrupt", description="Only 'interrupt'."),
) -> RunView:
    """Stop a pending or running run; it ends with status ``interrupted``."""
    return await _cancel(runs, run_id, None, action)


# ------------------------------------------------------------------------ threads


@router.post("/threads", tags=["threads"], responses={**ERRORS, 409: {"description": "Exists."}})
async def threads_create(payload: ThreadCreate, runs: Manager) -> ThreadView:
    """Create a thread: runs on it share checkpoints, so follow-ups see earlier requests."""
    thread_id = str(payload.thread_id or uuid.uuid4())
    existing = await runs.history.get_thread(thread_id)
    if existing is not None:
        if payload.if_exists == "do_nothing":
            return existing.to_api(busy=runs.thread_busy(thread_id))
        raise HTTPException(409, detail=f"thread {thread_id} already exists")
    stamp = now()
    thread = ThreadRecord(
        thread_id=thread_id, created_at=stamp, updated_at=stamp, metadata=payload.metadata or {}
    )
    await runs.history.add_thread(thread)
    return thread.to_api()


@router.post("/threads/search", tags=["threads"], responses=ERRORS)
async def threads_search(payload: ThreadSearch, runs: Manager) -> list[ThreadView]:
    """Threads, most recently updated first."""
    threads = await runs.history.list_threads(limit=payload.limit, offset=payload.offset)
    return [thread.to_api(busy=runs.thread_busy(thread.thread_id)) for thread in threads]


@router.get("/threads/{thread_id}", tags=["threads"], responses=ERRORS)
async def threads_get(thread_id: str, runs: Manager) -> ThreadView:
    thread = await _require_thread(runs, thread_id)
    return thread.to_api(busy=runs.thread_busy(thread_id))


@router.get("/threads/{thread_id}/state", tags=["threads"], responses=ERRORS)
async def threads_state(thread_id: str, runs: Manager) -> ThreadState:
    """The thread's latest checkpoint (values include the thread's request history)."""
    await _require_thread(runs, thread_id)
    snapshot = await runs.graph.aget_state({"configurable": {"thread_id": thread_id}})
    configurable = (snapshot.config or {}).get("configurable", {})
    parent = (snapshot.parent_config or {}).get("configurable")
    return ThreadState(
        values=json.loads(json.dumps(snapshot.values or {}, default=str)),
        next=list(snapshot.next),
        checkpoint=Checkpoint(
            thread_id=thread_id,
            checkpoint_ns=configurable.get("checkpoint_ns", ""),
            checkpoint_id=configurable.get("checkpoint_id"),
        ),
        parent_checkpoint=None if not parent else Checkpoint(**{"thread_id": thread_id, **parent}),
        metadata=json.loads(json.dumps(dict(snapshot.metadata or {}), default=str)),
        created_at=snapshot.created_at,
    )


@router.post("/threads/{thread_id}/runs/wait", tags=["threads"], responses=ERRORS)
async def thread_runs_wait(thread_id: str, payload: RunCreate, runs: Manager) -> Response:
    """Run on an existing thread and answer with the output values."""
    await _thread_for_run(runs, thread_id, payload)
    return await _wait(runs, payload, thread_id)


@router.post(
    "/threads/{thread_id}/runs/stream",
    tags=["threads"],
    responses=ERRORS,
    response_class=EventSourceResponse,
)
async def thread_runs_stream(thread_id: str, payload: RunCreate, runs: Manager) -> Response:
    """Run on an existing thread, streaming events node by node (SSE)."""
    await _thread_for_run(runs, thread_id, payload)
    return await _stream(runs, payload, thread_id)


@router.post("/threads/{thread_id}/runs", tags=["threads"], responses=ERRORS)
async def thread_runs_create(thread_id: str, payload: RunCreate, runs: Manager) -> RunView:
    """Start a run on the thread in the background."""
    await _thread_for_run(runs, thread_id, payload)
    run = await runs.start(payload, thread_id=thread_id)
    return run.to_api()


@router.get("/threads/{thread_id}/runs", tags=["threads"], responses=ERRORS)
async def thread_runs_list(
    thread_id: str,
    runs: Manager,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[RunView]:
    await _require_thread(runs, thread_id)
    records = await runs.history.list_runs(limit=limit, offset=offset, thread_id=thread_id)
    return [record.to_api() for record in records]


@router.get("/threads/{thread_id}/runs/{run_id}", tags=["threads"], responses=ERRORS)
async def thread_runs_get(thread_id: str, run_id: str, runs: Manager) -> RunView:
    record = await runs.history.get_run(run_id)
    if record is None or record.thread_id != thread_id:
        raise HTTPException(404, detail=f"run {run_id} not found on thread {thread_id}")
    return record.to_api()


@router.get("/threads/{thread_id}/runs/{run_id}/join", tags=["threads"], responses=ERRORS)
async def thread_runs_join(thread_id: str, run_id: str, runs: Manager) -> Response:
    """Wait for a run and answer with its output values, like ``/runs/wait``."""
    record = await runs.history.get_run(run_id)
    if record is None or record.thread_id != thread_id:
        raise HTTPException(404, detail=f"run {run_id} not found on thread {thread_id}")
    finished = await runs.wait(run_id)
    body = json.dumps(_wait_body(finished), ensure_ascii=False, default=str)
    return Response(body, media_type="application/json")


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", tags=["threads"], responses=CANCEL_ERRORS)
async def thread_runs_cancel(
    thread_id: str,
    run_id: str,
    runs: Manager,
    wait: bool = Query(default=True, description="Accepted for LangGraph; always waits."),
    action: str = Query(default="interrupt", description="Only 'interrupt'."),
) -> RunView:
    """Stop a pending or running run of the thread; it ends with status ``interrupted``."""
    return await _cancel(runs, run_id, thread_id, action)
