"""rerank: one LLM call over the service cards -> restated intent + chosen services.

It is the first node of every request, so it also resets the per-request fields of the
thread's state (a follow-up in the same thread starts with a clean slate, history aside).
Whatever the model answers, only names that exist in the catalog (and in the caller's
restriction) survive. A direct call skips code generation, so it must be plainly right: it
survives only if its service and method exist, the request reads as a single step, and every
argument value is written in the request. A small model otherwise turns "store it, then read
it back" into one ``set`` call, or invents an argument; the code path handles those safely.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field

from aibroker.catalog import ServiceEntry, render_cards
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import DirectCall, State
from aibroker.nodes.common import (
    ModelReplyError,
    add_usage,
    ask_structured,
    context_of,
    recent_history,
)
from aibroker.prompts import render

METHODS_ON_CARD = 10
"""Services with at most this many methods list them on their card, so a direct call can
name one; bigger services only show their summary (the interface comes later)."""


class DirectCallChoice(BaseModel):
    """One method call that answers the request by itself."""

    service: str = Field(description="Service name from a SERVICE line.")
    method: str = Field(description="Method name from the METHODS line of that service.")
    args: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments.")


def _require_every_field(schema: dict[str, Any]) -> None:
    """List every property as required in the JSON schema sent to the model.

    The grammar that enforces structured output on llama.cpp lets the model skip optional
    properties, and a skipped ``needs`` defeats its purpose. Parsing stays lenient (the
    defaults apply), so a reply without them is still usable.
    """
    schema["required"] = list(schema.get("properties", {}))


class RerankDecision(BaseModel):
    """The model's choice of services for a request.

    ``needs`` comes first on purpose: a small model that first names the capability the
    request needs ("a weather forecast") then picks services far less often picks one whose
    summary does not cover it; grammar-constrained output keeps the field order.
    """

    model_config = ConfigDict(json_schema_extra=_require_every_field)

    needs: str = Field(default="", description="What the request needs done, in a few words.")
    covered: bool = Field(
        default=True, description="Whether some service SUMMARY covers what the request needs."
    )
    intent: str = Field(description="The request restated as one self-contained sentence.")
    services: list[str] = Field(description="Names of the services needed, best first.")
    direct_call: DirectCallChoice | None = Field(default=None, description="Or null.")


def candidate_entries(state: State, deps: AgentDeps) -> list[ServiceEntry]:
    """The catalog's services, narrowed to the caller's restriction when there is one."""
    entries = deps.get_catalog().entries()
    allowed = state.get("services")
    if allowed:
        entries = [entry for entry in entries if entry.name in set(allowed)]
    return entries


def card_with_methods(entry: ServiceEntry, with_methods: bool) -> str:
    """The card, plus a METHODS line for small services when direct calls are allowed."""
    card = entry.card.strip()
    if with_methods and 0 < len(entry.methods) <= METHODS_ON_CARD:
        card += "\nMETHODS: " + ", ".join(sorted(entry.methods.values()))
    return card


_SEVERAL_STEPS = re.compile(r"\b(then|and|each|every|all|after|before|both)\b", re.IGNORECASE)
"""Words that make a request more than one call ("set it, then read it back")."""


def single_step(request: str) -> bool:
    """Whether the request reads as one action (no sequencing or iterating words)."""
    return _SEVERAL_STEPS.search(request) is None


def stated_in(request: str, value: Any) -> bool:
    """Whether ``value`` is written in the request: direct calls take no invented values."""
    if isinstance(value, bool) or value is None:
        return True  # flags and nulls have no literal form to look for
    if isinstance(value, str | int | float):
        return str(value).casefold() in request.casefold()
    return False  # structured values are built by code, never guessed by rerank


def valid_direct_call(
    choice: DirectCallChoice | None, entries: dict[str, ServiceEntry], request: str
) -> DirectCall | None:
    """The direct call if it is plainly right for ``request`` (see the module doc), else None."""
    if choice is None or choice.service not in entries:
        return None
    entry = entries[choice.service]
    if choice.method not in set(entry.methods.values()) or not single_step(request):
        return None
    if not all(stated_in(request, value) for value in choice.args.values()):
        return None
    return DirectCall(service=choice.service, method=choice.method, args=dict(choice.args))


async def rerank(state: State, runtime: Runtime[Context], *, deps: AgentDeps) -> dict[str, Any]:
    """Choose services for ``state["intent"]`` and reset the per-request state."""
    context = context_of(runtime)
    reset: dict[str, Any] = {
        "attempts": 0,
        "code": "",
        "trace": [],
        "usage": {},
        "result": None,
        "answer": "",
        "stdout": "",
        "interfaces": {},
        "last_error": None,
        "direct": None,
        "chosen": [],
        "restated_intent": state["intent"],
        "status": "failed",
    }
    entries = await asyncio.to_thread(candidate_entries, state, deps)
    if not entries:
        return reset | {"status": "no_service"}
    prompt = render(
        "rerank",
        cards=render_cards(
            [
                entry.model_copy(
                    update={"card": card_with_methods(entry, context.allow_direct_call)}
                )
                for entry in entries
            ]
        ),
        intent=state["intent"],
        history=recent_history(state, context),
        allow_direct=context.allow_direct_call,
    )
    model = await deps.chat_model("rerank", context)
    try:
        decision, tokens = await ask_structured(deps, model, RerankDecision, prompt.messages())
    except ModelReplyError as exc:
        return reset | {"last_error": {"stage": "rerank", "kind": "reply", "message": str(exc)}}
    by_name = {entry.name: entry for entry in entries}
    chosen: list[str] = []
    for name in decision.services if decision.covered else []:
        if name in by_name and name not in chosen:
            chosen.append(name)
    direct = (
        valid_direct_call(decision.direct_call, by_name, state["intent"])
        if context.allow_direct_call
        else None
    )
    if direct is not None and direct["service"] not in chosen:
        chosen.insert(0, direct["service"])
    chosen = chosen[: context.max_services]
    return reset | {
        "usage": add_usage({}, "rerank", tokens),
        "chosen": chosen,
        "direct": direct,
        "restated_intent": decision.intent.strip() or state["intent"],
        "status": "failed" if chosen else "no_service",
    }
