"""Deterministic client and interface generation from OpenRPC documents (no LLM involved).

:func:`generate` turns a resolved :class:`~aibroker.openrpc.model.OpenRpcDocument` into a
:class:`GeneratedService`: a typed Python client module (sync and async classes, pydantic
models, named errors; ruff-formatted, ``mypy --strict`` clean), the compact interface text the
model reads, and the service's card. :func:`method_detail` gives the full story of one method
on demand. The same document always gives byte-identical output, whatever PYTHONHASHSEED.

Stages: :mod:`~aibroker.codegen.plan` decides names and types (with
:mod:`~aibroker.codegen.naming` and :mod:`~aibroker.codegen.schemas`),
:mod:`~aibroker.codegen.render` writes the client from ``templates/client.py.jinja``,
:mod:`~aibroker.codegen.interface` the interface and card, :mod:`~aibroker.codegen.detail`
one method's detail. Golden files: ``python -m aibroker.codegen.golden``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aibroker.codegen.detail import method_detail
from aibroker.codegen.errors import CodegenError, FormatError
from aibroker.codegen.interface import render_card, render_interface
from aibroker.codegen.naming import service_name
from aibroker.codegen.plan import plan_service
from aibroker.codegen.render import render_client
from aibroker.openrpc.model import OpenRpcDocument

__all__ = [
    "CodegenError",
    "FormatError",
    "GeneratedService",
    "generate",
    "method_detail",
    "service_name",
]


@dataclass(frozen=True)
class GeneratedService:
    """Everything generated for one service."""

    name: str
    """Python module name of the service, also its registry name (``hero_kv``)."""
    class_name: str
    """The client class (``HeroKv``; the asyncio variant is ``Async`` + this)."""
    client: str
    """``client.py``: ruff-formatted, ``mypy --strict`` clean source."""
    interface: str
    """``interface.py``: the compact text the model reads instead of the spec."""
    card: str
    """``SERVICE: ...`` and ``SUMMARY: ...`` lines, at most 40 cl100k tokens."""
    method_count: int
    methods: dict[str, str]
    """RPC method name → Python method name, in spec order."""


def generate(
    document: OpenRpcDocument, *, name: str | None = None, endpoint: str | None = None
) -> GeneratedService:
    """Generate the client, interface and card of ``document``.

    ``name`` overrides the service name derived from the title (it is normalised by
    :func:`service_name`); ``endpoint`` is where the spec was discovered, used by
    ``connect()`` when neither an argument nor the environment variable names one.
    """
    plan = plan_service(document, name=name, endpoint=endpoint)
    return GeneratedService(
        name=plan.name,
        class_name=plan.class_name,
        client=render_client(plan),
        interface=render_interface(plan),
        card=render_card(plan),
        method_count=len(plan.methods),
        methods={m.rpc_name: m.name for m in plan.methods},
    )
