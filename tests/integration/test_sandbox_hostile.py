"""Hostile scripts against the real runner: each must be contained and reported clearly.

The environment is built once per module (uv, offline from the cache when possible). Tests
that depend on bubblewrap's namespaces are marked ``bwrap``; the rest run under both
isolation modes, so the rlimits fallback is exercised too.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aibroker.sandbox import Limits, RunResult, ScriptDependencyError, run_script, run_script_sync
from aibroker.sandbox.bwrap import bwrap_works, find_bwrap
from aibroker.sandbox.venv import ensure_environment
from aibroker.settings import Settings

BWRAP = find_bwrap()
HAVE_BWRAP = BWRAP is not None and bwrap_works(BWRAP)
IS_ROOT = os.geteuid() == 0
needs_bwrap = pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap does not work here")

MODES = [
    pytest.param(True, id="bwrap", marks=[pytest.mark.bwrap, needs_bwrap]),
    pytest.param(False, id="rlimits"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "home"
    ensure_environment(path)
    return path


def run(
    home: Path, code: str, *, bwrap: bool = True, timeout: float = 5.0, **kw: object
) -> RunResult:
    settings = Settings(home=home, exec_use_bwrap=bwrap)
    return run_script_sync(code, home=home, timeout=timeout, settings=settings, **kw)  # type: ignore[arg-type]


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (to prove nothing was left running)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    if text.encode() in handle.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("bwrap", MODES)
def test_structured_result_and_stdout(home: Path, bwrap: bool) -> None:
    result = run(
        home,
        "from aibroker.rpc import set_result\nprint('hello')\n"
        "set_result({'answer': 42, 'items': [1, 2]})\n",
        bwrap=bwrap,
    )
    assert result.ok, result
    assert result.stdout == "hello\n"
    assert result.result == {"answer": 42, "items": [1, 2]}
    assert result.isolation == ("bwrap" if bwrap else "rlimits")


@pytest.mark.parametrize("bwrap", MODES)
def test_infinite_loop_is_killed_at_the_timeout(home: Path, bwrap: bool) -> None:
    result = run(home, "while True:\n    pass\n", bwrap=bwrap, timeout=1.5)
    assert result.timed_out
    assert result.killed_by == "timeout"
    assert result.exit_code is None
    assert result.failure is not None
    assert result.failure.kind == "timeout"
    assert not result.ok


@pytest.mark.parametrize("bwrap", MODES)
def test_fork_bomb_is_contained_and_leaves_nothing(home: Path, bwrap: bool) -> None:
    if not bwrap and not IS_ROOT:
        pytest.skip("without bwrap, only root gets a run-unique uid to count processes")
    result = run(home, "import os\nwhile True:\n    os.fork()\n", bwrap=bwrap, timeout=10)
    # The process limit stopped it (EAGAIN), long before the timeout would have.
    assert not result.timed_out
    assert result.failure is not None
    assert "Resource temporarily unavailable" in result.failure.message
    assert processes_mentioning(str(home)) == []


@pytest.mark.parametrize("bwrap", MODES)
def test_allocating_10_gib_hits_the_memory_limit(home: Path, bwrap: bool) -> None:
    result = run(home, "blob = bytearray(10 * 1024**3)\n", bwrap=bwrap)
    assert result.failure is not None
    assert result.failure.kind == "limit"
    assert result.failure.limit == "memory"
    assert result.failure.exception_type == "MemoryError"
    assert result.killed_by == "memory"


@pytest.mark.parametrize("bwrap", MODES)
def test_printing_1_gb_is_truncated_and_stopped(home: Path, bwrap: bool) -> None:
    code = "import sys\nchunk = 'x' * 65536\nfor _ in range(16384):\n    sys.stdout.write(chunk)\n"
    result = run(home, code, bwrap=bwrap, limits=Limits(output_bytes=4096))
    assert result.stdout_truncated
    assert result.stdout == "x" * 4096
    assert result.killed_by == "output"
    assert not result.timed_out  # stopped for the output, not by the clock
    assert result.failure is not None
    assert result.failure.limit == "output"


@pytest.mark.parametrize("bwrap", MODES)
def test_writing_a_2_gb_file_hits_the_file_size_limit(home: Path, bwrap: bool) -> None:
    code = (
        "block = b'0' * (1024 * 1024)\n"
        "with open('big.bin', 'wb') as f:\n"
        "    for _ in range(2048):\n"
        "        f.write(block)\n"
    )
    result = run(home, code, bwrap=bwrap, limits=Limits(file_size_bytes=8 * 1024 * 1024))
    assert result.failure is not None
    assert result.failure.kind == "limit"
    assert result.failure.limit == "file_size"
    assert "File too large" in result.failure.message


@pytest.mark.parametrize("bwrap", MODES)
def test_environment_holds_no_secrets(
    home: Path, bwrap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-openai-secret")
    monkeypatch.setenv("AIBROKER_LLM_API_KEY", "fake-broker-secret")
    code = "import json, os\nprint(json.dumps(dict(os.environ)))\n"
    result = run(home, code, bwrap=bwrap)
    assert result.ok, result
    seen = json.loads(result.stdout)
    assert "OPENAI_API_KEY" not in seen
    assert "AIBROKER_LLM_API_KEY" not in seen
    assert not any("secret" in value for value in seen.values())
    allowed = {"PATH", "LANG", "HOME", "TMPDIR", "TZ", "PWD", "AIBROKER_RESULT_FILE"}
    assert set(seen) <= allowed | {"AIBROKER_CALL_LOG"}


@pytest.fixture
def tcp_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A real TCP server on 127.0.0.1 that records what connecting clients send."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                received.append(conn.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()
    thread.join(timeout=5)


TCP_SCRIPT = """\
import socket
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=2) as s:
        s.sendall(b"escaped")
    print("connected")
except OSError as exc:
    print("blocked", type(exc).__name__)
"""


@pytest.mark.bwrap
@needs_bwrap
def test_tcp_to_loopback_is_unreachable_under_bwrap(
    home: Path, tcp_listener: tuple[int, list[bytes]]
) -> None:
    port, received = tcp_listener
    result = run(home, TCP_SCRIPT.format(port=port))
    assert result.stdout.startswith("blocked"), result.stdout
    assert received == []
    # Control: the same script without bubblewrap does reach the listener.
    control = run(home, TCP_SCRIPT.format(port=port), bwrap=False)
    assert control.stdout == "connected\n"


@pytest.mark.bwrap
@needs_bwrap
def test_files_outside_the_run_directory_are_untouchable(home: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    code = f"""\
import os
outcomes = []
for action in (lambda: os.remove({str(victim)!r}),
               lambda: open({str(tmp_path / "planted.txt")!r}, "w").write("x"),
               lambda: open("/etc/aibroker-planted", "w").write("x"),
               lambda: open({str(home / "python" / "planted.py")!r}, "w").write("x")):
    try:
        action()
        outcomes.append("done")
    except OSError as exc:
        outcomes.append(type(exc).__name__)
open("inside.txt", "w").write("fine")
print(outcomes)
"""
    result = run(home, code)
    assert result.ok, result
    assert "done" not in result.stdout
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "planted.txt").exists()
    assert not Path("/etc/aibroker-planted").exists()
    assert not (home / "python" / "planted.py").exists()


@pytest.mark.parametrize("bwrap", MODES)
def test_child_process_dies_with_the_run(home: Path, bwrap: bool) -> None:
    marker = f"1000.{secrets.randbelow(10**9)}"
    code = (
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '{marker}'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(100)\n"
    )
    result = run(home, code, bwrap=bwrap, timeout=1.5)
    assert result.timed_out
    child_pid = int(result.stdout.split()[0])
    assert processes_mentioning(marker) == []
    if not bwrap:  # without a pid namespace the printed pid is the host's pid
        assert not Path(f"/proc/{child_pid}").exists() or processes_mentioning(marker) == []


@pytest.mark.parametrize("bwrap", MODES)
def test_detached_background_child_does_not_outlive_the_run(home: Path, bwrap: bool) -> None:
    if not bwrap and not IS_ROOT:
        pytest.skip("without bwrap, only root can find processes that left the group")
    marker = f"2000.{secrets.randbelow(10**9)}"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        "print('parent done')\n"
    )
    result = run(home, code, bwrap=bwrap, timeout=20)
    assert result.ok, result
    assert not result.timed_out  # the run ended when the script did
    assert processes_mentioning(marker) == []


def test_syntax_error_is_reported_with_its_line(home: Path) -> None:
    result = run(home, "x = 1\ndef broken(:\n    pass\n")
    assert result.failure is not None
    assert result.failure.kind == "syntax"
    assert result.failure.line == 2
    assert result.failure.column is not None
    assert result.exit_code == 1


def test_import_error_names_the_module(home: Path) -> None:
    result = run(home, "import no_such_service_client\n")
    assert result.failure is not None
    assert result.failure.kind == "import_error"
    assert "no_such_service_client" in result.failure.message
    assert "line 1" in result.failure.traceback_tail


def test_broker_internals_are_not_importable(home: Path) -> None:
    result = run(home, "import aibroker.settings\n")
    assert result.failure is not None
    assert result.failure.kind == "import_error"


def test_cpu_limit_kills_a_busy_loop(home: Path) -> None:
    result = run(home, "while True:\n    pass\n", timeout=30, limits=Limits(cpu_seconds=1))
    assert result.killed_by == "cpu"
    assert not result.timed_out
    assert result.failure is not None
    assert result.failure.limit == "cpu"


def test_exit_code_mirrors_the_script(home: Path) -> None:
    result = run(home, "import sys\nprint('bye')\nsys.exit(3)\n")
    assert result.exit_code == 3
    assert result.failure is not None
    assert result.failure.kind == "exit"
    assert result.stdout == "bye\n"


def test_disallowed_pep723_packages_are_refused_before_running(home: Path) -> None:
    code = "# /// script\n# dependencies = ['rich']\n# ///\nopen('ran', 'w')\n"
    with pytest.raises(ScriptDependencyError, match="rich"):
        run(home, code)


def test_allowed_pep723_package_is_installed_once_and_importable(home: Path) -> None:
    code = (
        "# /// script\n# dependencies = ['idna']\n# ///\nimport idna\nprint(idna.encode('b.c'))\n"
    )
    settings = Settings(home=home, exec_extra_packages=["idna"])
    result = run_script_sync(code, home=home, timeout=10, settings=settings)
    assert result.ok, result
    assert result.stdout == "b'b.c'\n"
    assert len(list((home / "python-extras").glob("*/.complete"))) == 1


async def test_eight_concurrent_scripts_do_not_interfere(home: Path) -> None:
    settings = Settings(home=home)
    code = (
        "import time\nfrom aibroker.rpc import set_result\n"
        "n = {n}\ntime.sleep(0.2)\nprint('script', n)\nset_result(n * n)\n"
    )
    results = await asyncio.gather(
        *(run_script(code.format(n=n), home=home, timeout=20, settings=settings) for n in range(8))
    )
    assert [r.stdout for r in results] == [f"script {n}\n" for n in range(8)]
    assert [r.result for r in results] == [n * n for n in range(8)]
    assert all(r.ok for r in results)
