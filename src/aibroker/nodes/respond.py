"""respond: the answer for a person, from the script's output and structured result.

Deterministic by default (stdout as the script printed it, or why it failed); with
``Context.summarize`` one more short LLM call turns output and result into a sentence or
three. It also appends the request to the thread's history, which later prompts show.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import HistoryEntry, State
from aibroker.nodes.common import add_usage, compact_json, context_of, tokens_of
from aibroker.prompts import render


def summary_line(card: str) -> str:
    """The SUMMARY text of a card ('' when it has none)."""
    for line in card.splitlines():
        if line.startswith("SUMMARY:"):
            return line.removeprefix("SUMMARY:").strip()
    return ""


def no_service_answer(state: State, deps: AgentDeps) -> str:
    entries = deps.get_catalog().entries()
    allowed = state.get("services")
    if allowed:
        entries = [entry for entry in entries if entry.name in set(allowed)]
    if not entries:
        return (
            "No service is registered yet, so nothing can answer this request. "
            "Register services with `aibroker discover` (scans the sockets directory) or "
            "`aibroker register SOURCE`, then ask again."
        )
    listing = "\n".join(f"- {e.name}: {summary_line(e.card)}".rstrip(": ") for e in entries)
    return f"None of the available services fits this request. Available services:\n{listing}"


def failure_answer(state: State) -> str:
    error = state.get("last_error") or {}
    attempts = state["attempts"]
    where = f" in {error['service']}.{error['method']}" if error.get("service") else ""
    reason = f"{error.get('kind', 'error')}{where}: {error.get('message', 'unknown error')}"
    if attempts == 0:
        return f"I could not work on this request. {reason}"
    plural = "s" if attempts != 1 else ""
    return (
        f"I could not complete this request after {attempts} attempt{plural}. Last error: {reason}"
    )


def success_answer(state: State) -> str:
    printed = state["stdout"].strip()
    if printed:
        return printed
    result = state["result"]
    return "Done." if result is None else f"Done. Result: {compact_json(result, 2000)}"


async def respond(state: State, runtime: Runtime[Context], *, deps: AgentDeps) -> dict[str, Any]:
    """Compose the answer, optionally summarise it, and record the request in history."""
    context = context_of(runtime)
    status = state["status"]
    usage = state["usage"]
    if status == "no_service":
        answer = await asyncio.to_thread(no_service_answer, state, deps)
    elif status == "failed":
        answer = failure_answer(state)
    else:
        answer = success_answer(state)
        if context.summarize:
            prompt = render(
                "respond",
                intent=state["restated_intent"],
                stdout=state["stdout"][-context.tail_chars :],
                result_json=compact_json(state["result"], context.tail_chars),
            )
            model = await deps.chat_model("code", context)
            reply = await model.ainvoke(prompt.messages())
            text = str(reply.text).strip() if isinstance(reply, AIMessage) else str(reply)
            usage = add_usage(
                usage, "respond", tokens_of(reply if isinstance(reply, AIMessage) else None)
            )
            answer = text or answer
    turn = HistoryEntry(
        intent=state["restated_intent"],
        status=status,
        answer=answer[:400],
        result=compact_json(state["result"]) if state["result"] is not None else "",
    )
    # The service restriction belongs to one request: a follow-up must pass its own.
    return {"answer": answer, "usage": usage, "history": [turn], "services": None}
