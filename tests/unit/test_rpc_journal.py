"""The call journal: generated clients append each successful call, capped, and it reads back.

The calls go to the real calc service (a JSON-RPC server on a unix socket) through its real
generated client module, loaded from the file the code generator wrote.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from aibroker.rpc import journal
from aibroker.rpc.journal import CALL_LOG_ENV
from aibroker.sandbox.script_files import read_journal
from tests.fakes import calc_world


@pytest.fixture
def calc(tmp_path: Path) -> Iterator[ModuleType]:
    """The generated calc client module, its service running."""
    with calc_world(tmp_path) as world:
        entry = world.catalog.get("calc")
        assert entry is not None
        spec = importlib.util.spec_from_file_location(f"calc_{tmp_path.name}", entry.client_path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv(CALL_LOG_ENV, str(path))
    return path


def add(a: float, b: float) -> dict[str, object]:
    return {"service": "calc", "method": "add", "params": [a, b]}


def test_successful_calls_are_appended_in_order(calc: ModuleType, log: Path) -> None:
    with calc.Calc.connect() as client:
        assert client.add(1, 2) == 3
        assert client.add(3, 4) == 7
    assert log.read_text(encoding="utf-8").splitlines() == [
        '{"service":"calc","method":"add","params":[1,2]}',
        '{"service":"calc","method":"add","params":[3,4]}',
    ]
    assert read_journal(log) == ([add(1, 2), add(3, 4)], False)


def test_a_failed_call_is_not_journaled(calc: ModuleType, log: Path) -> None:
    with calc.Calc.connect() as client:
        client.add(1, 2)
        with pytest.raises(calc.DivisionByZero):
            client.divide(1, 0)
        client.divide(6, 3)
    calls, truncated = read_journal(log)
    assert calls == [add(1, 2), {"service": "calc", "method": "divide", "params": [6, 3]}]
    assert not truncated


async def test_the_async_client_journals_too(calc: ModuleType, log: Path) -> None:
    async with calc.AsyncCalc.connect() as client:
        assert await client.add(5, 6) == 11
    assert read_journal(log) == ([add(5, 6)], False)


@pytest.mark.parametrize(("cap", "value"), [("MAX_ENTRIES", 3), ("MAX_BYTES", 3 * 49)])
def test_the_cap_stops_a_runaway_loop(
    calc: ModuleType, log: Path, monkeypatch: pytest.MonkeyPatch, cap: str, value: int
) -> None:
    monkeypatch.setattr(journal, cap, value)  # each line is 49 bytes
    with calc.Calc.connect() as client:
        for a in range(6):
            client.add(a, 0)  # the calls still work past the cap
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert lines[-1] == '{"truncated":true}'
    assert read_journal(log) == ([add(0, 0), add(1, 0), add(2, 0)], True)


def test_without_the_variable_nothing_is_written(
    calc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CALL_LOG_ENV, raising=False)
    before = set(os.listdir(tmp_path))
    with calc.Calc.connect() as client:
        assert client.add(1, 2) == 3
    assert set(os.listdir(tmp_path)) == before


def test_reading_skips_a_cut_line_and_refuses_a_symlink(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text('{"service":"calc","method":"add","params":[1,2]}\n{"service":"ca', "utf-8")
    assert read_journal(log) == ([add(1, 2)], False)
    planted = tmp_path / "planted.jsonl"
    planted.symlink_to(log)
    assert read_journal(planted) == ([], False)
    assert read_journal(tmp_path / "missing.jsonl") == ([], False)
