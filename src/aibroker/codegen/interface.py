"""What the model reads instead of the spec: the card and the interface.

* The **card** (``SERVICE:`` + ``SUMMARY:``, at most :data:`CARD_TOKEN_LIMIT` cl100k tokens)
  is all the reranker sees of a service.
* The **interface** is compact, valid-looking Python: the client class with one line per
  method (signature and one-line doc), one example call per method where the spec has one,
  then the models, aliases and errors those signatures use. It is rendered from the same
  :class:`~aibroker.codegen.plan.ServicePlan` as the client, so names and types match.

Spec text is untrusted: everything from it is collapsed to one line, cut, and quoted as a
docstring or written after ``#``, so it cannot break out into code.
"""

from __future__ import annotations

from typing import Any

from aibroker.codegen.plan import MethodPlan, ServicePlan
from aibroker.codegen.render import environment, field_type, pystr, returns, signature
from aibroker.codegen.text import ELLIPSIS, comment_safe, py_literal, shorten, string_safe
from aibroker.tokens import count_tokens

CARD_TOKEN_LIMIT = 40
EXAMPLE_CHARS = 120
ONE_LINE_MODEL_CHARS = 140
ONE_LINE_MODEL_FIELDS = 8


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
    variable = plan.name
    return {
        "plan": plan,
        "summary": render_card(plan).split("SUMMARY: ", 1)[1],
        "endpoint": comment_safe(plan.default_endpoint or f"(set ${plan.env_var})"),
        "variable": variable,
        "methods": [_method_view(plan, method, variable) for method in plan.methods],
        "models": [_model_line(model) for model in plan.models],
        "aliases": [f"{alias.name} = {alias.type.text}" for alias in plan.aliases],
        "errors": [
            f"class {e.name}(JsonRpcError): code = {e.code}  # {comment_safe(e.message)}"
            for e in plan.errors
        ],
    }


def _method_view(plan: ServicePlan, method: MethodPlan, variable: str) -> dict[str, str]:
    doc = method.summary or f"Call {method.rpc_name}."
    if method.method.deprecated:
        doc = "DEPRECATED. " + doc
    if method.result is None:
        doc += " (notification, no reply)"
    return {
        "line": f"def {method.name}({signature(method, with_self=False)}) -> {returns(method)}: "
        f'"""{string_safe(doc)}"""',
        "example": example_line(plan, method, variable),
    }


def _model_line(model: Any) -> str:
    fields = []
    for field_def in model.fields:
        fields.append(f"{field_def.python_name}: {field_type(field_def).text}")
    head = f"class {model.name}({', '.join(model.bases) or 'BaseModel'}):"
    one_line = f"{head} {'; '.join(fields)}" if fields else f"{head} pass"
    if len(fields) <= ONE_LINE_MODEL_FIELDS and len(one_line) <= ONE_LINE_MODEL_CHARS:
        return one_line
    return head + "".join(f"\n    {line}" for line in fields)


def example_line(plan: ServicePlan, method: MethodPlan, variable: str) -> str:
    """``# var.method(args) -> result`` from the method's first example pairing, or ''."""
    if not method.examples:
        return ""
    pairing = method.examples[0]
    given = {example.name: example.value for example in pairing.params if example.name}
    positional = [
        py_literal(given[p.rpc_name]) for p in method.required_params if p.rpc_name in given
    ]
    keywords = [
        f"{p.name}={py_literal(given[p.rpc_name])}"
        for p in method.optional_params
        if p.rpc_name in given and given[p.rpc_name] is not None
    ]
    arguments = positional + keywords
    call = f"{variable}.{method.name}({', '.join(arguments)})"
    result = pairing.result.value if pairing.result is not None else None
    if not arguments and result is None:
        return ""  # nothing an example would teach
    if result is not None and method.result is not None:
        call += f" -> {_result_literal(plan, method, result)}"
    return "# " + shorten(comment_safe(call), EXAMPLE_CHARS)


def _result_literal(plan: ServicePlan, method: MethodPlan, value: Any) -> str:
    """A model constructor when the result is one named model, else the JSON as Python."""
    assert method.result is not None
    model = next((m for m in plan.models if m.name == method.result.text), None)
    if model is None or not isinstance(value, dict):
        return py_literal(value)
    names = {f.json_name: f.python_name for f in model.all_fields}
    arguments = [
        f"{names[key]}={py_literal(item)}"
        if key in names
        else f"**{{{pystr(key)}: {py_literal(item)}}}"
        for key, item in value.items()
    ]
    return f"{model.name}({', '.join(arguments)})"
