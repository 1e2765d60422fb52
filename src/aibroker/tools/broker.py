"""Broker tools: the agent's capabilities offered to another agent (MCP, tool-calling LLMs).

``list_services`` and ``get_interface`` expose the catalog's cards and interfaces,
``execute_code`` runs a script against chosen services in the sandbox, and ``run_intent``
hands a whole intent to the code-mode graph. Failures are raised as ``ToolException`` so a
calling model reads what went wrong instead of the tool crashing its loop.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool, StructuredTool, ToolException

from aibroker.catalog import Catalog, render_cards
from aibroker.codegen.interface import notation
from aibroker.graph.deps import ScriptRunner, sandbox_runner


def broker_tools(
    catalog: Catalog,
    *,
    runner: ScriptRunner | None = None,
    agent: Runnable[Any, Any] | None = None,
    timeout: float = 30.0,
) -> list[BaseTool]:
    """The broker tools over ``catalog``; ``run_intent`` only when an ``agent`` graph is given."""
    run = runner or sandbox_runner

    def list_services() -> str:
        """List every available service: one SERVICE line and one SUMMARY line each."""
        return render_cards(catalog.entries()) or "No services are registered."

    def get_interface(service: str) -> str:
        """The Python interface (client class, methods, models) of one service."""
        entry = catalog.get(service)
        if entry is None:
            names = ", ".join(e.name for e in catalog.entries()) or "none"
            raise ToolException(f"no service named {service!r}; available: {names}")
        return entry.interface

    async def execute_code(code: str, services: list[str]) -> str:
        """Run a Python script that uses the clients of `services`; returns its outcome as JSON."""
        entries = []
        for name in services:
            entry = catalog.get(name)
            if entry is None:
                raise ToolException(f"no service named {name!r}; call list_services first")
            entries.append(entry)
        outcome = await run(code, services=entries, time_limit=timeout)
        failure = outcome.failure
        return json.dumps(
            {
                "ok": outcome.ok,
                "exit_code": outcome.exit_code,
                "stdout": outcome.stdout,
                "stderr": outcome.stderr[-2000:],
                "result": outcome.result,
                "error": None if failure is None else f"{failure.kind}: {failure.message}",
            },
            ensure_ascii=False,
            default=str,
        )

    tools: list[BaseTool] = [
        StructuredTool.from_function(func=list_services, handle_tool_error=True),
        StructuredTool.from_function(
            func=get_interface,
            description=f"{get_interface.__doc__}\n\n{notation()}",
            handle_tool_error=True,
        ),
        StructuredTool.from_function(coroutine=execute_code, handle_tool_error=True),
    ]
    if agent is not None:
        graph = agent

        async def run_intent(intent: str, services: list[str] | None = None) -> str:
            """Fulfil an intent: choose services, write and run a script; returns the outcome."""
            state: dict[str, Any] = {"intent": intent}
            if services:
                state["services"] = services
            output = await graph.ainvoke(state)
            return json.dumps(
                {key: output.get(key) for key in ("status", "answer", "result", "attempts")},
                ensure_ascii=False,
                default=str,
            )

        tools.append(StructuredTool.from_function(coroutine=run_intent, handle_tool_error=True))
    return tools
