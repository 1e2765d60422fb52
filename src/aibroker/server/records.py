"""What the run history stores and the HTTP API returns: runs and threads.

A run's lifecycle ``status`` (pending → running → success | error | timeout | interrupted)
says whether the graph *executed* (``interrupted``: someone cancelled it); the agent's own
verdict (``outcome``: success | failed | no_service) is kept beside it, because a run can
complete cleanly and still report that no script worked.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
ACTIVE_STATUSES: tuple[RunStatus, ...] = ("pending", "running")
FINISHED_STATUSES: tuple[RunStatus, ...] = ("success", "error", "timeout", "interrupted")
Outcome = Literal["success", "failed", "no_service"]


def now() -> float:
    """Seconds since the epoch: the one clock every record uses (sortable, DB-neutral)."""
    return datetime.now(UTC).timestamp()


def iso(timestamp: float | None) -> str | None:
    """An epoch timestamp as ISO 8601 in UTC, the way the LangGraph API spells times."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def new_owner() -> str:
    """``host:pid:nonce`` naming this server process, so a restart can tell its dead runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RunRecord(BaseModel):
    """One run as persisted: the request, the lifecycle, and the graph's output."""

    run_id: str
    thread_id: str
    agent_id: str
    status: RunStatus
    intent: str
    input: dict[str, Any]
    owner: str = Field(description="The server process executing the run (host:pid:nonce).")
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    output: dict[str, Any] | None = Field(default=None, description="The graph's OutputState.")
    error: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def outcome(self) -> Outcome | None:
        value = (self.output or {}).get("status")
        return value if value in ("success", "failed", "no_service") else None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round(self.finished_at - self.started_at, 4)

    @property
    def services(self) -> list[str]:
        """The services rerank chose, else those the request was restricted to."""
        chosen = (self.output or {}).get("chosen")
        if isinstance(chosen, list) and chosen:
            return [str(name) for name in chosen]
        requested = self.input.get("services")
        return [str(name) for name in requested] if isinstance(requested, list) else []

    @property
    def tokens(self) -> dict[str, int]:
        """LLM tokens over all stages: ``{"input": …, "output": …}``."""
        totals = {"input": 0, "output": 0}
        usage = (self.output or {}).get("usage") or {}
        for stage in usage.values():
            if isinstance(stage, dict):
                for key in totals:
                    totals[key] += int(stage.get(key, 0))
        return totals

    def to_api(self) -> RunView:
        output = self.output or {}
        return RunView(
            run_id=self.run_id,
            thread_id=self.thread_id,
            assistant_id=self.agent_id,
            agent_id=self.agent_id,
            status=self.status,
            created_at=iso(self.created_at) or "",
            updated_at=iso(self.finished_at or self.started_at or self.created_at) or "",
            started_at=iso(self.started_at),
            finished_at=iso(self.finished_at),
            duration_s=self.duration_s,
            intent=self.intent,
            services=self.services,
            outcome=self.outcome,
            answer=output.get("answer"),
            result=output.get("result"),
            attempts=list(output.get("trace") or []),
            code=output.get("code"),
            usage=dict(output.get("usage") or {}),
            tokens=self.tokens,
            error=self.error,
            metadata=self.metadata,
        )


class RunView(BaseModel):
    """A run as the API shows it (LangGraph's Run fields plus what aibroker records)."""

    run_id: str
    thread_id: str
    assistant_id: str = Field(description="LangGraph's name for the agent id.")
    agent_id: str
    status: RunStatus
    created_at: str
    updated_at: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None = Field(description="Seconds from start to finish.")
    intent: str
    services: list[str] = Field(description="Services chosen (or requested).")
    outcome: Outcome | None = Field(description="The agent's verdict once the run succeeded.")
    answer: str | None
    result: Any = None
    attempts: list[dict[str, Any]] = Field(
        description="One entry per attempt: code, check, exit code, output tails, error."
    )
    code: str | None
    usage: dict[str, dict[str, int]] = Field(description="LLM tokens per stage.")
    tokens: dict[str, int] = Field(description="LLM tokens over all stages.")
    error: str | None
    metadata: dict[str, Any]


class ThreadRecord(BaseModel):
    """A conversation: runs on one thread share checkpoints, so follow-ups see history."""

    thread_id: str
    created_at: float
    updated_at: float
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_api(self, *, busy: bool = False) -> ThreadView:
        return ThreadView(
            thread_id=self.thread_id,
            created_at=iso(self.created_at) or "",
            updated_at=iso(self.updated_at) or "",
            metadata=self.metadata,
            status="busy" if busy else "idle",
        )


class ThreadView(BaseModel):
    """A thread in LangGraph's shape."""

    thread_id: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any]
    status: Literal["idle", "busy"]
