"""Full detail of one method, for the repair loop: what the interface leaves out.

The interface keeps each method to one line; when a call fails, the model asks for the whole
story of that one method — signature, full descriptions, the JSON Schemas of params and result
(named references expanded a few levels), declared errors, every example, and the models the
signature mentions.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from aibroker.codegen.errors import CodegenError
from aibroker.codegen.examples import example_line
from aibroker.codegen.interface import model_lines, stub_signature
from aibroker.codegen.plan import MethodPlan, ServicePlan, plan_service
from aibroker.codegen.render import returns
from aibroker.codegen.schemas import SCHEMA_REF_PREFIX, ModelDef
from aibroker.codegen.text import collapse, comment_safe, py_literal, shorten
from aibroker.openrpc.model import OpenRpcDocument

EXPAND_DEPTH = 3
SCHEMA_CHARS = 6000


def method_detail(document: OpenRpcDocument, rpc_method: str, *, name: str | None = None) -> str:
    """The full description of ``rpc_method`` (RPC name, or the generated Python name)."""
    plan = plan_service(document, name=name)
    method = next((m for m in plan.methods if rpc_method in (m.rpc_name, m.name)), None)
    if method is None:
        known = [m.rpc_name for m in plan.methods]
        close = difflib.get_close_matches(rpc_method, known, n=3)
        raise CodegenError(
            f"service {plan.name!r} has no method {rpc_method!r}",
            hint=f"did you mean {', '.join(close)}?"
            if close
            else f"known methods: {', '.join(known[:20])}",
        )
    return render_detail(plan, method, document)


def render_detail(plan: ServicePlan, method: MethodPlan, document: OpenRpcDocument) -> str:
    spec = method.method
    structure = "by-name (dict)" if method.by_name else "by-position (list)"
    lines = [
        f"# {plan.name}.{method.name} — RPC method {json.dumps(method.rpc_name)}, "
        f"params {structure}",
        f"def {method.name}({stub_signature(method)}) -> {returns(method)}",  # as in the interface
    ]
    if spec.deprecated:
        lines.append("DEPRECATED: avoid it when another method does the job.")
    for label, text in (("Summary", spec.summary), ("Description", spec.description)):
        if collapse(text):
            lines.append(f"{label}: {collapse(text)}")
    components = document.components.schemas
    if method.params:
        lines.append("Params:")
        for param, descriptor in zip(method.params, spec.params, strict=True):
            need = "required" if param.required else "optional, keyword-only"
            described = collapse(descriptor.description or descriptor.summary)
            lines.append(f"  {param.name}: {param.type.text} ({need}) {described}".rstrip())
            lines.append(f"    schema: {_schema_text(descriptor.schema_, components)}")
    if spec.result is None:
        lines.append("Result: none (a notification: the service sends no reply)")
    else:
        described = collapse(spec.result.description or spec.result.summary)
        lines.append(f"Result: {returns(method)} {described}".rstrip())
        lines.append(f"  schema: {_schema_text(spec.result.schema_, components)}")
    if spec.errors:
        lines.append("Errors:")
        by_code = {e.code: e.name for e in plan.errors}
        for error in spec.errors:
            class_name = by_code.get(error.code, "JsonRpcError")
            lines.append(f"  {class_name} (code {error.code}): {comment_safe(error.message)}")
    if spec.examples:
        lines.append("Examples:")
        for pairing in spec.examples:
            params = {p.name or str(i): p.value for i, p in enumerate(pairing.params)}
            result = py_literal(pairing.result.value) if pairing.result is not None else "(none)"
            title = comment_safe(pairing.name or pairing.summary or "example")
            lines.append(
                f"  {title}: params {shorten(py_literal(params), 1000)} -> {shorten(result, 1000)}"
            )
        call = example_line(plan, method)
        if call:
            lines.append(f"  as a call: {call.removeprefix('# ')}")
    models = _models_used(plan, method)
    if models:
        lines.append("Models:")
        lines.extend(model_lines(model) for model in models)
    return "\n".join(lines) + "\n"


def _models_used(plan: ServicePlan, method: MethodPlan) -> list[ModelDef]:
    """The models the method's signature mentions, transitively, in plan order."""
    by_name: dict[str, Any] = {m.name: m for m in plan.models}
    by_name.update({a.name: a for a in plan.aliases})
    pending = set().union(*(p.type.refs for p in method.params))
    if method.result is not None:
        pending |= method.result.refs
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen or current not in by_name:
            continue
        seen.add(current)
        pending |= by_name[current].refs
    return [m for m in plan.models if m.name in seen]


def _schema_text(schema: Any, components: dict[str, Any]) -> str:
    text = json.dumps(expand_refs(schema, components, EXPAND_DEPTH), ensure_ascii=False)
    return collapse(shorten(text, SCHEMA_CHARS))


def expand_refs(schema: Any, components: dict[str, Any], depth: int) -> Any:
    """``schema`` with ``#/components/schemas/X`` references inlined ``depth`` levels deep."""
    if isinstance(schema, list):
        return [expand_refs(item, components, depth) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX) and depth > 0:
        name = ref[len(SCHEMA_REF_PREFIX) :]
        target = components.get(name)
        if isinstance(target, dict):
            return {"title": name, **expand_refs(target, components, depth - 1)}
    return {key: expand_refs(value, components, depth) for key, value in schema.items()}
