"""The MCP server: aibroker's capabilities as MCP tools (official ``mcp`` SDK, ``MCPServer``).

Tools, each with typed input and output schemas (pydantic return types become the
``outputSchema``): ``discover_services``, ``register_service``, ``list_services``,
``get_interface``, ``generate_code``, ``execute_code``, ``run_intent``. Any failure reaches
the client as a tool error (``isError``) whose text says what was wrong and what to do.

``run_intent`` goes through the same :class:`~aibroker.server.runs.RunManager` as the HTTP
API, so MCP runs land in the run history too. ``generate_code`` runs the same graph with an
interrupt before ``run_code`` (and direct calls off), so the model writes and the static
check vets the script, but nothing executes; the check's verdict is returned with the code.

Transports: stdio (:func:`serve_stdio`) and streamable HTTP (:func:`mcp_http_app`, served
on loopback by ``aibroker mcp --http``; and at ``/mcp`` of the ``aibroker serve`` app, which
builds the same server over its own runtime, see :func:`aibroker.server.app.create_app`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from aibroker.codegen.interface import notation
from aibroker.errors import AibrokerError
from aibroker.graph.deps import ScriptRunner, sandbox_runner
from aibroker.server.auth import BearerAuthMiddleware, BodyLimitMiddleware
from aibroker.server.directory import DiscoveryOutcome, ServiceDirectory, ServiceSummary
from aibroker.server.runs import RunCreate, RunInput, make_context
from aibroker.server.runtime import GraphFactory, ServerRuntime, open_runtime
from aibroker.settings import Settings

INSTRUCTIONS = (
    "aibroker answers requests against JSON-RPC services. Call list_services to see them, "
    "get_interface for one service's Python client, then either run_intent (the agent writes "
    "and runs the script) or execute_code (you write the script; import the clients by "
    "service name, print the answer, call aibroker.rpc.set_result(value))."
)

GET_INTERFACE = "The compact Python interface (client class and typed methods) of one service."


class GeneratedCode(BaseModel):
    """A script written for an intent, checked but not executed."""

    status: Literal["ready", "failed", "no_service"] = Field(
        description="ready: the script passed the static check; failed: no usable script."
    )
    code: str = Field(description="The last script written ('' when none).")
    services: list[str] = Field(description="Services the script may use.")
    attempts: int = Field(description="Scripts written (failed checks are retried).")
    check: str = Field(description="The static check's verdict on the last script.")
    error: str | None = Field(default=None, description="Why no usable script came out.")


class ExecutionResult(BaseModel):
    """What a script did in the sandbox."""

    ok: bool
    exit_code: int | None
    stdout: str
    stderr: str = Field(description="The last 2000 characters of stderr.")
    result: Any = Field(default=None, description="The value passed to set_result, if any.")
    error: str | None = Field(default=None, description="Typed failure: kind, where, message.")
    duration_s: float
    timed_out: bool


class IntentResult(BaseModel):
    """The outcome of a whole agent run."""

    run_id: str
    status: Literal["success", "failed", "no_service", "error", "timeout"]
    answer: str
    result: Any = None
    services: list[str]
    attempts: int
    code: str


@dataclass
class RuntimeRef:
    """Filled in by the transport's lifespan; tools read the runtime through it."""

    runtime: ServerRuntime | None = None
    runner: ScriptRunner = field(default=sandbox_runner)
    exec_timeout: float = 30.0

    def get(self) -> ServerRuntime:
        if self.runtime is None:
            raise ToolError("the aibroker runtime is not started yet; retry in a moment")
        return self.runtime


def _tool_error(exc: AibrokerError) -> ToolError:
    return ToolError(str(exc))


def build_mcp_server(ref: RuntimeRef) -> MCPServer:
    """The MCP server over ``ref``'s runtime (directory, run manager) and script runner."""
    server: MCPServer = MCPServer(name="aibroker", instructions=INSTRUCTIONS)

    def directory() -> ServiceDirectory:
        return ref.get().directory

    @server.tool()
    async def discover_services(sockets_dir: str | None = None) -> list[DiscoveryOutcome]:
        """Scan a directory of unix sockets (default: the configured one) for services."""
        try:
            return await directory().discover(Path(sockets_dir) if sockets_dir else None)
        except AibrokerError as exc:
            raise _tool_error(exc) from exc

    @server.tool()
    async def register_service(source: str, name: str | None = None) -> DiscoveryOutcome:
        """Register one service from a socket path, an http(s) URL or an OpenRPC file."""
        try:
            return await directory().register(source, name)
        except AibrokerError as exc:
            raise _tool_error(exc) from exc

    @server.tool()
    async def list_services() -> list[ServiceSummary]:
        """Every registered service: name, one-line summary, methods, endpoint."""
        try:
            return await directory().summaries()
        except AibrokerError as exc:
            raise _tool_error(exc) from exc

    @server.tool(description=f"{GET_INTERFACE}\n\n{notation()}")
    async def get_interface(service: str) -> str:
        """The compact Python interface of one service (described by ``GET_INTERFACE``)."""
        try:
            return await directory().interface(service)
        except AibrokerError as exc:
            raise _tool_error(exc) from exc

    @server.tool()
    async def execute_code(code: str, services: list[str]) -> ExecutionResult:
        """Run a Python script in the sandbox, allowed to reach only ``services``."""
        catalog = directory().catalog()
        entries = []
        for name in services:
            entry = catalog.get(name)
            if entry is None:
                known = ", ".join(e.name for e in catalog.entries()) or "none"
                raise ToolError(f"no service named {name!r}; known services: {known}")
            entries.append(entry)
        try:
            outcome = await ref.runner(code, services=entries, time_limit=ref.exec_timeout)
        except AibrokerError as exc:
            raise _tool_error(exc) from exc
        failure = outcome.failure
        error = None
        if failure is not None:
            where = f" in {failure.service}.{failure.method}" if failure.method else ""
            error = f"{failure.kind}{where}: {failure.message}"
        return ExecutionResult(
            ok=outcome.ok,
            exit_code=outcome.exit_code,
            stdout=outcome.stdout,
            stderr=outcome.stderr[-2000:],
            result=outcome.result,
            error=error,
            duration_s=round(outcome.duration_s, 4),
            timed_out=outcome.timed_out,
        )

    @server.tool()
    async def generate_code(intent: str, services: list[str] | None = None) -> GeneratedCode:
        """Write (and statically check) a script for ``intent`` without running it."""
        graph = ref.get().runs.graph
        config = {"configurable": {"thread_id": f"generate-{uuid.uuid4()}"}}
        state: dict[str, Any] = {"intent": intent}
        if services:
            state["services"] = services
        await graph.ainvoke(
            state,
            config,
            context=make_context({"allow_direct_call": False}),
            interrupt_before=["run_code", "call_tool"],
        )
        snapshot = await graph.aget_state(config)
        values = snapshot.values
        ready = "run_code" in snapshot.next
        trace = values.get("trace") or []
        status: Literal["ready", "failed", "no_service"] = (
            "ready"
            if ready
            else ("no_service" if values.get("status") == "no_service" else "failed")
        )
        last_error = values.get("last_error")
        return GeneratedCode(
            status=status,
            code=values.get("code") or "",
            services=list(values.get("chosen") or []),
            attempts=int(values.get("attempts") or 0),
            check=trace[-1]["check"] if trace else "none",
            error=None if ready else (values.get("answer") or json.dumps(last_error)),
        )

    @server.tool()
    async def run_intent(intent: str, services: list[str] | None = None) -> IntentResult:
        """Answer ``intent``: choose services, write a script, check it, run it, retry."""
        runs = ref.get().runs
        try:
            run = await runs.start(
                RunCreate(input=RunInput(intent=intent, services=services)), thread_id=None
            )
            finished = await runs.wait(run.run_id)
        except AibrokerError as exc:
            raise _tool_error(exc) from exc
        if finished.status != "success" or finished.output is None:
            raise ToolError(f"run {finished.run_id} ended with {finished.status}: {finished.error}")
        output = finished.output
        return IntentResult(
            run_id=finished.run_id,
            status=output["status"],
            answer=output.get("answer") or "",
            result=output.get("result"),
            services=list(output.get("chosen") or []),
            attempts=int(output.get("attempts") or 0),
            code=output.get("code") or "",
        )

    return server


@asynccontextmanager
async def running_mcp(
    settings: Settings,
    directory: ServiceDirectory,
    graph_factory: GraphFactory,
    runner: ScriptRunner | None = None,
) -> AsyncIterator[tuple[MCPServer, RuntimeRef]]:
    """An MCP server with its runtime opened (for stdio, or tests in process)."""
    ref = RuntimeRef(runner=runner or sandbox_runner, exec_timeout=settings.exec_timeout)
    server = build_mcp_server(ref)
    async with open_runtime(settings, directory, graph_factory) as runtime:
        ref.runtime = runtime
        yield server, ref


async def serve_stdio(
    settings: Settings,
    directory: ServiceDirectory,
    graph_factory: GraphFactory,
    runner: ScriptRunner | None = None,
) -> None:
    """Serve MCP over stdin/stdout until the client closes it."""
    async with running_mcp(settings, directory, graph_factory, runner) as (server, _):
        await server.run_stdio_async()


def mcp_http_app(
    settings: Settings,
    directory: ServiceDirectory,
    graph_factory: GraphFactory,
    runner: ScriptRunner | None = None,
    *,
    host: str = "127.0.0.1",
) -> Any:
    """A Starlette app serving MCP (streamable HTTP) at ``/mcp``, runtime in its lifespan."""
    ref = RuntimeRef(runner=runner or sandbox_runner, exec_timeout=settings.exec_timeout)
    server = build_mcp_server(ref)
    app = server.streamable_http_app(streamable_http_path="/mcp", host=host)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with open_runtime(settings, directory, graph_factory) as runtime:
            ref.runtime = runtime
            async with server.session_manager.run():
                yield

    app.router.lifespan_context = lifespan
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server_max_body_bytes)
    if settings.server_token is not None:
        app.add_middleware(BearerAuthMiddleware, token=settings.server_token.get_secret_value())
    return app
