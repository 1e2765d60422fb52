"""Offline unit tests of the sandbox's pieces: PEP 723, limits, links, bwrap argv, output caps."""

from __future__ import annotations

import asyncio
import importlib.metadata
import itertools
import os
from pathlib import Path

import pytest

from aibroker.sandbox import ClientLinkError, Limits, ScriptDependencyError, endpoint_env_var
from aibroker.sandbox.bwrap import SandboxLayout, bwrap_command
from aibroker.sandbox.limits import bootstrap_limits_arg
from aibroker.sandbox.output import CappedStream
from aibroker.sandbox.pep723 import check_allowed, script_dependencies
from aibroker.sandbox.result import read_failure, read_result
from aibroker.sandbox.venv import link_client, runtime_pins, unlink_client

SCRIPT_WITH_BLOCK = """\
# /// script
# requires-python = ">=3.11"
# dependencies = [
#   "rich>=13",
#   "Requests",
# ]
# ///
print("hi")
"""


def test_pep723_dependencies_are_read_from_the_script_block() -> None:
    assert script_dependencies(SCRIPT_WITH_BLOCK) == ["rich>=13", "Requests"]
    assert script_dependencies("print('no block')\n") == []


def test_pep723_refuses_packages_outside_the_allow_list() -> None:
    with pytest.raises(ScriptDependencyError) as caught:
        check_allowed(["rich>=13", "Requests"], ["rich"])
    assert "Requests" in caught.value.message
    assert "rich" in caught.value.message  # the allowed names are listed
    assert caught.value.hint is not None
    assert "AIBROKER_EXEC_EXTRA_PACKAGES" in caught.value.hint
    # Names are compared normalised (PEP 503), specifiers are kept.
    assert check_allowed(["Rich>=13"], ["rich"]) == ["Rich>=13"]


def test_pep723_rejects_malformed_blocks() -> None:
    bad = "# /// script\n# dependencies = 'rich'\n# ///\n"
    with pytest.raises(ScriptDependencyError, match="list of strings"):
        script_dependencies(bad)
    with pytest.raises(ScriptDependencyError, match="not a valid requirement"):
        check_allowed(["not a requirement!!"], [])


def test_limits_argument_for_the_bootstrap() -> None:
    limits = Limits(memory_bytes=1000, file_size_bytes=2000, open_files=30, processes=40)
    assert bootstrap_limits_arg(limits, 2.5, processes=True) == "4:1000:2000:30:40"
    assert bootstrap_limits_arg(limits, 2.5, processes=False) == "4:1000:2000:30:0"
    assert Limits(cpu_seconds=7).cpu_for(100.0) == 7


def test_endpoint_variable_names() -> None:
    assert endpoint_env_var("hero_kv") == "HERO_KV_ENDPOINT"
    assert endpoint_env_var("zinit-2") == "ZINIT_2_ENDPOINT"


def test_runtime_pins_match_the_broker_environment() -> None:
    pins = runtime_pins()
    assert pins["httpx"] == importlib.metadata.version("httpx")
    assert pins["pydantic"] == importlib.metadata.version("pydantic")
    assert "pydantic-core" in pins  # dependencies are pinned too, so offline installs resolve


def test_link_and_unlink_client(tmp_path: Path) -> None:
    home = tmp_path / "home"
    client = tmp_path / "gen" / "client.py"
    client.parent.mkdir()
    client.write_text("X = 1\n")
    link = link_client(home, "hero_kv", client)
    assert link == home / "python" / "clients" / "hero_kv.py"
    assert os.readlink(link) == str(client)
    # Default target: the registry's `current` link, so a version switch needs no relink.
    link_client(home, "hero_kv")
    assert os.readlink(link) == str(home / "services" / "hero_kv" / "current" / "client.py")
    assert unlink_client(home, "hero_kv") is True
    assert unlink_client(home, "hero_kv") is False
    with pytest.raises(ClientLinkError, match="not a Python module name"):
        link_client(home, "hero-kv", client)


def test_bwrap_command_binds_only_what_the_run_needs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    venv = tmp_path / "home" / "python"
    layout = SandboxLayout(
        run_dir=run_dir,
        read_only=(venv, venv / "clients", Path("/usr/lib")),
        sockets=(tmp_path / "kv.sock",),
    )
    command = bwrap_command("bwrap", layout, ["python", "x.py"])
    pairs = list(itertools.pairwise(command))
    assert "--unshare-net" in command
    assert "--unshare-pid" in command
    assert ("--bind", str(run_dir)) in pairs  # the only writable place
    assert ("--bind", str(tmp_path / "kv.sock")) in pairs
    assert ("--ro-bind-try", str(venv)) in pairs
    assert ("--ro-bind-try", str(venv / "clients")) not in pairs  # covered by the venv
    assert ("--ro-bind", "/") not in pairs  # never the whole host filesystem
    assert command[-3:] == ["--", "python", "x.py"]
    shared = bwrap_command("bwrap", SandboxLayout(run_dir, (), (), share_network=True), ["x"])
    assert "--unshare-net" not in shared


async def test_capped_stream_keeps_a_prefix_and_signals_overflow() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"a" * 100 + b"b" * 100)
    reader.feed_data(b"c" * 1000)
    reader.feed_eof()
    stream = CappedStream(cap=150, kill_after=500)
    overflows: list[int] = []
    await stream.drain(reader, lambda: overflows.append(stream.total))
    assert stream.text() == "a" * 100 + "b" * 50
    assert stream.truncated
    assert stream.total == 1200
    assert len(overflows) == 1  # called once, not per chunk


def test_failure_record_is_parsed_into_a_typed_failure(tmp_path: Path) -> None:
    record = tmp_path / "failure.json"
    record.write_text(
        '{"kind": "jsonrpc_error", "message": "bad", "code": -32602, "service": "kv",'
        ' "method": "get", "params": {"k": 1}, "data": [1], "unknown": true}'
    )
    failure = read_failure(record)
    assert failure is not None
    assert (failure.kind, failure.code, failure.service, failure.method) == (
        "jsonrpc_error",
        -32602,
        "kv",
        "get",
    )
    assert failure.params == {"k": 1}
    assert read_failure(tmp_path / "absent.json") is None
    record.write_text("{not json")
    broken = read_failure(record)
    assert broken is not None
    assert broken.kind == "sandbox"


def test_files_a_script_leaves_are_read_as_untrusted(tmp_path: Path) -> None:
    """A script may plant a symlink to a broker-readable file, or a FIFO, in place of its
    result: neither is followed nor blocks the broker."""
    secret = tmp_path / "secret.txt"
    secret.write_text('"the broker can read this, the script cannot"')
    planted = tmp_path / "result.json"
    planted.symlink_to(secret)
    value, failure = read_result(planted)
    assert value is None
    assert failure is not None
    assert failure.message.startswith("result refused:")
    assert "the broker can read this" not in failure.message

    fifo = tmp_path / "failure.json"
    os.mkfifo(fifo)
    blocked = read_failure(fifo)  # opened non-blocking: returns at once
    assert blocked is not None
    assert blocked.kind == "sandbox"
    assert "not a regular file" in blocked.message
