"""Threads survive process restarts through the SQLite checkpointer in AIBROKER_HOME."""

from __future__ import annotations

from pathlib import Path

from aibroker.graph.builder import build_graph
from aibroker.graph.checkpoint import checkpoints_path, open_checkpointer
from aibroker.graph.context import Context
from aibroker.settings import Settings
from tests.fakes import ScriptedChatModel, SubprocessRunner, calc_world, code_reply, rerank_reply

SCRIPT = (
    "from aibroker.rpc import set_result\nfrom calc import Calc\n"
    "v = Calc.connect().add(2, 2)\nprint(v)\nset_result(v)\n"
)


async def test_follow_up_after_reopening_the_checkpointer(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    thread = {"configurable": {"thread_id": "cli-1"}}
    context = Context(exec_timeout=30)
    with calc_world(tmp_path) as world:
        async with open_checkpointer(settings) as saver:
            first = build_graph(
                saver,
                catalog=world.catalog,
                rerank_model=ScriptedChatModel(replies=[rerank_reply(["calc"], intent="2+2")]),
                code_model=ScriptedChatModel(replies=[code_reply(SCRIPT)]),
                runner=SubprocessRunner(tmp_path / "a"),
            )
            out = await first.ainvoke({"intent": "2+2"}, thread, context=context)
            assert out["status"] == "success"
        assert checkpoints_path(settings) == tmp_path / "home" / "checkpoints.sqlite"
        assert checkpoints_path(settings).is_file()

        rerank = ScriptedChatModel(replies=[rerank_reply(["calc"], intent="again")])
        async with open_checkpointer(settings) as saver:
            second = build_graph(
                saver,
                catalog=world.catalog,
                rerank_model=rerank,
                code_model=ScriptedChatModel(replies=[code_reply(SCRIPT)]),
                runner=SubprocessRunner(tmp_path / "b"),
            )
            out = await second.ainvoke({"intent": "do it again"}, thread, context=context)
            assert out["status"] == "success"
        assert '"2+2" -> success, result: "4.0"' in rerank.prompt_text(0)
