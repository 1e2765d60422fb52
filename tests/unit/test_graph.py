"""The agent graph end to end: scripted models, a real calc service, scripts really run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from aibroker.graph.builder import AgentGraph, build_graph
from aibroker.graph.context import Context
from tests.fakes import (
    CalcWorld,
    ScriptedChatModel,
    SubprocessRunner,
    calc_world,
    code_replies,
    code_reply,
    rerank_reply,
    text_reply,
)

ADD_SCRIPT = """
from aibroker.rpc import set_result
from calc import Calc

calc = Calc.connect()
total = calc.add(2, 3)
print(f"2 + 3 = {total}")
set_result(total)
"""

DIVIDE_BY_ZERO_SCRIPT = """
from calc import Calc

calc = Calc.connect()
print(calc.divide(6, 0))
"""

DIVIDE_SCRIPT = """
from aibroker.rpc import set_result
from calc import Calc

calc = Calc.connect()
quotient = calc.divide(6, 3)
print(f"6 / 3 = {quotient}")
set_result({"quotient": quotient})
"""

CONTEXT = Context(exec_timeout=30)
DIRECT = Context(exec_timeout=30, allow_direct_call=True)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


class Agent:
    """A graph wired to scripted models, the calc catalog and a real subprocess runner."""

    def __init__(
        self,
        world: CalcWorld,
        tmp_path: Path,
        rerank: list[AIMessage],
        code: list[AIMessage],
        **build: Any,
    ) -> None:
        self.rerank = ScriptedChatModel(replies=rerank)
        self.code = ScriptedChatModel(replies=code)
        self.runner = SubprocessRunner(tmp_path)
        self.graph: AgentGraph = build_graph(
            catalog=world.catalog,
            rerank_model=self.rerank,
            code_model=self.code,
            runner=self.runner,
            **build,
        )

    async def ask(self, intent: str, context: Context = CONTEXT, **config: Any) -> dict[str, Any]:
        output = await self.graph.ainvoke({"intent": intent}, context=context, **config)
        assert isinstance(output, dict)
        return output


async def test_success_at_once_costs_two_llm_calls(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"], intent="Add 2 and 3.")], [code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask("what is 2 plus 3?")
    assert out["status"] == "success"
    assert out["result"] == 5.0
    assert out["answer"] == "2 + 3 = 5.0"
    assert out["attempts"] == 1
    assert agent.rerank.calls + agent.code.calls == 2
    assert out["chosen"] == ["calc"]
    assert [request["method"] for request in world.requests] == ["add"]
    (entry,) = out["trace"]
    assert entry["check"] == "ok"
    assert entry["exit_code"] == 0
    assert entry["error"] is None
    assert out["usage"] == {
        "rerank": {"input": 7, "output": 3},
        "write_code": {"input": 10, "output": 20},
    }
    # Only the chosen service's interface reaches the code prompt, with the restated intent.
    prompt = agent.code.prompt_text(0)
    assert "class Calc:" in prompt
    assert "class Notes" not in prompt
    assert '"Add 2 and 3."' in prompt


async def test_runtime_error_reaches_second_prompt_then_success(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"], intent="Divide 6 by 3.")],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, DIVIDE_SCRIPT),
    )
    out = await agent.ask("divide 6 by 3")
    assert out["status"] == "success"
    assert out["attempts"] == 2
    assert out["result"] == {"quotient": 2.0}
    first, second = out["trace"]
    assert first["exit_code"] != 0
    assert first["error"]["code"] == -32010
    assert first["error"]["method"] == "divide"
    assert second["exit_code"] == 0
    assert second["error"] is None
    retry_prompt = agent.code.prompt_text(1)
    assert "division by zero" in retry_prompt
    assert "-32010" in retry_prompt
    assert "calc.divide(6, 0)" in retry_prompt  # the failing line, from the traceback
    assert "The script was:" not in retry_prompt  # a run error does not show the whole script
    assert "exception_type: DivisionByZero" in retry_prompt  # the generated error class
    # the full method detail from the catalog: declared errors and the spec's example
    assert "DivisionByZero (code -32010): division by zero" in retry_prompt
    assert 'six by three: params {"a": 6, "b": 3} -> 2' in retry_prompt
    assert "division by zero" not in agent.code.prompt_text(0)
    assert first["calls"] == []  # the divide failed: no call succeeded
    assert "already made" not in retry_prompt


ADD_TWICE_THEN_FAIL_SCRIPT = """
from calc import Calc

calc = Calc.connect()
subtotal = calc.add(2, 3)
total = calc.add(subtotal, 4)
print(calc.divide(total, 0))
"""

ADD_ONCE_THEN_FAIL_SCRIPT = """
from calc import Calc

calc = Calc.connect()
print(calc.add(9, 0))
raise RuntimeError("not finished")
"""


async def test_calls_made_before_a_failure_reach_the_retry_prompt(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"], intent="Add 2 and 3.")],
        code_replies(ADD_TWICE_THEN_FAIL_SCRIPT, ADD_ONCE_THEN_FAIL_SCRIPT, ADD_SCRIPT),
    )
    out = await agent.ask("add 2 and 3")
    assert out["status"] == "success"
    first, second, third = out["trace"]
    assert first["calls"] == [{"service": "calc", "method": "add", "count": 2, "params": "[2,3]"}]
    assert not first["calls_truncated"]
    assert second["calls"] == [{"service": "calc", "method": "add", "count": 1, "params": "[9,0]"}]
    assert third["calls"] == [{"service": "calc", "method": "add", "count": 1, "params": "[2,3]"}]
    # The divide that failed is not listed as done; the calls are grouped per method.
    retry = agent.code.prompt_text(1)
    assert "these calls succeeded and their changes are already made" in retry
    assert "calc.add ×2 (first: [2,3])" in retry
    assert "calc.divide" not in retry.split("already made:")[1].split("Do not repeat")[0]
    assert "Do not repeat changes that are already made" in retry
    # What every earlier attempt did adds up.
    assert "calc.add ×3 (first: [2,3])" in agent.code.prompt_text(2)


SKIP_DIVIDE_SCRIPT = """
from aibroker.rpc import set_result
from calc import Calc

calc = Calc.connect()
b = 0
if b != 0:
    print(calc.divide(6, b))
set_result(None)
"""


async def test_clean_run_that_leaves_out_the_failed_call_is_retried_once(
    world: CalcWorld, tmp_path: Path
) -> None:
    # Attempt 2 "fixes" the service error by guarding the call with an if that is never true.
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"], intent="Divide 6 by 3.")],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, SKIP_DIVIDE_SCRIPT, DIVIDE_SCRIPT),
    )
    out = await agent.ask("divide 6 by 3")
    assert out["status"] == "success"
    assert out["result"] == {"quotient": 2.0}
    _, second, third = out["trace"]
    assert second["exit_code"] == 0
    assert second["error"] is not None
    assert second["error"]["kind"] == "skipped_call"
    assert second["error"]["method"] == "divide"
    assert third["error"] is None
    retry = agent.code.prompt_text(2)
    assert "the script's call to divide never ran, so the task is not done" in retry
    assert "The error to get past: calc.divide failed with JSON-RPC error -32010" in retry
    assert "if b != 0:" not in retry  # the script that left the call out is not shown
    assert "DivisionByZero (code -32010): division by zero" in retry  # the method's detail


async def test_leaving_out_the_failed_call_again_is_taken_at_its_word(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"])],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, SKIP_DIVIDE_SCRIPT, SKIP_DIVIDE_SCRIPT),
    )
    out = await agent.ask("divide 6 by 0 if that can be done")
    assert out["status"] == "success"
    assert out["attempts"] == 3
    assert [(e["error"] or {}).get("kind") for e in out["trace"]] == [
        "jsonrpc_error",
        "skipped_call",
        None,
    ]


async def test_a_script_that_no_longer_writes_the_failed_call_is_left_alone(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"], intent="Divide 6 by 0, else add 2 and 3.")],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, ADD_SCRIPT),
    )
    out = await agent.ask("divide 6 by 0, else add 2 and 3")
    assert out["status"] == "success"
    assert out["attempts"] == 2
    assert out["result"] == 5.0


async def test_stops_after_three_failed_attempts(world: CalcWorld, tmp_path: Path) -> None:
    failing = [code_reply(DIVIDE_BY_ZERO_SCRIPT) for _ in range(6)]
    agent = Agent(world, tmp_path, [rerank_reply(["calc"])], failing)
    out = await agent.ask("divide 6 by 0")
    assert out["status"] == "failed"
    assert out["attempts"] == 3
    assert len(out["trace"]) == 3
    assert agent.code.calls == 3  # the model would have gone on; the cap did not let it
    assert len(agent.runner.calls) == 3
    assert "3 attempts" in out["answer"]
    assert "division by zero" in out["answer"]
    assert out["result"] is None


async def test_max_attempts_comes_from_context(world: CalcWorld, tmp_path: Path) -> None:
    failing = [code_reply(DIVIDE_BY_ZERO_SCRIPT) for _ in range(3)]
    agent = Agent(world, tmp_path, [rerank_reply(["calc"])], failing)
    out = await agent.ask("divide 6 by 0", Context(max_attempts=1, exec_timeout=30))
    assert out["status"] == "failed"
    assert out["attempts"] == 1
    assert agent.code.calls == 1


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("print(calc.multiply(2, 3))", "Calc has no method 'multiply'"),
        ("print(calc.add(1, 2, 3))", "too many positional arguments"),
        ("print(calc.add(a=1, b=2, c=3))", "unexpected keyword argument 'c'"),
    ],
)
async def test_failed_static_check_counts_as_attempt_and_runs_nothing(
    world: CalcWorld, tmp_path: Path, bad_line: str, reason: str
) -> None:
    bad = f"from calc import Calc\ncalc = Calc.connect()\n{bad_line}\n"
    agent = Agent(world, tmp_path, [rerank_reply(["calc"])], [code_reply(bad)])
    out = await agent.ask("multiply 2 by 3", Context(max_attempts=1, exec_timeout=30))
    assert out["status"] == "failed"
    assert out["attempts"] == 1
    assert agent.runner.calls == []
    assert world.requests == []
    (entry,) = out["trace"]
    assert reason in entry["check"]
    assert entry["exit_code"] is None
    assert entry["error"]["stage"] == "check"


async def test_static_check_failure_then_fixed(world: CalcWorld, tmp_path: Path) -> None:
    bad = "from calc import Calc\ncalc = Calc.connect()\nprint(calc.sum(2, 3))\n"
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"])], [code_reply(bad), code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask("add 2 and 3")
    assert out["status"] == "success"
    assert out["attempts"] == 2
    assert len(agent.runner.calls) == 1  # only the fixed script ran
    retry_prompt = agent.code.prompt_text(1)
    assert "Calc has no method 'sum'" in retry_prompt
    assert "The script was:" in retry_prompt  # refused before it ran: the script is the problem
    assert "def add(a: float, b: float) -> float" in retry_prompt  # the interface again


async def test_no_service_fits(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(world, tmp_path, [rerank_reply([], intent="Book a flight.")], [])
    out = await agent.ask("book me a flight to Lisbon")
    assert out["status"] == "no_service"
    assert agent.code.calls == 0
    assert agent.runner.calls == []
    assert "- calc: Adds and divides numbers." in out["answer"]
    assert "- notes: Stores short text notes." in out["answer"]
    assert out["attempts"] == 0
    assert out["trace"] == []


async def test_rerank_names_filtered_to_existing_services(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(
        world, tmp_path, [rerank_reply(["weather", "calc", "calc"])], [code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask("add 2 and 3")
    assert out["chosen"] == ["calc"]
    assert out["status"] == "success"


async def test_rerank_naming_only_unknown_services_is_no_service(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(world, tmp_path, [rerank_reply(["weather"])], [])
    out = await agent.ask("weather in Ghent")
    assert out["status"] == "no_service"
    assert out["chosen"] == []
    assert agent.code.calls == 0


async def test_service_restriction_narrows_cards(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(world, tmp_path, [rerank_reply(["calc"])], [])
    out = await agent.graph.ainvoke(
        {"intent": "add 2 and 3", "services": ["notes"]}, context=CONTEXT
    )
    assert out["status"] == "no_service"  # calc was chosen but is outside the restriction
    prompt = agent.rerank.prompt_text(0)
    assert "SERVICE: notes" in prompt
    assert "SERVICE: calc" not in prompt


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (text_reply("I would add the numbers with calc.add(2, 3)."), "no complete ```python"),
        (
            text_reply(f"```python\n{ADD_SCRIPT}\n```\nor\n```python\nprint(5)\n```"),
            "2 ```python code blocks",
        ),
    ],
)
async def test_reply_without_exactly_one_code_block_is_a_failed_attempt(
    world: CalcWorld, tmp_path: Path, reply: AIMessage, reason: str
) -> None:
    agent = Agent(world, tmp_path, [rerank_reply(["calc"])], [reply, code_reply(ADD_SCRIPT)])
    out = await agent.ask("add 2 and 3")
    assert out["status"] == "success"
    assert out["attempts"] == 2
    first = out["trace"][0]
    assert reason in first["check"]
    assert first["exit_code"] is None
    assert len(agent.runner.calls) == 1
    assert reason in agent.code.prompt_text(1)


async def test_direct_call_route(world: CalcWorld, tmp_path: Path) -> None:
    direct = {"service": "calc", "method": "add", "args": {"a": 2, "b": 3}}
    agent = Agent(world, tmp_path, [rerank_reply(["calc"], direct_call=direct)], [])
    out = await agent.ask("2 + 3", DIRECT)
    assert out["status"] == "success"
    assert out["result"] == 5.0
    assert agent.code.calls == 0
    assert agent.runner.calls == []
    assert out["attempts"] == 0
    (entry,) = out["trace"]
    assert entry["kind"] == "direct"
    assert entry["error"] is None
    assert world.requests[0]["method"] == "add"
    assert world.requests[0]["params"] == [2.0, 3.0]


async def test_failed_direct_call_falls_back_to_code(world: CalcWorld, tmp_path: Path) -> None:
    direct = {"service": "calc", "method": "divide", "args": {"a": 6, "b": 0}}
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"], direct_call=direct)], [code_reply(DIVIDE_SCRIPT)]
    )
    out = await agent.ask("6 / 0, or 6 / 3 if that fails", DIRECT)
    assert out["status"] == "success"
    assert out["result"] == {"quotient": 2.0}
    direct_entry, code_entry = out["trace"]
    assert direct_entry["kind"] == "direct"
    assert "division by zero" in direct_entry["error"]["message"]
    assert code_entry["kind"] == "code"
    assert code_entry["attempt"] == 1


async def test_direct_call_to_unknown_method_is_ignored(world: CalcWorld, tmp_path: Path) -> None:
    direct = {"service": "calc", "method": "power", "args": {"a": 2, "b": 3}}
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"], direct_call=direct)], [code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask("2 ** 3", DIRECT)
    assert [entry["kind"] for entry in out["trace"]] == ["code"]


async def test_direct_calls_are_opt_in(world: CalcWorld, tmp_path: Path) -> None:
    direct = {"service": "calc", "method": "add", "args": {"a": 2, "b": 3}}
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"], direct_call=direct)], [code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask("2 + 3")
    assert [entry["kind"] for entry in out["trace"]] == ["code"]
    assert "direct_call" in agent.rerank.prompt_text(0)
    assert "always null" in agent.rerank.prompt_text(0)


@pytest.mark.parametrize(
    ("request_text", "args"),
    [
        ("add 2 and 3, then tell me the sum", {"a": 2, "b": 3}),  # several steps
        ("add two numbers", {"a": 2, "b": 3}),  # values the request does not give
        ("add 2 to 3", {"a": 2, "b": {"value": 3}}),  # a structured value, never guessed
    ],
)
async def test_direct_call_needs_one_step_with_stated_values(
    world: CalcWorld, tmp_path: Path, request_text: str, args: dict[str, object]
) -> None:
    direct = {"service": "calc", "method": "add", "args": args}
    agent = Agent(
        world, tmp_path, [rerank_reply(["calc"], direct_call=direct)], [code_reply(ADD_SCRIPT)]
    )
    out = await agent.ask(request_text, DIRECT)
    assert [entry["kind"] for entry in out["trace"]] == ["code"]
    assert agent.code.calls == 1


async def test_follow_up_in_same_thread_sees_earlier_intent(
    world: CalcWorld, tmp_path: Path
) -> None:
    agent = Agent(
        world,
        tmp_path,
        [
            rerank_reply(["calc"], intent="Add 2 and 3."),
            rerank_reply(["calc"], intent="Divide 6 by 3."),
        ],
        [code_reply(ADD_SCRIPT), code_reply(DIVIDE_SCRIPT)],
        checkpointer=InMemorySaver(),
    )
    thread = {"configurable": {"thread_id": "t1"}}
    first = await agent.ask("add 2 and 3", config=thread)
    second = await agent.ask("now divide 6 by 3 instead", config=thread)
    assert first["status"] == second["status"] == "success"
    follow_up_rerank = agent.rerank.prompt_text(1)
    assert '"Add 2 and 3." -> success' in follow_up_rerank
    assert "5.0" in follow_up_rerank  # the earlier result
    assert '"Add 2 and 3."' in agent.code.prompt_text(1)
    assert "Earlier requests" not in agent.rerank.prompt_text(0)
    # Per-request fields start fresh in the follow-up.
    assert second["attempts"] == 1
    assert len(second["trace"]) == 1
    state = await agent.graph.aget_state(thread)
    assert [turn["intent"] for turn in state.values["history"]] == [
        "Add 2 and 3.",
        "Divide 6 by 3.",
    ]


async def test_summary_is_optional(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(
        world,
        tmp_path,
        [rerank_reply(["calc"])],
        [code_reply(ADD_SCRIPT), text_reply("The sum of 2 and 3 is 5.")],
    )
    out = await agent.ask("add", Context(summarize=True, exec_timeout=30))
    assert out["answer"] == "The sum of 2 and 3 is 5."
    assert out["usage"]["respond"] == {"input": 5, "output": 5}
    assert "2 + 3 = 5.0" in agent.code.prompt_text(1)  # the summary saw the output


async def test_unusable_rerank_reply_fails_clearly(world: CalcWorld, tmp_path: Path) -> None:
    agent = Agent(world, tmp_path, [text_reply("calc, I think")], [])
    out = await agent.ask("add 2 and 3")
    assert out["status"] == "failed"
    assert out["attempts"] == 0
    assert agent.code.calls == 0
    assert "could not work on this request" in out["answer"]
    assert "RerankDecision" in out["answer"]
