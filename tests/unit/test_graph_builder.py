"""The compiled graph's shape, its defaults, and what `langgraph dev` loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aibroker.catalog import CatalogError, InMemoryCatalog
from aibroker.errors import AibrokerError
from aibroker.graph.builder import build_graph
from aibroker.graph.context import Context
from tests.conftest import REPO_ROOT
from tests.fakes import (
    ScriptedChatModel,
    SubprocessRunner,
    calc_world,
    code_reply,
    rerank_reply,
)


def test_langgraph_json_points_at_the_module_level_graph() -> None:
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    path, attribute = config["graphs"]["aibroker"].split(":")
    assert (REPO_ROOT / path).is_file()
    assert attribute == "graph"
    from aibroker.graph import builder

    assert builder.graph.checkpointer is None  # `langgraph dev` refuses custom ones
    assert set(builder.graph.nodes) == {
        "__start__", "rerank", "call_tool", "load_interfaces", "write_code",
        "check_code", "run_code", "respond",
    }  # fmt: skip


def test_schemas_published_to_studio() -> None:
    from aibroker.graph.builder import graph

    context = graph.get_context_jsonschema()
    assert context is not None
    assert context["properties"]["max_attempts"]["default"] == 3
    assert context["properties"]["summarize"]["default"] is False
    assert graph.get_input_jsonschema()["required"] == ["intent"]
    output = graph.get_output_jsonschema()["properties"]
    assert {"answer", "result", "status", "attempts", "code", "trace", "usage"} <= set(output)


def test_context_rejects_a_meaningless_cap() -> None:
    with pytest.raises(AibrokerError, match="max_attempts must be at least 1"):
        Context(max_attempts=0)


async def test_without_context_the_default_cap_of_three_holds(
    tmp_path: Path, aibroker_home: Path
) -> None:
    failing = "from calc import Calc\nCalc.connect().divide(1, 0)\n"
    with calc_world(tmp_path) as world:
        code = ScriptedChatModel(replies=[code_reply(failing) for _ in range(5)])
        graph = build_graph(
            catalog=world.catalog,
            rerank_model=ScriptedChatModel(replies=[rerank_reply(["calc"])]),
            code_model=code,
            runner=SubprocessRunner(tmp_path),
        )
        out = await graph.ainvoke({"intent": "1 / 0"})
    assert out["status"] == "failed"
    assert out["attempts"] == 3
    assert code.calls == 3


async def test_graph_over_an_empty_registry_says_how_to_register(aibroker_home: Path) -> None:
    # No catalog wired in: the graph reads the (empty) registry and answers without an LLM.
    output = await build_graph().ainvoke({"intent": "anything"})
    assert output["status"] == "no_service"
    assert "aibroker register" in output["answer"]
    assert output["usage"] == {}


def test_in_memory_catalog_lookups(tmp_path: Path) -> None:
    with calc_world(tmp_path) as world:
        catalog = world.catalog
        assert [entry.name for entry in catalog.entries()] == ["calc", "notes"]
        assert catalog.get("weather") is None
        divide = catalog.method_detail("calc", "divide")
        assert "def divide(a: float, b: float) -> float" in divide
        assert "DivisionByZero (code -32010): division by zero" in divide
        assert 'six by three: params {"a": 6, "b": 3} -> 2' in divide
        # Without recorded detail, the interface line of the method stands in.
        bare = InMemoryCatalog(catalog.entries())
        assert bare.method_detail("calc", "add") == (
            '    def add(a: float, b: float) -> float: """Add two numbers."""'
        )
        with pytest.raises(CatalogError, match="no service named 'weather'"):
            catalog.method_detail("weather", "get")
        with pytest.raises(CatalogError, match="has no method 'power'"):
            catalog.method_detail("calc", "power")
        assert isinstance(catalog, InMemoryCatalog)
