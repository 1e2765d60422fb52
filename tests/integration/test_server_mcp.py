"""MCP at ``/mcp`` of the ``aibroker serve`` app, through the official SDK client.

The server is the production FastAPI app (the one ``serve`` and ``langgraph.json`` use)
on a real port; the MCP session manager runs inside its lifespan and shares its runtime,
so a run started over MCP lands in the same history ``GET /runs`` reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from aibroker.server.app import create_app
from aibroker.server.directory import CatalogDirectory
from tests.fakes import CalcWorld, calc_world
from tests.integration.test_mcp_server import TOOLS
from tests.server_harness import adding_agent, live_server, server_settings

TOKEN = "mcp-s3cret"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def _text(result: Any) -> str:
    text: str = result.content[0].text
    return text


async def test_serve_app_mounts_mcp_behind_the_token(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    app = create_app(
        server_settings(tmp_path / "home", server_token=TOKEN),
        directory=CatalogDirectory(world.catalog),
        graph_factory=agent.graph_factory(),
        runner=agent.runner,
    )
    with live_server(app) as server:
        url = f"{server.base_url}/mcp"
        async with httpx.AsyncClient() as http:
            denied = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert denied.status_code == 401
        assert "Authorization: Bearer" in denied.json()["hint"]

        http_client = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with (
            http_client,
            Client(
                streamable_http_client(url, http_client=http_client), read_timeout_seconds=60
            ) as client,
        ):
            tools = (await client.list_tools()).tools
            assert {tool.name for tool in tools} == TOOLS

            listed = await client.call_tool("list_services", {})
            assert not listed.is_error, listed.content
            assert listed.structured_content is not None
            names = [service["name"] for service in listed.structured_content["result"]]
            assert names == ["calc", "notes"]

            missing = await client.call_tool("get_interface", {"service": "nope"})
            assert missing.is_error
            assert "no service named 'nope'" in _text(missing)
            assert "calc, notes" in _text(missing)  # the hint names what exists

            refused = await client.call_tool("register_service", {"source": "/nowhere.json"})
            assert refused.is_error
            assert "cannot register" in _text(refused)

            ran = await client.call_tool("run_intent", {"intent": "what is 2 plus 3?"})
            assert not ran.is_error, ran.content
            assert ran.structured_content is not None
            assert ran.structured_content["result"] == 5.0
            run_id = ran.structured_content["run_id"]

        # The MCP run went through the app's own run manager and history.
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http:
            run = (await http.get(f"/runs/{run_id}")).json()
        assert run["status"] == "success"
        assert run["intent"] == "what is 2 plus 3?"
    assert [request["method"] for request in world.requests] == ["add"]
