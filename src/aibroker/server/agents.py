"""Agents: what this server runs, with its schemas, and an A2A agent card.

There is one agent, the code-mode graph. Its descriptor publishes the graph's own input,
output and context JSON Schemas (from LangGraph), so a client can build requests without
reading our source. The A2A card at ``/.well-known/agent-card.json`` (protocol v0.3) points
to the JSON-RPC endpoint at ``/a2a`` (:mod:`aibroker.server.a2a`), and advertises one skill
per registered service plus the general ``run_intent`` skill; when the server has a bearer
token, the card says so in ``securitySchemes``/``security`` (the card itself stays public).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

router = APIRouter(tags=["agents"])

AGENT_DESCRIPTION = (
    "Code-mode agent for JSON-RPC services: picks the services that fit an intent, writes one "
    "Python script against their generated clients, checks and runs it in a sandbox, and "
    "answers with the output and a structured result."
)


def package_version() -> str:
    try:
        return version("aibroker")
    except PackageNotFoundError:
        return "0.0.0"


class AgentInfo(BaseModel):
    agent_id: str
    assistant_id: str = Field(description="LangGraph's name for the same id.")
    graph_id: str
    name: str
    description: str


class AgentDescriptor(AgentInfo):
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    context_schema: dict[str, Any]


def _info(request: Request) -> AgentInfo:
    agent_id: str = request.app.state.agent_id
    return AgentInfo(
        agent_id=agent_id,
        assistant_id=agent_id,
        graph_id=agent_id,
        name=agent_id,
        description=AGENT_DESCRIPTION,
    )


def _known(request: Request, agent_id: str) -> AgentInfo:
    info = _info(request)
    if agent_id != info.agent_id:
        raise HTTPException(
            404, detail=f"unknown agent {agent_id!r}; this server runs {info.agent_id!r}"
        )
    return info


@router.get("/agents", responses={401: {"description": "Missing or wrong bearer token."}})
async def agents_list(request: Request) -> list[AgentInfo]:
    """The agents this server runs."""
    return [_info(request)]


@router.get("/agents/{agent_id}", responses={404: {"description": "Unknown agent."}})
async def agents_get(agent_id: str, request: Request) -> AgentInfo:
    return _known(request, agent_id)


@router.get("/agents/{agent_id}/descriptor", responses={404: {"description": "Unknown agent."}})
async def agents_descriptor(agent_id: str, request: Request) -> AgentDescriptor:
    """Name, description and the graph's input, output and context JSON Schemas."""
    info = _known(request, agent_id)
    graph = request.app.state.runs.graph
    return AgentDescriptor(
        **info.model_dump(),
        input_schema=graph.get_input_jsonschema(),
        output_schema=graph.get_output_jsonschema(),
        context_schema=graph.get_context_jsonschema() or {},
    )


@router.get("/.well-known/agent-card.json")
async def agent_card(request: Request) -> dict[str, Any]:
    """A2A agent card: one skill per service, plus ``run_intent`` over all of them."""
    from aibroker.server.a2a import A2A_PATH

    endpoint = str(request.base_url).rstrip("/") + A2A_PATH
    services = await request.app.state.directory.summaries()
    skills = [
        {
            "id": "run_intent",
            "name": "Run an intent",
            "description": "Answer a request by writing and running a script against the "
            "registered JSON-RPC services.",
            "tags": ["json-rpc", "openrpc", "code-mode"],
            "examples": ["list the jobs that failed today"],
        }
    ]
    skills += [
        {
            "id": f"service:{service.name}",
            "name": service.name,
            "description": service.summary or f"Use the {service.name} service.",
            "tags": ["service", service.name],
        }
        for service in services
    ]
    card: dict[str, Any] = {
        "protocolVersion": "0.3.0",
        "name": request.app.state.agent_id,
        "description": AGENT_DESCRIPTION,
        "url": endpoint,
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": endpoint, "transport": "JSONRPC"}],
        "version": package_version(),
        "capabilities": {
            "streaming": True,
            "pushNotifications": False,
            "stateTransitionHistory": False,
        },
        "defaultInputModes": ["text/plain", "application/json"],
        "defaultOutputModes": ["text/plain", "application/json"],
        "supportsAuthenticatedExtendedCard": False,
        "skills": skills,
    }
    if request.app.state.settings.server_token is not None:
        card["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "Authorization: Bearer <AIBROKER_SERVER_TOKEN>",
            }
        }
        card["security"] = [{"bearer": []}]
    return card
