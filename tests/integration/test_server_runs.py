"""Threads, runs and run history over real HTTP: scripted models, a real calc service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import CalcWorld, calc_world, code_replies, code_reply, rerank_reply
from tests.server_harness import (
    ADD_SCRIPT,
    DIVIDE_BY_ZERO_SCRIPT,
    adding_agent,
    calc_server,
    scripted_agent,
)

NODES_IN_ORDER = ["rerank", "load_interfaces", "write_code", "check_code", "run_code", "respond"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """Parse a Server-Sent Events body into (event, data) pairs."""
    events, name, data = [], "", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif not line and name:
            events.append((name, json.loads("\n".join(data))))
            name, data = "", []
    return events


def test_runs_wait_answers_and_history_records_everything(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        response = http.post("/runs/wait", json={"input": {"intent": "what is 2 plus 3?"}})
        assert response.status_code == 200, response.text
        output = response.json()
        assert output["status"] == "success"
        assert output["result"] == 5.0
        assert output["answer"] == "2 + 3 = 5.0"
        location = response.headers["content-location"]
        run_id = location.rsplit("/", 1)[1]

        listed = http.get("/runs").json()
        assert [run["run_id"] for run in listed] == [run_id]
        run = http.get(f"/runs/{run_id}").json()
        assert run["status"] == "success"
        assert run["outcome"] == "success"
        assert run["intent"] == "what is 2 plus 3?"
        assert run["services"] == ["calc"]
        (attempt,) = run["attempts"]
        assert "calc.add(2, 3)" in attempt["code"]
        assert attempt["exit_code"] == 0
        assert attempt["calls"] == [  # kept in the run history
            {"service": "calc", "method": "add", "count": 1, "params": "[2,3]"}
        ]
        assert run["tokens"] == {"input": 17, "output": 23}
        assert run["duration_s"] > 0
        assert http.get(location).json()["run_id"] == run_id
    assert [request["method"] for request in world.requests] == ["add"]


def test_failed_attempts_are_recorded_side_by_side(world: CalcWorld, tmp_path: Path) -> None:
    agent = scripted_agent(
        tmp_path,
        [rerank_reply(["calc"], intent="Divide 6 by 0, else add 2 and 3.")],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, ADD_SCRIPT),
    )
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        output = http.post("/runs/wait", json={"input": {"intent": "divide"}}).json()
        assert output["status"] == "success"
        run = http.get("/runs").json()[0]
        first, second = run["attempts"]
        assert first["error"]["code"] == -32010
        assert "divide(6, 0)" in first["code"]
        assert second["error"] is None
        assert "add(2, 3)" in second["code"]


def test_thread_follow_up_sees_earlier_request_and_state(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path, times=2)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        thread = http.post("/threads", json={"metadata": {"user": "ada"}}).json()
        thread_id = thread["thread_id"]
        assert thread["metadata"] == {"user": "ada"}
        for intent in ("add 2 and 3", "and again"):
            response = http.post(
                f"/threads/{thread_id}/runs/wait", json={"input": {"intent": intent}}
            )
            assert response.json()["status"] == "success"
        # The follow-up's rerank prompt shows the thread's earlier request.
        assert "Add 2 and 3." in agent.rerank.prompt_text(1)
        state = http.get(f"/threads/{thread_id}/state").json()
        assert len(state["values"]["history"]) == 2
        assert state["checkpoint"]["thread_id"] == thread_id
        assert state["checkpoint"]["checkpoint_id"]
        assert state["next"] == []
        runs = http.get(f"/threads/{thread_id}/runs").json()
        assert [run["intent"] for run in runs] == ["and again", "add 2 and 3"]
        assert http.get("/runs", params={"thread_id": thread_id}).json()[0]["intent"] == (
            "and again"
        )


def test_stream_sends_each_node_then_end(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        body = {"input": {"intent": "2+3"}, "stream_mode": ["updates", "values"]}
        with http.stream("POST", "/runs/stream", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "metadata"
    assert names[-1] == "end"
    assert events[-1][1]["status"] == "success"
    nodes = [next(iter(data)) for name, data in events if name == "updates"]
    assert nodes == NODES_IN_ORDER
    final_values = [data for name, data in events if name == "values"][-1]
    assert final_values["result"] == 5.0


class BrokenSandbox:
    """A script runner whose infrastructure fails: the graph raises, it does not answer."""

    async def __call__(self, code: str, **kwargs: Any) -> Any:
        raise OSError("the sandbox is unavailable")


def test_graph_failure_is_a_run_error_not_a_crash(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    agent.runner = BrokenSandbox()  # type: ignore[assignment]
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        body = http.post("/runs/wait", json={"input": {"intent": "anything"}}).json()
        assert body["__error__"]["error"] == "error"
        assert "sandbox is unavailable" in body["__error__"]["message"]
        (run,) = http.get("/runs", params={"status": "error"}).json()
        assert run["error"] == "OSError: the sandbox is unavailable"


def test_slow_run_ends_with_status_timeout(world: CalcWorld, tmp_path: Path) -> None:
    agent = scripted_agent(
        tmp_path,
        [rerank_reply(["calc"], intent="Wait.")],
        [
            code_reply(
                "import time\n\nfrom calc import Calc\n\ncalc = Calc.connect()\ntime.sleep(3)\n"
            )
        ],
    )
    with (
        calc_server(world, agent, tmp_path / "home") as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        body = http.post("/runs/wait", json={"input": {"intent": "wait"}, "timeout_s": 0.5}).json()
        assert body["__error__"]["error"] == "timeout", body
        (run,) = http.get("/runs").json()
        assert run["status"] == "timeout"
        assert "0.5 s" in run["error"]


def test_bad_requests_get_clear_4xx(world: CalcWorld, tmp_path: Path) -> None:
    agent = adding_agent(tmp_path)
    with (
        calc_server(world, agent, tmp_path / "home", server_max_body_bytes=4096) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        malformed = http.post(
            "/runs/wait",
            content=b'{"input": {"intent": ',
            headers={"content-type": "application/json"},
        )
        assert malformed.status_code == 400
        assert "not valid JSON" in malformed.json()["detail"]

        huge = http.post("/runs/wait", json={"input": {"intent": "x" * 10_000}})
        assert huge.status_code == 413
        assert "4096 bytes" in huge.json()["detail"]

        missing = http.post("/runs/wait", json={"input": {}})
        assert missing.status_code == 422
        assert "input.intent" in missing.json()["detail"]

        bad_context = http.post(
            "/runs/wait", json={"input": {"intent": "x"}, "context": {"max_attempts": 0}}
        )
        assert bad_context.status_code == 422
        assert "max_attempts" in bad_context.json()["detail"]

        unknown_thread = http.post(
            "/threads/00000000-0000-0000-0000-000000000000/runs/wait",
            json={"input": {"intent": "x"}},
        )
        assert unknown_thread.status_code == 404
        assert http.get("/runs/nope").status_code == 404
        other = http.post("/runs/wait", json={"assistant_id": "other", "input": {"intent": "x"}})
        assert other.status_code == 422
        assert "unknown agent 'other'" in other.json()["detail"]
    assert agent.rerank.calls == 0  # nothing above reached the model
