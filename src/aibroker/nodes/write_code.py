"""write_code: one LLM call that writes the script; every call is one attempt.

On a retry the prompt also carries the typed error of the previous attempt, the full detail
of the method involved (usually what a small model got wrong) and the calls earlier attempts
already made successfully, so the new script does not repeat them. The previous script is
shown only when it was refused before it ran; a run error shows the script's own traceback
lines instead. Shown the whole script, the 1.5B model copied it and guarded the failing call
with an ``if`` where the error asked for another step first (0 of 12 perturbed runs found
the missing step, 12 of 12 without it). A reply must contain exactly one Python code block;
anything else is a failed attempt with a reason the model reads on its next try.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from aibroker.catalog import CatalogError, ServiceEntry
from aibroker.codegen.interface import notation
from aibroker.errors import AibrokerError
from aibroker.graph.context import Context
from aibroker.graph.deps import AgentDeps
from aibroker.graph.state import State, TraceEntry
from aibroker.nodes.calls import describe_calls
from aibroker.nodes.common import add_usage, context_of, recent_history, tokens_of
from aibroker.nodes.preamble import complete_preamble, preamble_lines
from aibroker.prompts import render

_FENCE = re.compile(
    r"^(?P<ticks>`{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=ticks)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
PYTHON_TAGS = frozenset({"python", "py", "python3", ""})


class CodeExtractionError(AibrokerError):
    """The model's reply does not contain exactly one Python code block."""


def extract_code(reply: str) -> str:
    """The body of the one ```python block in ``reply`` (untagged blocks count as Python)."""
    blocks = [m["body"] for m in _FENCE.finditer(reply) if m["lang"].lower() in PYTHON_TAGS]
    if not blocks:
        cut = reply.count("```") % 2 == 1
        raise CodeExtractionError(
            "the reply contains no complete ```python code block"
            + (" (it looks cut off)" if cut else ""),
            hint="reply with exactly one ```python block holding the whole script",
        )
    if len(blocks) > 1:
        raise CodeExtractionError(
            f"the reply contains {len(blocks)} ```python code blocks",
            hint="put the whole script in ONE ```python block",
        )
    code = blocks[0].strip()
    if not code:
        raise CodeExtractionError(
            "the ```python code block is empty", hint="write the whole script inside the block"
        )
    return code + "\n"


TIMED_OUT_CALL = "rpc_timeout"
"""The failure kind of a call that got no reply in time (see ScriptFailure)."""


def describe_error(error: dict[str, Any]) -> str:
    """The typed error of an attempt as the few lines the model reads."""
    lines = [f"{error.get('kind', 'error')}: {error.get('message', '')}"]
    if error.get("service") or error.get("method"):
        lines.append(f"method: {error.get('service') or '?'}.{error.get('method') or '?'}")
    for key in ("params", "code", "data", "exception_type"):
        if error.get(key) is not None:
            lines.append(f"{key}: {error[key]}")
    if error.get("traceback_tail"):
        lines.append("traceback (the script's lines):\n" + str(error["traceback_tail"]))
    if error.get("stderr_tail") and not error.get("traceback_tail"):
        lines.append("stderr (last lines):\n" + str(error["stderr_tail"]))
    if error.get("kind") == TIMED_OUT_CALL:
        # No reply is not "not done": the call journal cannot list it, so say it here.
        lines.append(
            "note: the service may have carried out this call before its reply was lost; "
            "read the current state before calling it again"
        )
    return "\n".join(lines)


def failing_method_detail(error: dict[str, Any] | None, deps: AgentDeps) -> str:
    """Full detail of the method the error names, '' when it names none or an unknown one."""
    if not error or not error.get("service") or not error.get("method"):
        return ""
    catalog = deps.get_catalog()
    service, method = str(error["service"]), str(error["method"])
    try:
        details = [catalog.method_detail(service, method)]
    except CatalogError:
        return ""  # the error names a method the service does not have: the message says so
    # A service error often names the method to call first ("claim it with claim_next_job"):
    # its detail is what the next attempt needs.
    entry = catalog.get(service)
    mentioned = f"{error.get('message', '')} {error.get('data', '')}"
    for other in sorted(set(entry.methods.values()) if entry is not None else ()):
        if other != method and re.search(rf"\b{re.escape(other)}\b", mentioned):
            details.append(catalog.method_detail(service, other))
    return "\n\n".join(details)


def interface_entries(names: list[str], deps: AgentDeps) -> list[ServiceEntry]:
    """Catalog entries of the services whose interfaces are loaded (blocking: may read files)."""
    catalog = deps.get_catalog()
    return [entry for name in names if (entry := catalog.get(name)) is not None]


async def write_code(state: State, runtime: Runtime[Context], *, deps: AgentDeps) -> dict[str, Any]:
    """Ask the code model for a script; record the attempt whether or not it holds code."""
    context = context_of(runtime)
    attempt = state["attempts"] + 1
    error = state.get("last_error")
    entries = await asyncio.to_thread(interface_entries, list(state["interfaces"]), deps)
    prompt = render(
        "write_code",
        notation=notation(list(state["interfaces"].values())),
        interfaces=[{"name": name, "text": text} for name, text in state["interfaces"].items()],
        preamble="\n".join(preamble_lines(entries)) if entries else "",
        history=recent_history(state, context),
        intent=state["restated_intent"],
        request=state["intent"],
        attempt=attempt - 1,
        previous_code=state["code"] if error and error.get("stage") != "run" else "",
        error_stage=str(error.get("stage", "run")) if error else "",
        error_text=describe_error(error) if error else "",
        method_detail=await asyncio.to_thread(failing_method_detail, error, deps),
        calls_made=describe_calls(state["trace"]) if error else "",
    )
    model = await deps.chat_model("code", context)
    started = time.perf_counter()
    reply = await model.ainvoke(prompt.messages())
    write_s = time.perf_counter() - started
    tokens = tokens_of(reply if isinstance(reply, AIMessage) else None)
    text = reply.text if isinstance(reply, AIMessage) else str(reply)
    entry = TraceEntry(
        attempt=attempt,
        kind="code",
        code="",
        check="pending",
        exit_code=None,
        stdout_tail="",
        stderr_tail="",
        error=None,
        durations={"write": round(write_s, 4)},
        tokens=tokens,
        calls=[],
        calls_truncated=False,
    )
    update: dict[str, Any] = {
        "attempts": attempt,
        "usage": add_usage(state["usage"], "write_code", tokens),
    }
    try:
        code = extract_code(text)
    except CodeExtractionError as exc:
        failure = {
            "stage": "extract",
            "kind": "no_code",
            "message": str(exc),
            "reply_excerpt": text[: context.tail_chars],
        }
        entry["check"] = str(exc)
        entry["error"] = failure
        return update | {"code": "", "last_error": failure, "trace": [*state["trace"], entry]}
    code, _added = complete_preamble(code, entries)
    entry["code"] = code
    return update | {"code": code, "last_error": None, "trace": [*state["trace"], entry]}
