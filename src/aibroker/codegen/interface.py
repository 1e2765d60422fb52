"""What the model reads instead of the spec: the card and the interface.

* The **card** (``SERVICE:`` + ``SUMMARY:``, at most :data:`CARD_TOKEN_LIMIT` cl100k tokens)
  is all the reranker sees of a service.
* The **interface** is the client as compact Python-like stubs: one line per method
  (signature and a short doc), one example call where the spec has a useful one, the models
  and aliases those signatures use, and the named errors on one line. It is rendered from the
  same :class:`~aibroker.codegen.plan.ServicePlan` as the client, so names and types match.

Every token counts here (the interface is sent with every request that uses the service),
so the notation is explained once in the header and then used everywhere:

* ``class X: a: int; b?: str`` — models are pydantic; ``b?`` may be absent (``None``);
* ``def m(a: int, *, b: str = None)`` — ``b`` is an optional keyword argument;
* a method doc that only repeats the method's name ("Get a user by ID" on
  ``user_get(id)``) is left out, and the others are cut to :data:`DOC_CHARS`.

Spec text is untrusted: everything from it is collapsed to one line, cut, and quoted as a
docstring or written after ``#``, so it cannot break out into code.
"""

from __future__ import annotations

import re
from typing import Any

from aibroker.codegen import naming
from aibroker.codegen.examples import example_line
from aibroker.codegen.plan import MethodPlan, ParamPlan, ServicePlan
from aibroker.codegen.render import environment
from aibroker.codegen.schemas import FieldDef, ModelDef
from aibroker.codegen.text import ELLIPSIS, comment_safe, shorten, string_safe
from aibroker.tokens import count_tokens

CARD_TOKEN_LIMIT = 40
DOC_CHARS = 80
"""Method docs are cut to this many characters (at a word boundary)."""
MODEL_LINE_CHARS = 120
"""Model fields are packed ``a: int; b: str`` onto lines of about this many characters."""
_NONE_SUFFIX = " | None"
_DOC_STOP_WORDS = frozenset(
    {
        *("a", "an", "the", "of", "to", "is", "be", "for", "and", "or", "in", "on", "with"),
        *("this", "that", "by", "all", "given", "its", "from", "if", "whether"),
        *("get", "return", "retrieve", "fetch", "check"),
    }
)
"""Words that say nothing a method name does not: ``Check if a calendar exists by ID`` on
``calendar_exist(id)`` adds nothing."""


def render_card(plan: ServicePlan) -> str:
    """``SERVICE: name`` and ``SUMMARY: ...``, cut word by word to fit the token limit."""
    head = f"SERVICE: {plan.name}\nSUMMARY: "
    words = comment_safe(plan.summary).split(" ") or [""]
    text = head + " ".join(words)
    while count_tokens(text) > CARD_TOKEN_LIMIT and len(words) > 1:
        words.pop()
        text = head + " ".join(words).rstrip(" ,;:-") + ELLIPSIS
    if count_tokens(text) > CARD_TOKEN_LIMIT:  # a single enormous "word"
        summary = words[0]
        while summary and count_tokens(head + summary + ELLIPSIS) > CARD_TOKEN_LIMIT:
            summary = summary[: len(summary) * 3 // 4]
        text = head + summary + ELLIPSIS
    return text


def render_interface(plan: ServicePlan) -> str:
    """The interface text of ``plan`` (see the module docstring)."""
    template = environment().get_template("interface.py.jinja")
    return template.render(**interface_context(plan))


def interface_context(plan: ServicePlan) -> dict[str, Any]:
    """Everything the interface template reads."""
    return {
        "plan": plan,
        "summary": render_card(plan).split("SUMMARY: ", 1)[1],
        "endpoint": comment_safe(plan.default_endpoint or f"(set ${plan.env_var})"),
        "usage": f"from {plan.name} import {plan.class_name}; "
        f"{plan.name} = {plan.class_name}.connect()",
        "methods": [_method_view(plan, method) for method in plan.methods],
        "models": [model_lines(model) for model in plan.models],
        "aliases": [f"{alias.name} = {alias.type.text}" for alias in plan.aliases],
        "optional_fields": any(not f.required for m in plan.models for f in m.fields),
        "errors": ", ".join(f"{e.name}({e.code})" for e in plan.errors),
    }


def _method_view(plan: ServicePlan, method: MethodPlan) -> dict[str, str]:
    doc = method_doc(method)
    body = f'"""{string_safe(doc)}"""' if doc else "..."
    return {
        "line": f"def {method.name}({stub_signature(method)}) -> {_returns(method)}: {body}",
        "example": example_line(plan, method),
    }


def _returns(method: MethodPlan) -> str:
    return "None" if method.result is None else method.result.text


def stub_signature(method: MethodPlan) -> str:
    """``a: int, *, b: str = None``: required params, then the optional keyword-only ones
    (their ``| None`` is implied by the ``= None`` default)."""
    parts = [f"{p.name}: {p.type.text}" for p in method.required_params]
    optional = method.optional_params
    if optional:
        parts.append("*")
        parts += [f"{p.name}: {_without_none(p)} = None" for p in optional]
    return ", ".join(parts)


def _without_none(param: ParamPlan) -> str:
    text = param.type.text
    return text.removesuffix(_NONE_SUFFIX) if text.endswith(_NONE_SUFFIX) else text


def method_doc(method: MethodPlan) -> str:
    """The method's one-line doc for the interface ('' when it only repeats the name)."""
    notes = []
    if method.method.deprecated:
        notes.append("DEPRECATED.")
    summary = method.summary if method.summary and _adds_to_name(method) else ""
    if summary:
        notes.append(shorten(summary, DOC_CHARS))
    if method.result is None:
        notes.append("(notification, no reply)")
    return " ".join(notes)


def _adds_to_name(method: MethodPlan) -> bool:
    """Whether the summary says more than the method's, params' and result's names do."""
    named = set(_words(method.name)) | {w for p in method.params for w in _words(p.name)}
    if method.result is not None:
        named |= set(_words(naming.snake_case(method.result.text)))
    said = [w for w in _words(method.summary) if w not in _DOC_STOP_WORDS]
    return not said or any(w not in named for w in said)


def _words(text: str) -> list[str]:
    """Lower-case words with a plural ``s`` dropped: ``Lists calendars`` → list, calendar."""
    words = re.findall(r"[a-z0-9]+", naming.snake_case(text).replace("_", " "))
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def model_lines(model: ModelDef) -> str:
    """``class X(Base): a: int; b?: str`` — wrapped onto indented lines when it is long."""
    bases = f"({', '.join(model.bases)})" if model.bases else ""
    head = f"class {model.name}{bases}:"
    fields = [field_text(f) for f in model.fields]
    if not fields:
        return f"{head} pass"
    one_line = f"{head} {'; '.join(fields)}"
    if len(one_line) <= MODEL_LINE_CHARS:
        return one_line
    lines: list[str] = []
    current: list[str] = []
    for text in fields:
        if current and len("    " + "; ".join([*current, text])) > MODEL_LINE_CHARS:
            lines.append("    " + "; ".join(current))
            current = []
        current.append(text)
    lines.append("    " + "; ".join(current))
    return "\n".join([head, *lines])


def field_text(field_def: FieldDef) -> str:
    """``name: T`` for a required field, ``name?: T`` for one that may be absent."""
    if field_def.required:
        return f"{field_def.python_name}: {field_def.type.text}"
    text = field_def.type.text
    if text.endswith(_NONE_SUFFIX):
        text = text.removesuffix(_NONE_SUFFIX)
    return f"{field_def.python_name}?: {text}"


_OPTIONAL_FIELD = re.compile(r"(?<=[A-Za-z0-9_])\?:")


def interface_as_python(text: str) -> str:
    """The interface in plain Python syntax (``f?: T`` → ``f: T``), for parsing and checks."""
    return _OPTIONAL_FIELD.sub(":", text)
