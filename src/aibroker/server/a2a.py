"""The A2A JSON-RPC endpoint (protocol v0.3) that the agent card points to: ``POST /a2a``.

Methods: ``message/send`` (runs the graph on the message's text; blocks until the task is
done unless ``configuration.blocking`` is false), ``message/stream`` and
``tasks/resubscribe`` (Server-Sent Events, each event a JSON-RPC response carrying a Task,
a ``status-update`` or an ``artifact-update``), ``tasks/get`` and ``tasks/cancel``. Runs go
through the same :class:`~aibroker.server.runs.RunManager` as the LangGraph-style API, so
A2A tasks appear in the run history and the dashboard like any other run.

Push notifications and the authenticated extended card are not offered; asking for them
gets the A2A error codes that say so. The shapes live in :mod:`aibroker.server.a2a_shapes`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from aibroker.errors import AibrokerError
from aibroker.server.a2a_shapes import (
    EXTENDED_CARD_NOT_CONFIGURED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    PUSH_NOTIFICATION_NOT_SUPPORTED,
    TASK_NOT_CANCELABLE,
    TASK_NOT_FOUND,
    UNSUPPORTED_OPERATION,
    A2AError,
    SendParams,
    TaskQueryParams,
    answer_artifact,
    artifact_update,
    intent_of,
    parse_params,
    status_update,
    task_of,
)
from aibroker.server.records import RunRecord
from aibroker.server.runs import (
    RunCreate,
    RunInput,
    RunManager,
    RunNotCancellableError,
    RunNotFoundError,
    RunRequestError,
)

log = logging.getLogger(__name__)

A2A_PATH = "/a2a"

router = APIRouter(tags=["a2a"])

RequestId = str | int | None
Handler = Callable[[RunManager, Any], Awaitable[dict[str, Any]]]
StreamHandler = Callable[[RunManager, Any], Awaitable[AsyncIterator[dict[str, Any]]]]


def _result(request_id: RequestId, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error(request_id: RequestId, error: A2AError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        body["data"] = error.data
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": body})


async def _record(runs: RunManager, task_id: str) -> RunRecord:
    record = await runs.history.get_run(task_id)
    if record is None:
        raise A2AError(TASK_NOT_FOUND, f"task {task_id} not found")
    return record


async def _start(runs: RunManager, params: Any, method: str) -> tuple[RunRecord, SendParams]:
    send = parse_params(SendParams, params, method)
    message = send.message
    if message.task_id is not None:
        raise A2AError(
            UNSUPPORTED_OPERATION,
            f"task {message.task_id} cannot take more input: tasks of this agent end when "
            "answered; send a new message with the same contextId to continue",
        )
    intent, services = intent_of(message)
    try:
        request = RunCreate(
            input=RunInput(intent=intent, services=services),
            metadata={"a2a_message_id": message.message_id},
        )
        record = await runs.start(request, thread_id=message.context_id)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise A2AError(INVALID_PARAMS, f"invalid message: {first['msg']}") from exc
    except RunRequestError as exc:
        raise A2AError(INVALID_PARAMS, str(exc)) from exc
    return record, send


async def message_send(runs: RunManager, params: Any) -> dict[str, Any]:
    record, send = await _start(runs, params, "message/send")
    configuration = send.configuration
    history_length = configuration.history_length if configuration else None
    if configuration is None or configuration.blocking is not False:
        record = await runs.wait(record.run_id)
    return task_of(record, history_length=history_length)


async def tasks_get(runs: RunManager, params: Any) -> dict[str, Any]:
    query = parse_params(TaskQueryParams, params, "tasks/get")
    return task_of(await _record(runs, query.id), history_length=query.history_length)


async def tasks_cancel(runs: RunManager, params: Any) -> dict[str, Any]:
    query = parse_params(TaskQueryParams, params, "tasks/cancel")
    try:
        record = await runs.cancel(query.id)
    except RunNotFoundError as exc:
        raise A2AError(TASK_NOT_FOUND, f"task {query.id} not found") from exc
    except RunNotCancellableError as exc:
        raise A2AError(TASK_NOT_CANCELABLE, str(exc)) from exc
    if record.status != "interrupted":
        raise A2AError(
            TASK_NOT_CANCELABLE, f"task {query.id} finished before the cancel took effect"
        )
    return task_of(record)


async def _events(runs: RunManager, record: RunRecord) -> AsyncIterator[dict[str, Any]]:
    """A2A stream events for one run: the Task, progress, the answer, the final status."""
    yield task_of(record)
    working = record.model_copy(update={"status": "running"})
    async for event, data in runs.events(record.run_id):
        if event == "updates" and isinstance(data, dict):
            for node in data:
                yield status_update(working, final=False, message=f"step {node} done")
        elif event == "end":
            break
    finished = await _record(runs, record.run_id)
    artifact = answer_artifact(finished)
    if artifact is not None:
        yield artifact_update(finished, artifact)
    yield status_update(finished, final=True)


async def message_stream(runs: RunManager, params: Any) -> AsyncIterator[dict[str, Any]]:
    record, _ = await _start(runs, params, "message/stream")
    return _events(runs, record)


async def tasks_resubscribe(runs: RunManager, params: Any) -> AsyncIterator[dict[str, Any]]:
    query = parse_params(TaskQueryParams, params, "tasks/resubscribe")
    return _events(runs, await _record(runs, query.id))


async def _not_offered(code: int, what: str) -> dict[str, Any]:
    raise A2AError(code, f"{what} is not supported by this agent")


def _push(_: RunManager, __: Any) -> Awaitable[dict[str, Any]]:
    return _not_offered(PUSH_NOTIFICATION_NOT_SUPPORTED, "push notification")


def _extended_card(_: RunManager, __: Any) -> Awaitable[dict[str, Any]]:
    return _not_offered(EXTENDED_CARD_NOT_CONFIGURED, "an authenticated extended card")


METHODS: dict[str, Handler] = {
    "message/send": message_send,
    "tasks/get": tasks_get,
    "tasks/cancel": tasks_cancel,
    "tasks/pushNotificationConfig/set": _push,
    "tasks/pushNotificationConfig/get": _push,
    "tasks/pushNotificationConfig/list": _push,
    "tasks/pushNotificationConfig/delete": _push,
    "agent/getAuthenticatedExtendedCard": _extended_card,
}
STREAM_METHODS: dict[str, StreamHandler] = {
    "message/stream": message_stream,
    "tasks/resubscribe": tasks_resubscribe,
}


def _parse(raw: bytes) -> tuple[RequestId, str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise A2AError(PARSE_ERROR, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise A2AError(INVALID_REQUEST, "send one JSON-RPC request object (no batches)")
    request_id = body.get("id")
    if not isinstance(request_id, str | int) or isinstance(request_id, bool):
        request_id = None
    if body.get("jsonrpc") != "2.0" or not isinstance(body.get("method"), str):
        raise A2AError(INVALID_REQUEST, "a JSON-RPC 2.0 request needs jsonrpc '2.0' and a method")
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise A2AError(INVALID_PARAMS, "params must be an object")
    return request_id, body["method"], params


def _sse(request_id: RequestId, events: AsyncIterator[dict[str, Any]]) -> EventSourceResponse:
    async def generate() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in events:
                yield {"data": json.dumps(_result(request_id, event), default=str)}
        except A2AError as exc:
            error = {"code": exc.code, "message": exc.message}
            yield {"data": json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error})}

    return EventSourceResponse(generate())


@router.post(
    A2A_PATH,
    response_model=dict[str, Any],
    responses={401: {"description": "Missing or wrong bearer token."}},
)
async def a2a_endpoint(request: Request) -> Response:
    """A2A JSON-RPC: message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe.

    Every answer is a JSON-RPC response (HTTP 200); errors carry the A2A error codes.
    """
    request_id: RequestId = None
    try:
        request_id, method, params = _parse(await request.body())
        runs: RunManager = request.app.state.runs
        if method in STREAM_METHODS:
            return _sse(request_id, await STREAM_METHODS[method](runs, params))
        handler = METHODS.get(method)
        if handler is None:
            known = ", ".join(sorted([*METHODS, *STREAM_METHODS]))
            raise A2AError(METHOD_NOT_FOUND, f"unknown method {method!r}; known: {known}")
        return JSONResponse(_result(request_id, await handler(runs, params)))
    except A2AError as exc:
        return _error(request_id, exc)
    except AibrokerError as exc:
        log.exception("A2A request failed")
        return _error(request_id, A2AError(INTERNAL_ERROR, str(exc)))
