"""Agents, services, auth and the langgraph_sdk client against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from aibroker.server.auth import UnsafeBindError, check_bind
from tests.fakes import CalcWorld, calc_world
from tests.server_harness import adding_agent, calc_server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


async def test_langgraph_sdk_client_feels_at_home(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path, times=2)
    with calc_server(world, agent, tmp_path / "home") as server:
        client = get_client(url=server.base_url)
        thread = await client.threads.create()
        output = await client.runs.wait(
            thread["thread_id"], "aibroker", input={"intent": "add 2 and 3"}
        )
        assert isinstance(output, dict)
        assert output["result"] == 5.0
        parts = [
            part
            async for part in client.runs.stream(
                thread["thread_id"], "aibroker", input={"intent": "again"}, stream_mode="updates"
            )
        ]
        assert parts[0].event == "metadata"
        assert [next(iter(p.data)) for p in parts if p.event == "updates"][-1] == "respond"
        state = await client.threads.get_state(thread["thread_id"])
        assert len(state["values"]["history"]) == 2
        runs = await client.runs.list(thread["thread_id"])
        assert {run["status"] for run in runs} == {"success"}


def test_agents_descriptor_and_card(world: CalcWorld, tmp_path: Path) -> None:
    with (
        calc_server(world, adding_agent(tmp_path), tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        assert [a["agent_id"] for a in http.get("/agents").json()] == ["aibroker"]
        descriptor = http.get("/agents/aibroker/descriptor").json()
        assert descriptor["input_schema"]["required"] == ["intent"]
        assert "answer" in descriptor["output_schema"]["properties"]
        assert "max_attempts" in descriptor["context_schema"]["properties"]
        assert http.get("/agents/other").status_code == 404
        card = http.get("/.well-known/agent-card.json").json()
        assert card["name"] == "aibroker"
        assert card["capabilities"]["streaming"] is True
        skill_ids = [skill["id"] for skill in card["skills"]]
        assert skill_ids == ["run_intent", "service:calc", "service:notes"]


def test_services_api_reads_the_directory(world: CalcWorld, tmp_path: Path) -> None:
    with (
        calc_server(world, adding_agent(tmp_path), tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        services = http.get("/services").json()
        assert [s["name"] for s in services] == ["calc", "notes"]
        calc = http.get("/services/calc").json()
        assert calc["methods"] == 2
        assert calc["summary"] == "Adds and divides numbers."
        interface = http.get("/services/calc/interface")
        assert interface.headers["content-type"].startswith("text/plain")
        assert "class Calc:" in interface.text
        assert "def divide(self, a: float, b: float)" in http.get("/services/calc/client").text
        unknown = http.get("/services/nope")
        assert unknown.status_code == 404
        assert "calc, notes" in unknown.json()["hint"]
        # A fixed catalog has no stored spec and cannot discover: clear errors, not 500s.
        assert http.get("/services/calc/spec").status_code == 404
        discover = http.post("/services/discover", json={})
        assert discover.status_code == 501
        assert "fixed catalog" in discover.json()["detail"]


def test_bearer_token_guards_the_api_but_not_the_dashboard(
    world: CalcWorld, tmp_path: Path
) -> None:
    with (
        calc_server(
            world, adding_agent(tmp_path), tmp_path / "home", server_token="s3cret"
        ) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        denied = http.get("/runs")
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("Bearer")
        assert http.get("/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/runs", headers={"Authorization": "Bearer s3cret"}).json() == []
        assert http.get("/").status_code == 200
        assert http.get("/openapi.json").status_code == 200


def test_binding_beyond_loopback_requires_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    check_bind("0.0.0.0", "token")
    with pytest.raises(UnsafeBindError, match="without authentication"):
        check_bind("0.0.0.0", None)
    with pytest.raises(UnsafeBindError):
        check_bind("192.0.2.7", "")
