"""Method tools and broker tools over the real calc service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from pydantic import ValidationError

from aibroker.catalog import ServiceEntry
from aibroker.codegen.interface import notation
from aibroker.graph.builder import build_graph
from aibroker.tools import broker_tools, method_tools, tool_name
from tests.fakes import (
    CalcWorld,
    ScriptedChatModel,
    SubprocessRunner,
    calc_world,
    code_reply,
    rerank_reply,
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def calc_entry(world: CalcWorld) -> ServiceEntry:
    entry = world.catalog.get("calc")
    assert entry is not None
    return entry


def by_name(tools: list[BaseTool]) -> dict[str, BaseTool]:
    return {tool.name: tool for tool in tools}


def test_one_tool_per_method_with_schema_from_the_signature(world: CalcWorld) -> None:
    tools = by_name(method_tools(calc_entry(world)))
    assert sorted(tools) == ["calc__add", "calc__divide"]
    add = tools["calc__add"]
    assert add.description == "Add two numbers."
    schema = add.get_input_schema().model_json_schema()
    assert schema["required"] == ["a", "b"]
    assert schema["properties"]["a"]["type"] == "number"
    assert add.metadata == {"service": "calc", "method": "add"}


async def test_tool_call_reaches_the_service(world: CalcWorld) -> None:
    add = by_name(method_tools(calc_entry(world)))["calc__add"]
    message = await add.ainvoke(
        {"type": "tool_call", "name": "calc__add", "args": {"a": 2, "b": 3.5}, "id": "1"}
    )
    assert isinstance(message, ToolMessage)
    assert message.content == "5.5"
    assert message.artifact == 5.5
    assert world.requests == [{"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2.0, 3.5]}]


async def test_tool_errors_are_raised_not_swallowed(world: CalcWorld) -> None:
    divide = by_name(method_tools(calc_entry(world)))["calc__divide"]
    with pytest.raises(Exception, match="division by zero") as caught:
        await divide.ainvoke({"a": 1, "b": 0})
    assert getattr(caught.value, "code", None) == -32010
    with pytest.raises(ValidationError):
        await divide.ainvoke({"a": "one", "b": 2})
    assert [request["method"] for request in world.requests] == ["divide"]


def test_tool_names_fit_tool_calling_apis() -> None:
    assert tool_name("s" * 40, "m" * 40) == ("s" * 40 + "__" + "m" * 40)[:64]


async def test_broker_tools_list_and_interface(world: CalcWorld, tmp_path: Path) -> None:
    tools = by_name(broker_tools(world.catalog, runner=SubprocessRunner(tmp_path)))
    assert sorted(tools) == ["execute_code", "get_interface", "list_services"]
    assert tools["get_interface"].description.endswith(notation())
    listing = await tools["list_services"].ainvoke({})
    assert "SERVICE: calc" in listing
    assert "SERVICE: notes" in listing
    interface = await tools["get_interface"].ainvoke({"service": "calc"})
    assert "def add(a: float, b: float) -> float" in interface
    assert "by code: DivisionByZero(-32010)" in interface
    missing = await tools["get_interface"].ainvoke({"service": "weather"})
    assert "no service named 'weather'; available: calc, notes" in missing


async def test_execute_code_runs_the_script(world: CalcWorld, tmp_path: Path) -> None:
    runner = SubprocessRunner(tmp_path)
    execute = by_name(broker_tools(world.catalog, runner=runner))["execute_code"]
    code = (
        "from aibroker.rpc import set_result\nfrom calc import Calc\n"
        "v = Calc.connect().add(1, 1)\nprint(v)\nset_result({'v': v})\n"
    )
    outcome = json.loads(await execute.ainvoke({"code": code, "services": ["calc"]}))
    assert outcome["ok"] is True
    assert outcome["stdout"] == "2.0\n"
    assert outcome["result"] == {"v": 2.0}
    assert runner.calls == [["calc"]]
    failing = json.loads(
        await execute.ainvoke(
            {"code": "from calc import Calc\nCalc.connect().divide(1, 0)\n", "services": ["calc"]}
        )
    )
    assert failing["ok"] is False
    assert "division by zero" in failing["error"]


async def test_run_intent_hands_the_intent_to_the_graph(world: CalcWorld, tmp_path: Path) -> None:
    code = (
        "from aibroker.rpc import set_result\nfrom calc import Calc\n"
        "v = Calc.connect().add(4, 4)\nprint(f'4 + 4 = {v}')\nset_result(v)\n"
    )
    runner = SubprocessRunner(tmp_path)
    agent = build_graph(
        catalog=world.catalog,
        rerank_model=ScriptedChatModel(replies=[rerank_reply(["calc"])]),
        code_model=ScriptedChatModel(replies=[code_reply(code)]),
        runner=runner,
    )
    tools = by_name(broker_tools(world.catalog, runner=runner, agent=agent))
    outcome = json.loads(await tools["run_intent"].ainvoke({"intent": "4 + 4"}))
    assert outcome == {"status": "success", "answer": "4 + 4 = 8.0", "result": 8.0, "attempts": 1}
