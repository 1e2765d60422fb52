"""The FastAPI application of ``aibroker serve``.

:func:`create_app` wires the pieces: storage (checkpoints + run history, SQLite or
Postgres), the compiled graph and its :class:`~aibroker.server.runs.RunManager`, the
services directory, the routes, the dashboard, and the guards (bearer token, body limit).
Everything stateful is opened in the lifespan, so creating the app is cheap and
``langgraph.json``'s ``http.app`` can import :data:`http_app` without side effects.

The same app also speaks the agent protocols: MCP over streamable HTTP at ``/mcp`` (the
tools of :mod:`aibroker.server.mcp_server`, sharing this app's runtime; its session manager
runs inside this lifespan) and A2A JSON-RPC at ``/a2a``; both sit behind the bearer token.

Error bodies are always ``{"detail": …, "hint": …}``; invalid JSON is a 400 that says where
the JSON broke, not a generic validation error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from aibroker.errors import AibrokerError
from aibroker.graph.deps import ScriptRunner, sandbox_runner
from aibroker.server.a2a import router as a2a_router
from aibroker.server.agents import package_version
from aibroker.server.agents import router as agents_router
from aibroker.server.auth import BearerAuthMiddleware, BodyLimitMiddleware
from aibroker.server.directory import (
    DirectoryUnsupportedError,
    ServiceDirectory,
    ServiceNotFoundError,
)
from aibroker.server.history import HistoryError
from aibroker.server.mcp_server import RuntimeRef, build_mcp_server
from aibroker.server.routes_runs import router as runs_router
from aibroker.server.runs import RunNotCancellableError, RunNotFoundError, RunRequestError
from aibroker.server.runtime import (
    AGENT_ID,
    GraphFactory,
    default_directory,
    default_graph_factory,
    open_runtime,
)
from aibroker.server.services_api import RegistrationFailedError
from aibroker.server.services_api import router as services_router
from aibroker.settings import Settings, get_settings

log = logging.getLogger(__name__)

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboard"


def _status_for(exc: AibrokerError) -> int:
    if isinstance(exc, ServiceNotFoundError | RunNotFoundError):
        return 404
    if isinstance(exc, RunNotCancellableError):
        return 409
    if isinstance(exc, RegistrationFailedError):
        return 502 if exc.upstream else 422
    if isinstance(exc, DirectoryUnsupportedError):
        return 501
    if isinstance(exc, HistoryError):
        return 503
    if isinstance(exc, RunRequestError):
        return 422
    return 400


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AibrokerError)
    async def aibroker_error(request: Request, exc: AibrokerError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=_status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        for error in errors:
            if error.get("type") == "json_invalid":
                reason = (error.get("ctx") or {}).get("error", "malformed JSON")
                position = error.get("loc", ["body", "?"])[-1]
                return JSONResponse(
                    {
                        "detail": f"request body is not valid JSON: {reason} (at character "
                        f"{position})",
                        "hint": "send one JSON object with Content-Type: application/json",
                    },
                    status_code=400,
                )
        readable = [
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}"
            for error in errors
        ]
        return JSONResponse(
            {
                "detail": "request does not match the schema: " + "; ".join(readable),
                "hint": "see /openapi.json for the request shapes",
                "errors": errors,
            },
            status_code=422,
        )


def create_app(
    settings: Settings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    graph_factory: GraphFactory | None = None,
    include_runs: bool = True,
    runner: ScriptRunner | None = None,
    host: str | None = None,
) -> FastAPI:
    """The HTTP app. ``include_runs=False`` leaves threads/runs to a host (``langgraph dev``).

    ``runner`` runs the MCP ``execute_code`` tool's scripts (default: the sandbox); ``host``
    is the bind address, which decides MCP's DNS-rebinding protection (on for loopback).
    """
    settings = settings or get_settings()
    services = directory if directory is not None else default_directory(settings)
    factory = graph_factory or default_graph_factory(settings)
    mcp_ref = RuntimeRef(runner=runner or sandbox_runner, exec_timeout=settings.exec_timeout)
    mcp = build_mcp_server(mcp_ref)
    mcp_routes = mcp.streamable_http_app(
        streamable_http_path="/mcp", host=host or settings.server_host
    ).routes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, services, factory) as runtime:
            app.state.runs = runtime.runs
            app.state.storage_backend = runtime.storage_backend
            mcp_ref.runtime = runtime
            async with mcp.session_manager.run():
                yield

    app = FastAPI(
        title="aibroker",
        version=package_version(),
        description="Threads, runs and run history of the code-mode agent; its services.",
        lifespan=lifespan,
    )
    app.state.directory = services
    app.state.agent_id = AGENT_ID
    app.state.settings = settings
    _install_error_handlers(app)

    @app.get("/ok", tags=["meta"])
    async def ok() -> dict[str, bool]:
        """Liveness."""
        return {"ok": True}

    @app.get("/info", tags=["meta"], responses={401: {"description": "Missing token."}})
    async def info(request: Request) -> dict[str, Any]:
        """Version, storage backend and agent of this server."""
        return {
            "version": package_version(),
            "agent_id": AGENT_ID,
            "storage": getattr(request.app.state, "storage_backend", None),
            "auth": settings.server_token is not None,
        }

    if include_runs:
        app.include_router(runs_router)
    app.include_router(agents_router)
    app.include_router(services_router)
    app.include_router(a2a_router)
    app.router.routes.extend(mcp_routes)  # plain ASGI route: /mcp, all methods

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "index.html")

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_redirect() -> RedirectResponse:
        return RedirectResponse("/")

    app.mount("/dashboard", StaticFiles(directory=DASHBOARD_DIR), name="dashboard")

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server_max_body_bytes)
    if settings.server_token is not None:
        app.add_middleware(BearerAuthMiddleware, token=settings.server_token.get_secret_value())
    return app


def langgraph_http_app() -> FastAPI:
    """The app ``langgraph dev`` mounts (``http.app``): everything but threads/runs, which
    the LangGraph server provides itself."""
    return create_app(include_runs=False)


http_app = langgraph_http_app()
"""For ``langgraph.json``: ``"http": {"app": "./src/aibroker/server/app.py:http_app"}``."""
