"""Small helpers shared by the nodes: context defaults, token usage, tails, history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, ValidationError

from aibroker.errors import AibrokerError
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import HistoryEntry, State

Tokens = dict[str, int]
SchemaT = TypeVar("SchemaT", bound=BaseModel)


class ModelReplyError(AibrokerError):
    """The model's reply could not be used (e.g. structured output that does not parse)."""


def context_of(runtime: Runtime[Context]) -> Context:
    """The run's context; a default one when the caller passed none."""
    context = runtime.context
    return context if isinstance(context, Context) else Context()


def tokens_of(message: BaseMessage | None) -> Tokens:
    """Input/output tokens reported with ``message`` (zeros when the backend reports none)."""
    usage = getattr(message, "usage_metadata", None) if isinstance(message, AIMessage) else None
    if not usage:
        return {"input": 0, "output": 0}
    return {
        "input": int(usage.get("input_tokens", 0)),
        "output": int(usage.get("output_tokens", 0)),
    }


def add_usage(usage: Mapping[str, Tokens] | None, stage: str, tokens: Tokens) -> dict[str, Tokens]:
    """A copy of ``usage`` with ``tokens`` added to ``stage``'s counters."""
    merged = {name: dict(counts) for name, counts in (usage or {}).items()}
    current = merged.setdefault(stage, {"input": 0, "output": 0})
    for key, value in tokens.items():
        current[key] = current.get(key, 0) + value
    return merged


def tail(text: str, limit: int) -> str:
    """The last ``limit`` characters of ``text``, marked when cut."""
    if len(text) <= limit:
        return text
    return "…" + text[-limit:]


def compact_json(value: Any, limit: int = 400) -> str:
    """``value`` as one-line JSON, cut to ``limit`` characters (for history and prompts)."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + "…"


def recent_history(state: State, context: Context) -> list[HistoryEntry]:
    """The last ``context.history_turns`` finished requests of this thread."""
    history = state.get("history") or []
    return list(history[-context.history_turns :]) if context.history_turns > 0 else []


async def ask_structured(
    deps: AgentDeps,
    model: BaseChatModel,
    schema: type[SchemaT],
    messages: Sequence[tuple[str, str]],
) -> tuple[SchemaT, Tokens]:
    """One structured-output call: the parsed object and the tokens it cost.

    Accepts every shape a structured runnable may answer with (see
    :data:`aibroker.graph.deps.StructuredStrategy`). A reply that does not parse raises
    :class:`ModelReplyError`.
    """
    settings = await asyncio.to_thread(deps.get_settings)  # the first read parses .env
    runnable = deps.structured(model, schema, settings)
    try:
        reply = await runnable.ainvoke(list(messages))
    except (AibrokerError, OutputParserException, ValidationError) as exc:
        raise ModelReplyError(
            f"the model's {schema.__name__} reply is unusable: {exc}",
            hint="the model must answer with the JSON object the prompt describes",
        ) from exc
    tokens: Tokens = {"input": 0, "output": 0}
    if isinstance(reply, dict) and "parsed" in reply:
        tokens = tokens_of(reply.get("raw"))
        if reply.get("parsing_error") is not None or reply["parsed"] is None:
            raise ModelReplyError(
                f"the model's {schema.__name__} reply did not parse: {reply.get('parsing_error')}",
                hint="the model must answer with the JSON object the prompt describes",
            )
        reply = reply["parsed"]
    elif hasattr(reply, "parsed") and hasattr(reply, "raw"):
        tokens = tokens_of(reply.raw)
        reply = reply.parsed
    if isinstance(reply, dict):
        reply = schema.model_validate(reply)
    if not isinstance(reply, schema):
        raise ModelReplyError(
            f"structured output returned {type(reply).__name__}, expected {schema.__name__}",
            hint="check the structured-output strategy wired into the graph",
        )
    return reply, tokens
