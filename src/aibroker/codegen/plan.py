"""The generation plan: everything the templates need, computed once from a document.

Planning keeps decisions (names, types, parameter order, error classes, the default endpoint)
out of the templates, so the client and the interface render the same facts, and both are
deterministic: every collection here is built in spec order or sorted.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from pydantic import BaseModel

from aibroker.codegen import naming
from aibroker.codegen.families import entities
from aibroker.codegen.schemas import ANY, AliasDef, ModelDef, SchemaMapper, Ty, nullable
from aibroker.codegen.text import collapse, first_sentence, one_line, shorten
from aibroker.openrpc.model import ErrorObject, ExamplePairing, Method, OpenRpcDocument

STANDARD_ERROR_CODES = frozenset({-32700, -32600, -32601, -32602, -32603})
"""Codes the runtime already maps to its own classes (``aibroker.rpc.InvalidParams``, ...)."""

_GENERIC_DESCRIPTOR_NAMES = frozenset(
    {
        "result",
        "results",
        "res",
        "value",
        "values",
        "data",
        "params",
        "param",
        "args",
        "input",
        "output",
        "options",
        "response",
        "return",
        "object",
        "body",
    }
)
_ERROR_STOP_WORDS = frozenset(
    {
        "the",
        "a",
        "an",
        "of",
        "to",
        "is",
        "was",
        "be",
        "been",
        "for",
        "and",
        "or",
        "in",
        "on",
        "with",
        "this",
        "that",
    }
)
_FIELD_RESERVED = (
    frozenset(dir(BaseModel)) | naming.ANNOTATION_BUILTINS | naming.TYPING_NAMES | {"None"}
)


@dataclass
class ParamPlan:
    """One parameter of one method."""

    rpc_name: str
    name: str
    type: Ty
    required: bool
    description: str


@dataclass
class ErrorPlan:
    """A named exception class for one spec-declared JSON-RPC error code."""

    name: str
    code: int
    message: str


@dataclass
class MethodPlan:
    """One RPC method as a Python method."""

    rpc_name: str
    name: str
    method: Method
    params: list[ParamPlan]
    result: Ty | None
    """``None`` for a notification (the method declares no result)."""
    by_name: bool
    keep: int
    """Positional params always sent (up to the last required one); later unset ones drop."""
    summary: str
    errors: list[ErrorPlan]
    adapter: str | None = None
    """Module-level ``TypeAdapter`` variable validating the result (``None``: returned as is)."""

    @property
    def required_params(self) -> list[ParamPlan]:
        return [p for p in self.params if p.required]

    @property
    def optional_params(self) -> list[ParamPlan]:
        return [p for p in self.params if not p.required]

    @property
    def examples(self) -> list[ExamplePairing]:
        return self.method.examples


@dataclass
class ServicePlan:
    """Everything rendered for one service."""

    name: str
    class_name: str
    title: str
    version: str
    summary: str
    env_var: str
    default_endpoint: str | None
    methods: list[MethodPlan]
    models: list[ModelDef]
    aliases: list[AliasDef]
    errors: list[ErrorPlan]
    adapters: dict[str, str] = field(default_factory=dict)
    """Result type expression → adapter variable name, in first-use order."""

    @property
    def async_class_name(self) -> str:
        return f"Async{self.class_name}"


def plan_service(
    document: OpenRpcDocument, *, name: str | None = None, endpoint: str | None = None
) -> ServicePlan:
    """Decide every name and type of the client for ``document``."""
    service = naming.service_name(name or document.info.title or "service")
    class_name = naming.class_name(service)
    allocator = naming.NameAllocator({class_name, f"Async{class_name}"})
    mapper = SchemaMapper(document.components.schemas, allocator)
    errors = _plan_errors(document, allocator)
    python_names = naming.method_names([m.name for m in document.methods])
    methods = [
        _plan_method(method, python_names[method.name], mapper, errors)
        for method in document.methods
    ]
    models = [d for d in mapper.definitions.values() if isinstance(d, ModelDef)]
    aliases = _alias_order([d for d in mapper.definitions.values() if isinstance(d, AliasDef)])
    _name_fields(models, set(mapper.definitions) | {e.name for e in errors.values()} | {class_name})
    plan = ServicePlan(
        name=service,
        class_name=class_name,
        title=collapse(document.info.title),
        version=collapse(document.info.version),
        summary=service_summary(document),
        env_var=f"{service.upper()}_ENDPOINT",
        default_endpoint=endpoint or default_endpoint(document),
        methods=methods,
        models=models,
        aliases=aliases,
        errors=sorted(errors.values(), key=lambda e: (e.name, e.code)),
    )
    for method in methods:
        if method.result is not None and not method.result.is_any:
            adapter = plan.adapters.setdefault(method.result.text, f"_RESULT_{len(plan.adapters)}")
            method.adapter = adapter
    return plan


def _plan_method(
    method: Method, python_name: str, mapper: SchemaMapper, errors: dict[int, ErrorPlan]
) -> MethodPlan:
    method_hint = naming.pascal_case(python_name) or "Method"
    used: set[str] = set()
    params: list[ParamPlan] = []
    for descriptor in method.params:
        base = naming.identifier(descriptor.name, fallback="arg")
        param_name = naming.unique(naming.escape_identifier(base), used, separator="_")
        hint = _descriptor_hint(descriptor.name, method_hint)
        ty = mapper.type_of(descriptor.schema_, hint)
        if not descriptor.required:
            ty = nullable(ty)
        description = one_line(descriptor.summary, descriptor.description, limit=160)
        params.append(ParamPlan(descriptor.name, param_name, ty, descriptor.required, description))
    result: Ty | None = None
    if method.result is not None:
        result = mapper.type_of(
            method.result.schema_, _descriptor_hint(method.result.name, method_hint, "Result")
        )
    last_required = max((i + 1 for i, p in enumerate(params) if p.required), default=0)
    method_errors = [errors[e.code] for e in method.errors if e.code in errors]
    return MethodPlan(
        rpc_name=method.name,
        name=python_name,
        method=method,
        params=params,
        result=result,
        by_name=method.param_structure == "by-name",
        keep=last_required,
        summary=one_line(method.summary, method.description, limit=100),
        errors=_unique_errors(method_errors),
    )


def _unique_errors(errors: list[ErrorPlan]) -> list[ErrorPlan]:
    seen: dict[int, ErrorPlan] = {}
    for error in errors:
        seen.setdefault(error.code, error)
    return list(seen.values())


def _descriptor_hint(descriptor_name: str, method_hint: str, suffix: str = "") -> str:
    base = naming.pascal_case(descriptor_name)
    if not base or descriptor_name.lower() in _GENERIC_DESCRIPTOR_NAMES:
        return method_hint + (suffix or base or "Param")
    return base


def _plan_errors(
    document: OpenRpcDocument, allocator: naming.NameAllocator
) -> dict[int, ErrorPlan]:
    """One class per declared non-standard code: component errors first, then by method."""
    named: dict[tuple[int, str], str] = {
        (error.code, error.message): key for key, error in document.components.errors.items()
    }
    candidates: list[ErrorObject] = list(document.components.errors.values())
    for method in document.methods:
        candidates.extend(method.errors)
    plans: dict[int, ErrorPlan] = {}
    for error in candidates:
        if error.code in plans or error.code in STANDARD_ERROR_CODES:
            continue
        wanted = named.get((error.code, error.message)) or _error_words(error.message)
        class_name = allocator.allocate(wanted, fallback=f"Error{abs(error.code)}")
        plans[error.code] = ErrorPlan(class_name, error.code, one_line(error.message, limit=120))
    return plans


def _error_words(message: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", message)
    kept = [w for w in words if w.lower() not in _ERROR_STOP_WORDS] or words
    return " ".join(kept[:5])


def _name_fields(models: list[ModelDef], module_names: set[str]) -> None:
    """Choose each field's Python name: the JSON name when it is safe, else an escaped one."""
    reserved = _FIELD_RESERVED | module_names
    for model in models:  # bases come first, so inherited Python names are known
        used: set[str] = {f.python_name for f in model.inherited}
        for field_def in model.fields:
            wanted = field_def.json_name
            if not (wanted.isidentifier() and wanted.isascii()) or wanted.startswith("_"):
                wanted = naming.identifier(wanted, fallback="field")
            if keyword.iskeyword(wanted) or keyword.issoftkeyword(wanted) or wanted in reserved:
                wanted = naming.escape_identifier(wanted, reserved)
            field_def.python_name = naming.unique(wanted, used, separator="_")


def _alias_order(aliases: list[AliasDef]) -> list[AliasDef]:
    """Aliases after the aliases they use (alias-only cycles were broken by the mapper)."""
    by_name = {alias.name: alias for alias in aliases}
    ordered: list[AliasDef] = []
    done: set[str] = set()

    def visit(alias: AliasDef, stack: set[str]) -> None:
        if alias.name in done or alias.name in stack:
            return
        stack.add(alias.name)
        for ref in sorted(alias.refs):
            if ref in by_name:
                visit(by_name[ref], stack)
        done.add(alias.name)
        ordered.append(alias)

    for alias in aliases:
        visit(alias, set())
    return ordered


def default_endpoint(document: OpenRpcDocument) -> str | None:
    """The first ``servers`` URL with its variables set to their defaults, if it is usable."""
    from aibroker.rpc import Endpoint, EndpointError

    for server in document.servers[:1]:
        url = server.url
        for variable, spec in sorted(server.variables.items()):
            url = url.replace("${" + variable + "}", spec.default).replace(
                "{" + variable + "}", spec.default
            )
        try:
            Endpoint.parse(url)
        except EndpointError:
            return None
        return url if "{" not in url else None
    return None


def service_summary(document: OpenRpcDocument) -> str:
    """One line saying what the service does: the spec's own words when it has them."""
    info = document.info
    for text in (info.summary, info.description):
        sentence = first_sentence(text)
        if sentence:
            return shorten(sentence, 240)
    tags = list(dict.fromkeys(tag.name for method in document.methods for tag in method.tags))
    if len(tags) < 3:
        tags = []
    names = tags or [naming.snake_case(m.name) or m.name for m in document.methods]
    title = collapse(info.title)
    family = None if tags else entities(names)
    if family is not None:  # "get/set/list for calendar, contact, …" beats "calendar_get, …"
        stems, actions = family
        what = f"{'/'.join(actions)} for {', '.join(stems)}"
        return f"{title}: {what}" if title else what
    if not names:
        return title or "a JSON-RPC service with no methods"
    listed = ", ".join(names)
    label = "tags" if tags else "methods"
    return f"{title}: {label} {listed}" if title else f"{label}: {listed}"


__all__ = ["ANY", "MethodPlan", "ParamPlan", "ServicePlan", "plan_service"]
