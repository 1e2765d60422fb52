"""What the model reads instead of the spec: the card and the interface.

* The **card** (``SERVICE:`` + ``SUMMARY:``, at most :data:`CARD_TOKEN_LIMIT` cl100k tokens)
  is all the reranker sees of a service.
* The **interface** is the client as compact Python-like stubs: one line per method
  (signature and a short doc), one example call where the spec has a useful one, the models
  and aliases those signatures use, and the named errors on one line. It is rendered from the
  same :class:`~aibroker.codegen.plan.ServicePlan` as the client, so names and types match.

Every token counts here (the interface is sent with every request that uses the service),
so the notation is explained once per request (:func:`notation`) and then used everywhere:

* ``class X: a, b?: int; c: str`` — models are pydantic, fields of one type share their
  annotation, ``b?`` may be absent (``None``);
* ``def m(a: int, *, b: str = None)`` — ``b`` is an optional keyword argument;
* ``"x"|"y"`` — an enum is the strings it allows (``Literal[...]`` in the client);
* ``# For each x in: …`` — a method family (:mod:`~aibroker.codegen.families`): the CRUD
  methods every entity has, written once with placeholders;
* a method doc that only repeats the method's name ("Get a user by ID" on
  ``user_get(id)``) is left out, and the others are cut to :data:`DOC_CHARS`.

Spec text is untrusted: everything from it is collapsed to one line, cut, and quoted as a
docstring or written after ``#``, so it cannot break out into code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aibroker.codegen import naming
from aibroker.codegen.examples import example_line
from aibroker.codegen.families import expand, find_families
from aibroker.codegen.plan import MethodPlan, ParamPlan, ServicePlan
from aibroker.codegen.render import environment
from aibroker.codegen.schemas import ModelDef
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


_NOTATION_MODELS = (
    "`class M(Base): a, b?: int` is a pydantic model with the fields of Base and a and b, "
    "both int (`b?` may be None); pass a model or a dict where one is expected."
)
_NOTATION_FAMILIES = (
    "`# For each x in: d, f_g:` the lines below it that use x and X (its model) exist for "
    "each listed name: `def x_get() -> X` means d_get() -> D and f_g_get() -> FG."
)
_NOTATION_ERRORS = (
    "A failed call raises aibroker.rpc.JsonRpcError (.code, .message, .data), or the subclass "
    "named for its code."
)
_FAMILY_MARK = re.compile(r"^ {4}# For each (x|\{e\}) in: ", re.MULTILINE)


def notation(interfaces: list[str] | None = None) -> str:
    """How to read the interfaces (all of the notation when ``interfaces`` is ``None``).

    The notation is explained once per request (the code-writing prompt, the MCP and
    LangChain ``get_interface`` descriptions) instead of in every interface, and only the
    parts the given interfaces use: a family comment costs its explanation only when one is
    shown. Errors are left to the tool descriptions: the generated script must not catch them.
    """
    if interfaces is None:
        return " ".join([_NOTATION_MODELS, _NOTATION_FAMILIES, _NOTATION_ERRORS])
    parts = [_NOTATION_MODELS]
    if any(_FAMILY_MARK.search(text) for text in interfaces):
        parts.append(_NOTATION_FAMILIES)
    return " ".join(parts)


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
        "endpoint": comment_safe(plan.default_endpoint or f"${plan.env_var}"),
        "usage": f"from {plan.name} import {plan.class_name}; "
        f"{plan.name} = {plan.class_name}.connect()",
        "body": class_body(plan),
        "models": [model_lines(model) for model in plan.models],
        "aliases": [f"{alias.name} = {interface_type(alias.type.text)}" for alias in plan.aliases],
        "errors": ", ".join(f"{e.name}({e.code})" for e in plan.errors),
    }


def class_body(plan: ServicePlan) -> list[str]:
    """The lines of the client class: one per method with its example, except that a method
    family (:mod:`~aibroker.codegen.families`) is written once, as a template."""
    families = find_families(plan.methods, method_line, method_doc)
    starts = {id(min(f.methods + f.folded, key=plan.methods.index)): f for f in families}
    hidden = {id(m) for f in families for m in f.methods + f.folded + f.overrides}
    lines: list[str] = []

    def show(method: MethodPlan, *, doc: bool = True, template: Callable[[str], str] = str) -> None:
        lines.append(template(method_line(method, doc=doc)))
        example = example_line(plan, method)
        if example:
            lines.append(template(example))

    for method in plan.methods:
        family = starts.get(id(method))
        if family is not None:
            lines.append(family.comment())
            for shown in family.methods:
                show(shown, template=family.template)
            for shown in family.overrides:
                show(shown, doc=shown.name not in family.repeated_docs)
        elif id(method) not in hidden:
            show(method)
    return lines or ["pass"]


def method_line(method: MethodPlan, *, doc: bool = True) -> str:
    """``def name(a: int, *, b: str = None) -> T``, and ``: \"\"\"doc\"\"\"`` when it has one
    (a stub body ``: ...`` would say nothing, in two tokens a method)."""
    doc_text = method_doc(method) if doc else ""
    line = f"def {method.name}({stub_signature(method)}) -> {_returns(method)}"
    return f'{line}: """{string_safe(doc_text)}"""' if doc_text else line


def _returns(method: MethodPlan) -> str:
    return "None" if method.result is None else interface_type(method.result.text)


def stub_signature(method: MethodPlan) -> str:
    """``a: int, *, b: str = None``: required params, then the optional keyword-only ones
    (their ``| None`` is implied by the ``= None`` default)."""
    parts = [f"{p.name}: {interface_type(p.type.text)}" for p in method.required_params]
    optional = method.optional_params
    if optional:
        parts.append("*")
        parts += [f"{p.name}: {_without_none(p)} = None" for p in optional]
    return ", ".join(parts)


def _without_none(param: ParamPlan) -> str:
    return interface_type(param.type.text.removesuffix(_NONE_SUFFIX))


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
    """``class X(Base): a, b?: int; c: str`` — fields of one type share their annotation;
    a long model goes on with indented lines."""
    bases = f"({', '.join(model.bases)})" if model.bases else ""
    head = f"class {model.name}{bases}:"
    by_type: dict[str, list[str]] = {}
    for field_def in model.fields:
        annotation = field_def.type.text
        name = field_def.python_name
        if not field_def.required:
            annotation, name = annotation.removesuffix(_NONE_SUFFIX), name + "?"
        by_type.setdefault(interface_type(annotation), []).append(name)
    fields = [f"{', '.join(names)}: {annotation}" for annotation, names in by_type.items()]
    if not fields:
        return f"{head} pass"
    lines = [f"{head} {fields[0]}"]
    for text in fields[1:]:
        if len(f"{lines[-1]}; {text}") <= MODEL_LINE_CHARS:
            lines[-1] += f"; {text}"
        else:
            lines.append(f"    {text}")
    return "\n".join(lines)


def interface_type(text: str) -> str:
    """``Literal["a", "b"] | None`` → ``"a"|"b" | None``: the values are what a script needs,
    in fewer tokens (``Literal[`` and the separators are half the cost of a short enum)."""
    return _LITERAL.sub(lambda match: "|".join(_LITERAL_VALUE.findall(match[1])), text)


_STRING = r'"(?:[^"\\]|\\.)*"'  # as json.dumps writes it: the schema mapper's literals
_LITERAL = re.compile(rf"Literal\[((?:{_STRING}|[^\]\"])*)\]")
_LITERAL_VALUE = re.compile(rf"{_STRING}|[^,\s]+")
_OPTIONAL_FIELD = re.compile(r"(?<=[A-Za-z0-9_])\?(?=[:,])")


def interface_as_python(text: str) -> str:
    """The interface in plain Python syntax, for parsing and checks: method families expanded,
    ``a, b?: T`` → ``a: T; b: T``, stubs given a body."""
    lines = []
    for line in expand(text).split("\n"):
        line = _OPTIONAL_FIELD.sub("", line)
        if line.lstrip().startswith("def ") and not line.endswith('"""'):
            line += ": ..."  # a stub without a doc has no body in the interface
        if line.startswith("class ") and not line.endswith(":"):  # fields after the head
            head, fields = line.split(": ", 1)
            lines += [head + ":", "    " + fields]
        else:
            lines.append(line)
    return "\n".join(_one_name_per_field(line) for line in lines)


def _one_name_per_field(line: str) -> str:
    """``    a, b: int; c: str`` → ``    a: int; b: int; c: str`` (other lines unchanged)."""
    if not line.startswith("    ") or ": " not in line or line.lstrip().startswith(("def ", "#")):
        return line
    fields = []
    for group in line.strip().split("; "):
        names, _, annotation = group.partition(": ")
        fields += [f"{name}: {annotation}" for name in names.split(", ")]
    return "    " + "; ".join(fields)
