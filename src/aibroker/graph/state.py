"""The graph's state: what a caller sends in, what flows between nodes, what comes out.

TypedDicts from ``typing_extensions`` (the LangGraph server needs them on Python < 3.12 to
publish the input schema), no defaults (TypedDict defaults are silently ignored), JSON values
only so every checkpointer can store them. Only ``history`` has a reducer: it is the one
channel that appends across requests in a thread. ``trace`` is per request, so nodes write it
whole and ``rerank`` (the first node) resets it, which an append reducer could not express.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

Status = Literal["success", "failed", "no_service"]
"""How a request ended: answered, given up after the attempt cap, or no service fits."""


class DirectCall(TypedDict):
    """One method call with explicit arguments, chosen by rerank instead of writing code."""

    service: str  # registry name of the service
    method: str  # Python method name on the generated client
    args: dict[str, Any]  # keyword arguments, JSON values


class TraceEntry(TypedDict):
    """What happened in one attempt (a direct call or one written script)."""

    attempt: int  # 1-based attempt number; 0 for the direct call
    kind: Literal["direct", "code"]  # how the intent was attempted
    code: str  # the script (or the rendered direct call)
    check: str  # "ok", "skipped", or why extraction / the static check failed
    exit_code: int | None  # script exit status; None when it did not run
    stdout_tail: str  # last characters of stdout
    stderr_tail: str  # last characters of stderr
    error: dict[str, Any] | None  # typed error fed back to the model; None on success
    durations: dict[str, float]  # seconds per stage: write, check, run, call
    tokens: dict[str, int]  # LLM tokens spent writing this attempt (input, output)
    # Calls that succeeded, grouped per method in order of first call: service, method (RPC
    # name), count, params (the first call's, as cut JSON text). A failed script has made
    # them already; the retry prompt lists them so they are not repeated.
    calls: list[dict[str, Any]]
    calls_truncated: bool  # the script's call journal hit its cap: more calls were made


class HistoryEntry(TypedDict):
    """One finished request of this thread, rendered into later prompts for follow-ups."""

    intent: str  # the intent as restated by rerank (self-contained)
    status: Status  # how it ended
    answer: str  # short answer given to the person
    result: str  # the structured result as compact JSON (cut to a few hundred chars)


class InputState(TypedDict):
    """What a caller sends: the intent, optionally restricted to some services."""

    intent: str  # what the person wants, in their words
    services: NotRequired[list[str] | None]  # only these services may be used (None: all)


class OutputState(TypedDict):
    """What a caller gets back."""

    answer: str  # the answer for a person
    result: Any  # the structured result (JSON) the script recorded with set_result, or None
    status: Status  # success | failed | no_service
    attempts: int  # scripts written for this request (the direct call is not counted)
    code: str  # the last script written ('' when none)
    trace: list[TraceEntry]  # one entry per attempt, in order
    usage: dict[str, dict[str, int]]  # LLM tokens per stage: {"rerank": {"input":…,"output":…}}
    chosen: list[str]  # the services rerank chose, most relevant first


class State(InputState, OutputState):
    """Everything the nodes share while answering one request (and the thread's history)."""

    restated_intent: str  # the intent as rerank restated it, resolving follow-up references
    direct: DirectCall | None  # a direct call proposed by rerank, if any
    interfaces: dict[str, str]  # service name -> interface text, for the chosen services
    stdout: str  # stdout of the successful run (or the direct call's rendered result)
    last_error: dict[str, Any] | None  # typed error of the last attempt, fed to write_code
    history: Annotated[list[HistoryEntry], operator.add]  # finished requests of this thread
