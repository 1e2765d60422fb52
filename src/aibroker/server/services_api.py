"""The services API: list services, read their interface, client and spec; discover, register.

Everything goes through the app's :class:`~aibroker.server.directory.ServiceDirectory`, so
the same routes serve the on-disk registry in production and a fixed catalog in tests.
Interfaces and clients are Python source, returned as ``text/plain``. A registration that
fails is an error response (502 when the service did not answer, 422 for a bad file), and
the registry keeps what it had.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from aibroker.errors import AibrokerError
from aibroker.server.directory import DiscoveryOutcome, ServiceDirectory, ServiceSummary

router = APIRouter(tags=["services"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong bearer token."},
    404: {"description": "Unknown service."},
}
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The source could not be registered."},
    401: {"description": "Missing or wrong bearer token."},
    422: {"description": "Request does not match the schema, or the spec file is unusable."},
    501: {"description": "This server serves a fixed catalog."},
    502: {"description": "The service did not answer rpc.discover usefully."},
}


class RegistrationFailedError(AibrokerError):
    """A source could not be registered; the registry is unchanged."""

    def __init__(self, message: str, *, hint: str | None = None, upstream: bool) -> None:
        super().__init__(message, hint=hint)
        self.upstream = upstream


def _is_upstream(source: str) -> bool:
    """True when the source is a live service (socket or URL), not a spec file."""
    if source.startswith(("http://", "https://", "unix:")):
        return True
    path = Path(source).expanduser()
    return path.is_socket() or path.suffix == ".sock"


def directory(request: Request) -> ServiceDirectory:
    found: ServiceDirectory = request.app.state.directory
    return found


Directory = Annotated[ServiceDirectory, Depends(directory)]


class DiscoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sockets_dir: str | None = Field(
        default=None, description="Directory of *.sock files (default: the configured one)."
    )


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, description="Socket path, http(s) URL or spec file.")
    name: str | None = Field(default=None, description="Name to register under.")


@router.get("/services", responses=ERRORS)
async def services_list(services: Directory) -> list[ServiceSummary]:
    """Every registered service."""
    return await services.summaries()


@router.get("/services/{name}", responses=ERRORS)
async def services_get(name: str, services: Directory) -> ServiceSummary:
    return await services.get(name)


@router.get("/services/{name}/interface", response_class=PlainTextResponse, responses=ERRORS)
async def services_interface(name: str, services: Directory) -> str:
    """The compact Python interface the model reads."""
    return await services.interface(name)


@router.get("/services/{name}/client", response_class=PlainTextResponse, responses=ERRORS)
async def services_client(name: str, services: Directory) -> str:
    """The generated Python client scripts import."""
    return await services.client(name)


@router.get("/services/{name}/spec", responses=ERRORS)
async def services_spec(name: str, services: Directory) -> dict[str, Any]:
    """The service's OpenRPC document as registered."""
    return await services.spec(name)


@router.post("/services/discover", responses=CHANGE_ERRORS)
async def services_discover(
    services: Directory, payload: DiscoverRequest | None = None
) -> list[DiscoveryOutcome]:
    """Scan the sockets directory and (re-)register what answers ``rpc.discover``."""
    sockets_dir = Path(payload.sockets_dir) if payload and payload.sockets_dir else None
    return await services.discover(sockets_dir)


@router.post("/services/register", responses=CHANGE_ERRORS)
async def services_register(payload: RegisterRequest, services: Directory) -> DiscoveryOutcome:
    """Register one source (socket, URL or file); a failure is an error, not a 200."""
    outcome = await services.register(payload.source, payload.name)
    if outcome.result == "failed":
        upstream = _is_upstream(payload.source)
        raise RegistrationFailedError(
            f"could not register {payload.source}: {outcome.error or 'unknown failure'}",
            hint=(
                "check that the service is running and answers rpc.discover on that socket/URL"
                if upstream
                else "check that the file is a valid OpenRPC document"
            )
            + "; registered services are unchanged (GET /services)",
            upstream=upstream,
        )
    return outcome
