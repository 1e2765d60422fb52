"""The progress lines of ``aibroker run``: the run line says how many calls succeeded."""

from __future__ import annotations

from typing import Any

from aibroker.cli.agent_session import _describe


def run_update(error: dict[str, Any] | None, calls: list[dict[str, Any]]) -> dict[str, Any]:
    entry = {"exit_code": 0 if error is None else 1, "durations": {"run": 0.5}, "error": error}
    return {"trace": [entry | {"calls": calls, "calls_truncated": False}]}


def test_run_line_counts_the_calls() -> None:
    adds = [{"service": "calc", "method": "add", "count": 12, "params": "[1,2]"}]
    assert _describe("run_code", run_update(None, adds), 3) == (
        "  run: [green]exit 0[/] in 0.50s, 12 calls"
    )
    failed = _describe("run_code", run_update({"message": "division by zero"}, adds), 3)
    assert failed == "  run: [red]failed[/] after 12 calls: division by zero"
    nothing = _describe("run_code", run_update({"message": "boom"}, []), 3)
    assert nothing == "  run: [red]failed[/] boom"
