"""Every method of a generated client as a LangChain ``StructuredTool``.

The argument schema is a pydantic model built from the client method's own signature
(its annotations are the generated pydantic types), so what a tool accepts is exactly what
the client accepts and validation errors name the real parameters. Used by the graph's direct
route and by the tool-calling baseline agent of the benchmarks.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Iterable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import create_model
from pydantic_core import to_jsonable_python

from aibroker.catalog import Catalog, ServiceEntry
from aibroker.tools.clients import client_class, public_methods

MAX_TOOL_NAME = 64
"""OpenAI-compatible APIs reject longer tool names."""


def tool_name(service: str, method: str) -> str:
    """``<service>__<method>``, cut to the length tool-calling APIs accept."""
    return f"{service}__{method}"[:MAX_TOOL_NAME]


def _args_model(cls: type, method: str) -> type[Any]:
    """A pydantic model of ``cls.method``'s parameters (``self`` and ``*args`` left out)."""
    func = getattr(cls, method)
    hints = typing.get_type_hints(func)
    fields: dict[str, Any] = {}
    for parameter in list(inspect.signature(func).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    model: type[Any] = create_model(f"{cls.__name__}_{method}_args", **fields)
    return model


def _summary(cls: type, method: str, entry: ServiceEntry) -> str:
    doc = inspect.getdoc(getattr(cls, method)) or ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    return first or f"Call {method} on service {entry.name}."


def method_tools(entry: ServiceEntry, *, timeout: float = 30.0) -> list[BaseTool]:
    """One tool per RPC method of ``entry``'s client (blocking: imports the client module).

    Each call connects to ``entry.endpoint``, calls the method with validated arguments and
    returns the result as JSON text, with the JSON value itself as the tool artifact.
    """
    cls = client_class(entry)
    tools: list[BaseTool] = []
    for method in public_methods(cls):
        tools.append(
            StructuredTool.from_function(
                func=_caller(cls, method, entry.endpoint, timeout),
                name=tool_name(entry.name, method),
                description=_summary(cls, method, entry),
                args_schema=_args_model(cls, method),
                response_format="content_and_artifact",
                metadata={"service": entry.name, "method": method},
            )
        )
    return tools


def _caller(cls: type, method: str, endpoint: str, timeout: float) -> Any:
    """The blocking function a method tool runs (LangChain runs it in a worker thread)."""

    def call(**arguments: Any) -> tuple[str, Any]:
        with cls.connect(endpoint, timeout=timeout) as client:  # type: ignore[attr-defined]
            value = getattr(client, method)(**arguments)
        jsonable = to_jsonable_python(value, by_alias=True, exclude_none=True)
        return json.dumps(jsonable, ensure_ascii=False), jsonable

    return call


def all_method_tools(catalog: Catalog, services: Iterable[str] | None = None) -> list[BaseTool]:
    """Method tools of every service of ``catalog`` (or of ``services``), for tool agents."""
    wanted = set(services) if services is not None else None
    tools: list[BaseTool] = []
    for entry in catalog.entries():
        if wanted is None or entry.name in wanted:
            tools.extend(method_tools(entry))
    return tools
