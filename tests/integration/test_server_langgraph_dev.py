"""``langgraph dev`` serves the graph and mounts aibroker's own HTTP app (``http.app``).

The real CLI from the venv, in the repository root (it reads ``langgraph.json`` there),
offline: tracing and analytics off, no LangSmith key, a temporary ``AIBROKER_HOME``. The
server must list the graph, and answer the routes of ``src/aibroker/server/app.py:http_app``
— services, the A2A card and endpoint, and MCP at ``/mcp`` (aibroker's tools, shadowing
the LangGraph server's own MCP endpoint), which proves the app's lifespan ran inside the
LangGraph server's.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.conftest import REPO_ROOT
from tests.integration.test_mcp_server import TOOLS

pytestmark = pytest.mark.slow

LANGGRAPH = REPO_ROOT / ".venv" / "bin" / "langgraph"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def loopback(port: int) -> list[str]:
    return ["--port", str(port), "--host", "127.0.0.1"]


def offline_env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIBROKER_", "LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        AIBROKER_HOME=str(home),
    )
    return env


@pytest.fixture
def langgraph_dev(tmp_path: Path) -> Iterator[str]:
    """``langgraph dev`` on a free loopback port; yields its base URL; stopped afterwards."""
    port = free_port()
    log_path = tmp_path / "langgraph-dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", *loopback(port)],
            cwd=REPO_ROOT,
            env=offline_env(tmp_path / "home"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"langgraph dev exited early:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "BlockingError" not in log_path.read_text(), log_path.read_text()[-4000:]


async def test_langgraph_dev_lists_the_graph_and_mounts_the_app(langgraph_dev: str) -> None:
    async with httpx.AsyncClient(base_url=langgraph_dev, timeout=30) as http:
        assistants = (await http.post("/assistants/search", json={})).json()
        assert [a["graph_id"] for a in assistants] == ["aibroker"]

        services = await http.get("/services")
        assert services.status_code == 200
        assert services.json() == []  # a fresh home has no services yet

        card = (await http.get("/.well-known/agent-card.json")).json()
        assert card["url"] == f"{langgraph_dev}/a2a"
        task = await http.post(
            "/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}
        )
        assert task.json()["error"]["code"] == -32001  # our endpoint, our run history

    async with Client(f"{langgraph_dev}/mcp", read_timeout_seconds=60) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        listed = await client.call_tool("list_services", {})
        assert not listed.is_error, listed.content
