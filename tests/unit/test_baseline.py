"""The tool-calling baseline over the real calc service, driven by a scripted model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from aibroker.tools import method_tools
from aibroker.tools.baseline import (
    BaselineError,
    build_baseline_agent,
    recover_text_tool_calls,
    run_baseline,
)
from tests.fakes import CalcWorld, ScriptedChatModel, calc_world, text_reply


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def tool_call(name: str, call_id: str, **args: float) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": call_id}],
        usage_metadata={"input_tokens": 100, "output_tokens": 10, "total_tokens": 110},
    )


def calc_tools(world: CalcWorld) -> list:  # type: ignore[type-arg]
    entry = world.catalog.get("calc")
    assert entry is not None
    return method_tools(entry)


async def test_calls_tools_then_answers(world: CalcWorld) -> None:
    model = ScriptedChatModel(
        replies=[
            tool_call("calc__add", "1", a=2, b=3),
            tool_call("calc__divide", "2", a=5, b=2),
            text_reply("The result is 2.5"),
        ]
    )

    outcome = await run_baseline(model, calc_tools(world), "add 2 and 3, then halve it")

    assert outcome.status == "success"
    assert outcome.answer == "The result is 2.5"
    assert outcome.llm_calls == 3
    assert outcome.tool_calls == 2
    assert outcome.tool_errors == 0
    assert outcome.input_tokens == 205
    assert outcome.output_tokens == 25
    assert [r["method"] for r in world.requests] == ["add", "divide"]
    results = [m.content for m in outcome.messages if isinstance(m, ToolMessage)]
    assert results == ["5.0", "2.5"]
    # The second call saw the first tool result: the loop feeds results back.
    assert "5.0" in model.prompt_text(1)


async def test_stops_at_the_step_cap(world: CalcWorld) -> None:
    model = ScriptedChatModel(replies=[tool_call("calc__add", str(i), a=i, b=1) for i in range(10)])

    outcome = await run_baseline(model, calc_tools(world), "keep adding", max_steps=3)

    assert outcome.status == "capped"
    assert outcome.answer == ""
    assert model.calls == 3
    assert outcome.llm_calls == 3
    # The third call's tool request is not executed: the cap stops before the tools node.
    assert [r["params"] for r in world.requests] == [[0, 1], [1, 1]]


async def test_a_failing_tool_is_reported_to_the_model(world: CalcWorld) -> None:
    model = ScriptedChatModel(
        replies=[tool_call("calc__divide", "1", a=1, b=0), text_reply("cannot divide by zero")]
    )

    outcome = await run_baseline(model, calc_tools(world), "divide 1 by 0")

    assert outcome.status == "success"
    assert outcome.tool_errors == 1
    assert "division by zero" in model.prompt_text(1)


async def test_tool_calls_written_as_text_are_recovered(world: CalcWorld) -> None:
    written = (
        '```json\n{"name": "calc__add", "arguments": {"a": 1, "b": 2}}\n```\n'
        '<tool_call>\n{"name": "calc__add", "arguments": {"a": 3, "b": 4}}\n</tool_call>'
    )
    model = ScriptedChatModel(replies=[AIMessage(content=written), text_reply("3 and 7")])

    outcome = await run_baseline(model, calc_tools(world), "add 1+2 and 3+4")

    assert outcome.tool_calls == 2
    assert sorted(r["params"] for r in world.requests) == [[1, 2], [3, 4]]
    # The recovered call keeps its text: llama.cpp rejects assistant messages without content.
    first = next(m for m in outcome.messages if isinstance(m, AIMessage))
    assert first.content == written


def test_text_that_names_no_known_tool_stays_text() -> None:
    message = AIMessage(content='```json\n{"name": "rm_rf", "arguments": {}}\n```')
    assert recover_text_tool_calls(message, {"calc__add"}) is message
    plain = AIMessage(content="The answer is {not json}")
    assert recover_text_tool_calls(plain, {"calc__add"}) is plain


def test_rejects_a_cap_below_one_and_no_tools(world: CalcWorld) -> None:
    model = ScriptedChatModel(replies=[])
    with pytest.raises(BaselineError, match="max_steps"):
        build_baseline_agent(model, calc_tools(world), max_steps=0)
    with pytest.raises(BaselineError, match="no tools"):
        build_baseline_agent(model, [])
