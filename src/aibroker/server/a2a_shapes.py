"""A2A (protocol v0.3) shapes: request params in, Tasks, Messages and events out.

An A2A *task* is one aibroker run (``Task.id`` = ``run_id``) and an A2A *context* is one
thread (``contextId`` = ``thread_id``), so a message that names a context is a follow-up on
that thread and sees its earlier requests. The run's lifecycle and the agent's verdict map
onto the task states: pending → ``submitted``, running → ``working``, a successful answer →
``completed``, no usable answer, an error or a timeout → ``failed``, a cancel → ``canceled``.

The answer travels as one artifact with a text part (the answer) and a data part (the
structured result, the agent's verdict, the services and the script), so a client gets
both the prose and the value without parsing prose.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aibroker.server.records import RunRecord, iso

M = TypeVar("M", bound=BaseModel)
TaskState = Literal["submitted", "working", "completed", "failed", "canceled"]
TERMINAL_STATES: frozenset[str] = frozenset({"completed", "failed", "canceled"})

# JSON-RPC and A2A error codes (A2A v0.3, section 8).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TASK_NOT_FOUND = -32001
TASK_NOT_CANCELABLE = -32002
PUSH_NOTIFICATION_NOT_SUPPORTED = -32003
UNSUPPORTED_OPERATION = -32004
CONTENT_TYPE_NOT_SUPPORTED = -32005
EXTENDED_CARD_NOT_CONFIGURED = -32007


class A2AError(Exception):
    """A JSON-RPC error answer: raised by handlers, rendered by the endpoint.

    Not an :class:`~aibroker.errors.AibrokerError` on purpose: it never leaves the A2A
    endpoint, which turns it into ``{"error": {"code", "message", "data"}}`` for the client.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class Part(BaseModel):
    """One part of a message: ``text``, ``data`` (a JSON object) or ``file``."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["text", "data", "file"]
    text: str | None = None
    data: dict[str, Any] | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["message"] = "message"
    role: Literal["user", "agent"]
    parts: list[Part] = Field(min_length=1)
    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    context_id: str | None = Field(default=None, alias="contextId", min_length=1, max_length=200)
    task_id: str | None = Field(default=None, alias="taskId")


class SendConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")

    blocking: bool | None = None
    history_length: int | None = Field(default=None, alias="historyLength", ge=0)


class SendParams(BaseModel):
    """``message/send`` and ``message/stream`` params."""

    model_config = ConfigDict(extra="allow")

    message: Message
    configuration: SendConfiguration | None = None


class TaskQueryParams(BaseModel):
    """``tasks/get``, ``tasks/cancel`` and ``tasks/resubscribe`` params."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    history_length: int | None = Field(default=None, alias="historyLength", ge=0)


def parse_params(model: type[M], params: Any, method: str) -> M:
    """Validated params, or an ``invalid params`` error naming each wrong field."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'params'}: {error['msg']}"
            for error in exc.errors()
        )
        raise A2AError(INVALID_PARAMS, f"invalid params for {method}: {problems}") from exc


def intent_of(message: Message) -> tuple[str, list[str] | None]:
    """The intent (text parts, joined) and an optional service restriction (a data part
    ``{"services": [...]}``) of a user message."""
    if message.role != "user":
        raise A2AError(INVALID_PARAMS, "the message must have role 'user'")
    if any(part.kind == "file" for part in message.parts):
        raise A2AError(
            CONTENT_TYPE_NOT_SUPPORTED,
            "file parts are not supported; send the request as text parts",
        )
    text = "\n".join(part.text for part in message.parts if part.kind == "text" and part.text)
    if not text.strip():
        raise A2AError(INVALID_PARAMS, "the message has no text: send the request as a text part")
    services: list[str] | None = None
    for part in message.parts:
        if part.kind == "data" and part.data and "services" in part.data:
            wanted = part.data["services"]
            if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
                raise A2AError(INVALID_PARAMS, "data part 'services' must be a list of names")
            services = list(wanted)
    return text, services


def task_state(record: RunRecord) -> TaskState:
    if record.status == "pending":
        return "submitted"
    if record.status == "running":
        return "working"
    if record.status == "interrupted":
        return "canceled"
    if record.status == "success" and record.outcome == "success":
        return "completed"
    return "failed"


def _text_message(text: str, record: RunRecord, message_id: str, role: str) -> dict[str, Any]:
    return {
        "kind": "message",
        "role": role,
        "messageId": message_id,
        "taskId": record.run_id,
        "contextId": record.thread_id,
        "parts": [{"kind": "text", "text": text}],
    }


def user_message(record: RunRecord) -> dict[str, Any]:
    """The request as the user sent it (its A2A message id when it came through A2A)."""
    message_id = str(record.metadata.get("a2a_message_id") or f"{record.run_id}:request")
    return _text_message(record.intent, record, message_id, "user")


def status_text(record: RunRecord) -> str:
    """What the agent says about the task in its current state."""
    output = record.output or {}
    if record.status == "success":
        return str(output.get("answer") or f"finished: {record.outcome}")
    if record.status in ("pending", "running"):
        return f"the run is {record.status}"
    return record.error or f"the run ended with status {record.status}"


def task_status(record: RunRecord, message: str | None = None) -> dict[str, Any]:
    stamp = record.finished_at or record.started_at or record.created_at
    text = message if message is not None else status_text(record)
    return {
        "state": task_state(record),
        "timestamp": iso(stamp),
        "message": _text_message(text, record, f"{record.run_id}:status", "agent"),
    }


def answer_artifact(record: RunRecord) -> dict[str, Any] | None:
    """The answer (text) and the structured result (data) of a finished run."""
    if record.output is None:
        return None
    output = record.output
    data = {
        "result": output.get("result"),
        "outcome": record.outcome,
        "services": record.services,
        "attempts": len(output.get("trace") or []),
        "code": output.get("code"),
    }
    return {
        "artifactId": f"{record.run_id}:answer",
        "name": "answer",
        "description": "The agent's answer, and the structured result its script produced.",
        "parts": [
            {"kind": "text", "text": str(output.get("answer") or "")},
            {"kind": "data", "data": data},
        ],
    }


def task_of(record: RunRecord, *, history_length: int | None = None) -> dict[str, Any]:
    """The A2A Task for a run, at whatever point of its life the record shows."""
    history = [user_message(record)]
    if history_length is not None:
        history = history[len(history) - history_length :] if history_length else []
    artifact = answer_artifact(record)
    return {
        "kind": "task",
        "id": record.run_id,
        "contextId": record.thread_id,
        "status": task_status(record),
        "history": history,
        "artifacts": [artifact] if artifact else [],
        "metadata": {"run_status": record.status, "outcome": record.outcome},
    }


def status_update(record: RunRecord, *, final: bool, message: str | None = None) -> dict[str, Any]:
    return {
        "kind": "status-update",
        "taskId": record.run_id,
        "contextId": record.thread_id,
        "status": task_status(record, message),
        "final": final,
    }


def artifact_update(record: RunRecord, artifact: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "artifact-update",
        "taskId": record.run_id,
        "contextId": record.thread_id,
        "artifact": artifact,
        "append": False,
        "lastChunk": True,
    }
