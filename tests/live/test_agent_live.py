"""The whole agent against the real local model, the real registry, sandbox and services.

Every test sends one intent through the compiled graph (rerank -> write_code -> check ->
sandboxed run -> respond) and asserts on what the services hold afterwards, read back over
JSON-RPC, and on the structured result; never on the model's wording. Temperature is 0 and
the services start empty for each test, so a run is repeatable. Figures per intent
(attempts, LLM calls, tokens, wall time) are printed at the end of the session.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from aibroker.graph.builder import AgentGraph
from aibroker.graph.context import Context
from tests.live.conftest import LiveWorld, Services

# One event loop for the module: langchain-openai caches its async HTTP client per base URL
# process-wide, and a client bound to a closed per-test loop fails with "Event loop is closed".
pytestmark = [pytest.mark.live, pytest.mark.asyncio(loop_scope="session")]

# Direct calls are off so every intent exercises the code path (write, check, run).
CONTEXT = Context(allow_direct_call=False, exec_timeout=60)


async def ask(world: LiveWorld, agent: AgentGraph, case: str, intent: str) -> dict[str, Any]:
    """Run ``intent`` through the agent and record its figures for the session report."""
    started = time.perf_counter()
    out = await agent.ainvoke({"intent": intent}, context=CONTEXT)
    wall_s = time.perf_counter() - started
    assert isinstance(out, dict)
    usage = out["usage"]
    world.rows.append(
        {
            "case": case,
            "status": out["status"],
            "attempts": out["attempts"],
            "llm_calls": len([s for s in ("rerank",) if s in usage]) + out["attempts"],
            "input_tokens": sum(stage["input"] for stage in usage.values()),
            "output_tokens": sum(stage["output"] for stage in usage.values()),
            "usage": usage,
            "wall_s": round(wall_s, 2),
            "codes": [entry["code"] for entry in out["trace"]],
        }
    )
    for entry in out["trace"]:  # shown by pytest when a test fails
        print(f"--- attempt {entry['attempt']} check={entry['check'][:200]!r}\n{entry['code']}")
        if entry["error"]:
            print("error:", json.dumps(entry["error"], default=str)[:600])
    return out


def mentions(result: Any, text: str) -> bool:
    return text in json.dumps(result, ensure_ascii=False, default=str)


async def test_read_a_stored_value(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    services.call("hero_kv", "set", key="user:42:name", value="Ada Lovelace")

    out = await ask(live_world, agent, "read", "What value is stored under the key user:42:name?")

    assert out["status"] == "success"
    assert out["chosen"] == ["hero_kv"]
    assert mentions(out["result"], "Ada Lovelace")


async def test_write_then_read(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    out = await ask(
        live_world,
        agent,
        "write+read",
        "Store the value blue under the key color, then read it back.",
    )

    assert out["status"] == "success"
    assert services.call("hero_kv", "get", key="color") == "blue"
    assert mentions(out["result"], "blue")


async def test_loop_submits_many_jobs(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    out = await ask(live_world, agent, "loop", "Submit 10 jobs named resize_image.")

    assert out["status"] == "success"
    jobs = services.call("hero_jobs", "list_jobs")
    assert [job["name"] for job in jobs] == ["resize_image"] * 10
    assert all(job["state"] == "queued" for job in jobs)


async def test_spans_two_services(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    names = ["send_email", "resize_image", "backup_db"]
    for name in names:
        services.call("hero_jobs", "submit_job", name=name)

    out = await ask(
        live_world,
        agent,
        "two services",
        "For each queued job, create a calendar event titled with the job's name, "
        "from 2025-06-02T09:00:00Z to 2025-06-02T10:00:00Z.",
    )

    assert out["status"] == "success"
    assert set(out["chosen"]) == {"hero_calendar", "hero_jobs"}
    events = services.call("hero_calendar", "list_events")
    assert len(events) == len(names)
    for name in names:
        assert any(name in event["title"] for event in events), (name, events)
    assert {(event["start"], event["end"]) for event in events} == {
        ("2025-06-02T09:00:00Z", "2025-06-02T10:00:00Z")
    }


async def test_retry_recovers_from_a_declared_error(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    # A queued job cannot be completed directly: it must be claimed first. The natural first
    # script calls complete_job(1) and gets the service's declared error 3002.
    services.call("hero_jobs", "submit_job", name="send_email")

    out = await ask(live_world, agent, "retry", "Mark job 1 as done.")

    first = out["trace"][0]
    assert first["error"] is not None, "the first script did not fail: no retry was needed"
    assert first["error"].get("code") == 3002
    assert first["error"]["method"] == "complete_job"
    assert out["attempts"] >= 2
    assert out["status"] == "success"
    assert services.call("hero_jobs", "get_job", id=1)["state"] == "done"


async def test_no_service_fits(
    live_world: LiveWorld, agent: AgentGraph, services: Services
) -> None:
    out = await ask(live_world, agent, "no service", "Who won the 2018 football world cup?")

    assert out["status"] == "no_service"
    assert out["result"] is None
    assert services.call("hero_kv", "list_keys") == []
    assert services.call("hero_jobs", "list_jobs") == []
    assert services.call("hero_calendar", "list_events") == []
