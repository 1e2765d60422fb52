"""A2A (protocol v0.3) over plain HTTP: the agent card, and the JSON-RPC endpoint it names.

A real server on a real port, with the scripted models and the real calc service: a task
is a run, so what A2A reports must agree with the run history.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import CalcWorld, calc_world
from tests.integration.test_server_cancel import slow_agent, wait_until
from tests.integration.test_server_runs import NODES_IN_ORDER
from tests.server_harness import adding_agent, calc_server

TOKEN = "a2a-s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def user_message(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "role": "user",
        "messageId": str(uuid.uuid4()),
        "parts": [{"kind": "text", "text": text}],
        **extra,
    }


def rpc(http: httpx.Client, url: str, method: str, params: Any, request_id: int = 1) -> Any:
    response = http.post(
        url, json={"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == request_id
    return body


def sse_data(response: httpx.Response) -> list[dict[str, Any]]:
    return [
        json.loads(line.removeprefix("data:").strip())
        for line in response.iter_lines()
        if line.startswith("data:")
    ]


def test_card_points_to_a_working_jsonrpc_endpoint(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path, times=2)
    with (
        calc_server(world, agent, tmp_path / "home", server_token=TOKEN) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        card = http.get("/.well-known/agent-card.json").json()  # public, no token
        assert card["protocolVersion"] == "0.3.0"
        assert card["preferredTransport"] == "JSONRPC"
        assert card["url"] == f"{server.base_url}/a2a"
        assert card["securitySchemes"]["bearer"] == {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer <AIBROKER_SERVER_TOKEN>",
        }
        assert card["security"] == [{"bearer": []}]
        assert [skill["id"] for skill in card["skills"]] == [
            "run_intent",
            "service:calc",
            "service:notes",
        ]
        assert all(skill["tags"] for skill in card["skills"])
        url = card["url"]
        assert http.post(url, json={}).status_code == 401  # the endpoint is guarded

        http.headers.update(AUTH)
        sent = rpc(http, url, "message/send", {"message": user_message("what is 2 plus 3?")})
        task = sent["result"]
        assert task["kind"] == "task"
        assert task["status"]["state"] == "completed"
        (artifact,) = task["artifacts"]
        text_part, data_part = artifact["parts"]
        assert text_part == {"kind": "text", "text": "2 + 3 = 5.0"}
        assert data_part["kind"] == "data"
        assert data_part["data"]["result"] == 5.0
        assert data_part["data"]["outcome"] == "success"
        assert data_part["data"]["services"] == ["calc"]
        assert task["history"][0]["parts"][0]["text"] == "what is 2 plus 3?"

        # The task is the run, the context is the thread.
        run = http.get(f"/runs/{task['id']}").json()
        assert run["thread_id"] == task["contextId"]
        assert run["result"] == 5.0
        got = rpc(http, url, "tasks/get", {"id": task["id"], "historyLength": 0})["result"]
        assert got["status"]["state"] == "completed"
        assert got["history"] == []
        assert got["artifacts"] == task["artifacts"]

        # A follow-up in the same context runs on the same thread and sees the first.
        follow = user_message("and again", contextId=task["contextId"])
        second = rpc(http, url, "message/send", {"message": follow}, request_id=2)["result"]
        assert second["contextId"] == task["contextId"]
        assert second["id"] != task["id"]
        assert "Add 2 and 3." in agent.rerank.prompt_text(1)

        finished = rpc(http, url, "tasks/cancel", {"id": task["id"]})
        assert finished["error"]["code"] == -32002
        assert "already finished" in finished["error"]["message"]


def test_stream_and_cancel(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        body = {
            "jsonrpc": "2.0",
            "id": "s1",
            "method": "message/stream",
            "params": {"message": user_message("2+3")},
        }
        with http.stream("POST", "/a2a", json=body) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [event["result"] for event in sse_data(response)]
    assert events[0]["kind"] == "task"
    assert events[0]["status"]["state"] == "submitted"
    progress = [e for e in events if e["kind"] == "status-update" and not e["final"]]
    assert [e["status"]["message"]["parts"][0]["text"] for e in progress] == [
        f"step {node} done" for node in NODES_IN_ORDER
    ]
    assert {e["status"]["state"] for e in progress} == {"working"}
    artifact_event, final = events[-2:]
    assert artifact_event["kind"] == "artifact-update"
    assert artifact_event["artifact"]["parts"][1]["data"]["result"] == 5.0
    assert final["kind"] == "status-update"
    assert final["final"] is True
    assert final["status"]["state"] == "completed"
    assert {e["taskId"] for e in events[1:]} == {events[0]["id"]}


def test_cancel_a_working_task(world: CalcWorld, tmp_path: Path) -> None:
    agent = slow_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        params = {"message": user_message("wait"), "configuration": {"blocking": False}}
        task = rpc(http, "/a2a", "message/send", params)["result"]
        assert task["status"]["state"] in ("submitted", "working")
        assert task["artifacts"] == []
        wait_until(lambda: agent.runner.calls, "the script to start")
        cancelled = rpc(http, "/a2a", "tasks/cancel", {"id": task["id"]})["result"]
        assert cancelled["status"]["state"] == "canceled"
        assert http.get(f"/runs/{task['id']}").json()["status"] == "interrupted"


def test_protocol_errors_are_jsonrpc_errors(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        broken = http.post("/a2a", content=b'{"jsonrpc": ', headers={"content-type": "x"})
        assert broken.json()["error"]["code"] == -32700
        assert http.post("/a2a", json=[1]).json()["error"]["code"] == -32600

        def error(method: str, params: Any) -> dict[str, Any]:
            found: dict[str, Any] = rpc(http, "/a2a", method, params)["error"]
            return found

        assert error("tasks/nope", {})["code"] == -32601
        assert "message/send" in error("tasks/nope", {})["message"]
        assert error("tasks/get", {"id": "missing"})["code"] == -32001
        assert error("tasks/cancel", {"id": "missing"})["code"] == -32001
        missing_id = error("tasks/get", {})
        assert missing_id["code"] == -32602
        assert "id: Field required" in missing_id["message"]
        no_text = error("message/send", {"message": {**user_message(""), "parts": []}})
        assert no_text["code"] == -32602
        file_part = user_message("x")
        file_part["parts"] = [{"kind": "file", "file": {"uri": "file:///etc/passwd"}}]
        assert error("message/send", {"message": file_part})["code"] == -32005
        follow_up = user_message("more", taskId="t-1")
        assert error("message/send", {"message": follow_up})["code"] == -32004
        assert error("tasks/pushNotificationConfig/set", {})["code"] == -32003
    assert agent.rerank.calls == 0  # none of the above reached the model
