"""The MCP server through the SDK's own client, over stdio and over streamable HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from aibroker.codegen.interface import notation
from aibroker.server.directory import CatalogDirectory
from aibroker.server.mcp_server import mcp_http_app
from tests.conftest import REPO_ROOT
from tests.fakes import CalcWorld, calc_world
from tests.server_harness import ADD_SCRIPT, adding_agent, live_server, server_settings

TOOLS = {
    "discover_services",
    "register_service",
    "list_services",
    "get_interface",
    "generate_code",
    "execute_code",
    "run_intent",
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


async def exercise(client: Client) -> None:
    """The same conversation over any transport: every tool, successes and failures."""
    listed = (await client.list_tools()).tools
    assert {tool.name for tool in listed} == TOOLS
    by_name = {tool.name: tool for tool in listed}
    assert by_name["run_intent"].input_schema["required"] == ["intent"]
    assert "answer" in (by_name["run_intent"].output_schema or {})["properties"]
    assert "exit_code" in (by_name["execute_code"].output_schema or {})["properties"]
    # How to read an interface is said once, in the tool's description.
    assert notation() in (by_name["get_interface"].description or "")

    services = await client.call_tool("list_services", {})
    assert not services.is_error
    names = [s["name"] for s in _structured(services)["result"]]
    assert names == ["calc", "notes"]

    interface = await client.call_tool("get_interface", {"service": "calc"})
    assert "class Calc:" in _structured(interface)["result"]

    missing = await client.call_tool("get_interface", {"service": "nope"})
    assert missing.is_error
    assert "no service named 'nope'" in missing.content[0].text  # type: ignore[union-attr]

    executed = _structured(
        await client.call_tool("execute_code", {"code": ADD_SCRIPT, "services": ["calc"]})
    )
    assert executed["ok"] is True
    assert executed["result"] == 5.0
    assert executed["stdout"].strip() == "2 + 3 = 5.0"

    generated = _structured(await client.call_tool("generate_code", {"intent": "add 2 and 3"}))
    assert generated["status"] == "ready"
    assert generated["check"] == "ok"
    assert "calc.add(2, 3)" in generated["code"]

    ran = _structured(await client.call_tool("run_intent", {"intent": "what is 2 plus 3?"}))
    assert ran["status"] == "success"
    assert ran["result"] == 5.0
    assert ran["services"] == ["calc"]

    refused = await client.call_tool("discover_services", {})
    assert refused.is_error
    assert "cannot discover" in refused.content[0].text  # type: ignore[union-attr]


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    content: dict[str, Any] = result.structured_content
    return content


async def test_mcp_over_stdio(tmp_path: Path) -> None:
    """The server process starts its own calc service and scripted models."""
    work = tmp_path / "stdio"
    work.mkdir()
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tests.mcp_stdio_server", str(work)],
        cwd=str(REPO_ROOT),
    )
    async with Client(params, read_timeout_seconds=60) as client:
        await exercise(client)
    # The server recorded run_intent's run in its own history.
    assert (work / "home" / "server.sqlite").is_file()


async def test_mcp_over_streamable_http(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path, times=2)
    app = mcp_http_app(
        server_settings(tmp_path / "home"),
        CatalogDirectory(world.catalog),
        agent.graph_factory(),
        runner=agent.runner,
    )
    with live_server(app) as server:
        async with Client(f"{server.base_url}/mcp", read_timeout_seconds=60) as client:
            await exercise(client)
    assert [request["method"] for request in world.requests] == ["add", "add"]
    assert agent.code.calls == 2  # generate_code wrote one script, run_intent one
    assert len(agent.runner.calls) == 2  # execute_code and run_intent ran; generate_code not
