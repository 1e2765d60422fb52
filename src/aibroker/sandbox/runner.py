"""Running one generated script in the sandbox and reporting what happened.

:func:`run_script` prepares the environment, writes the script into a fresh run directory,
starts the bootstrap under bubblewrap (or with rlimits only), reads stdout/stderr with caps,
enforces the wall-clock timeout by killing the whole run, and turns exit status, failure
record and result file into a :class:`RunResult`. The threat model is in :mod:`aibroker.sandbox`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibroker.sandbox import bwrap, procs
from aibroker.sandbox.access import child_environment, read_only_paths, service_access
from aibroker.sandbox.limits import Limits, bootstrap_limits_arg
from aibroker.sandbox.output import CappedStream
from aibroker.sandbox.pep723 import check_allowed, ensure_extras, script_dependencies
from aibroker.sandbox.result import (
    ISOLATION_BWRAP,
    ISOLATION_BWRAP_NET,
    ISOLATION_RLIMITS,
    AllowedService,
    RunResult,
    ScriptFailure,
    read_failure,
    read_result,
)
from aibroker.sandbox.script_files import read_journal
from aibroker.sandbox.venv import SandboxEnvironment, ensure_environment
from aibroker.settings import Settings, get_settings

logger = logging.getLogger(__name__)

_SIGNAL_EXIT_BASE = 128  # bwrap reports a child killed by signal N as exit 128 + N
_PIPE_GRACE_S = 1.0  # after the script exits, how long its pipes may stay open
_RUN_UID_FLOOR = 1 << 20
_warned_fallback: set[str] = set()


@dataclass
class _Run:
    """Mutable bookkeeping of one run while it is in flight."""

    process: asyncio.subprocess.Process
    run_uid: int
    killed_by: str | None = None
    streams: dict[str, CappedStream] = field(default_factory=dict)

    def kill(self, reason: str) -> None:
        if self.killed_by is None:
            self.killed_by = reason
        procs.kill_group(self.process.pid)
        if self.run_uid >= 0:
            procs.kill_uid(self.run_uid)


async def run_script(
    code: str,
    *,
    allow: Sequence[AllowedService] = (),
    timeout: float | None = None,  # noqa: ASYNC109  (a per-run budget, enforced inside)
    limits: Limits | None = None,
    home: Path | None = None,
    settings: Settings | None = None,
) -> RunResult:
    """Run ``code`` as a script in the sandbox; never raises for anything the script does.

    Raises :class:`~aibroker.sandbox.errors.ScriptDependencyError` (before running) when the
    script's PEP 723 block asks for packages outside ``settings.exec_extra_packages``, and
    :class:`~aibroker.sandbox.errors.EnvironmentSetupError` when the venv cannot be built.
    """
    settings = settings or get_settings()
    home = (home or settings.home).expanduser()
    timeout = settings.exec_timeout if timeout is None else timeout
    limits = limits or Limits.from_settings(
        memory_mb=settings.exec_memory_mb, output_bytes=settings.exec_output_bytes
    )
    requirements = check_allowed(script_dependencies(code), settings.exec_extra_packages)
    env = await asyncio.to_thread(ensure_environment, home)
    extras = await asyncio.to_thread(ensure_extras, home, env.python, requirements)
    bwrap_path = _usable_bwrap(settings)
    run_dir = Path(tempfile.mkdtemp(prefix="aibroker-run-"))
    try:
        return await _run_in(run_dir, code, env, home, extras, allow, timeout, limits, bwrap_path)
    finally:
        shutil.rmtree(run_dir, onerror=_log_cleanup_error)


def run_script_sync(
    code: str,
    *,
    allow: Sequence[AllowedService] = (),
    timeout: float | None = None,
    limits: Limits | None = None,
    home: Path | None = None,
    settings: Settings | None = None,
) -> RunResult:
    """:func:`run_script` for synchronous callers (the CLI, tests, sync graph nodes)."""
    return asyncio.run(
        run_script(code, allow=allow, timeout=timeout, limits=limits, home=home, settings=settings)
    )


async def _run_in(
    run_dir: Path,
    code: str,
    env: SandboxEnvironment,
    home: Path,
    extras: Path | None,
    allow: Sequence[AllowedService],
    wall_clock_s: float,
    limits: Limits,
    bwrap_path: str | None,
) -> RunResult:
    script = run_dir / "script.py"
    script.write_text(code, encoding="utf-8")
    failure_file, result_file = run_dir / ".failure.json", run_dir / ".result.json"
    call_log = run_dir / ".calls.jsonl"  # written by the script's clients, line by line
    as_root = bwrap.is_root()
    run_uid = _RUN_UID_FLOOR + secrets.randbelow((1 << 31) - 2 - _RUN_UID_FLOOR) if as_root else -1
    counted = as_root or bwrap_path is not None  # else RLIMIT_NPROC would count the broker's uid
    limits_arg = bootstrap_limits_arg(limits, wall_clock_s, processes=counted)
    argv = [str(env.python), "-I", "-u", "-B", "-X", "utf8", str(env.bootstrap)]
    argv += [str(failure_file), limits_arg, str(run_uid), str(extras or ""), str(script)]
    sockets, share_network = service_access(allow)
    isolation = ISOLATION_RLIMITS
    command = argv
    if bwrap_path is not None:
        isolation = ISOLATION_BWRAP_NET if share_network else ISOLATION_BWRAP
        layout = bwrap.SandboxLayout(
            run_dir=run_dir,
            read_only=read_only_paths(env, home, extras),
            sockets=sockets,
            share_network=share_network,
        )
        command = bwrap.bwrap_command(bwrap_path, layout, argv)
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment(run_dir, result_file, call_log, allow),
        cwd=run_dir,
        start_new_session=True,
    )
    run = _Run(process=process, run_uid=run_uid if bwrap_path is None else -1)
    await _supervise(run, wall_clock_s, limits)
    duration = time.perf_counter() - started
    under_bwrap = bwrap_path is not None
    return _result(run, isolation, duration, failure_file, result_file, call_log, under_bwrap)


async def _supervise(run: _Run, wall_clock_s: float, limits: Limits) -> None:
    """Wait for the script, its pipes drained; kill it on timeout or runaway output."""
    assert run.process.stdout is not None
    assert run.process.stderr is not None
    run.streams = {
        "stdout": CappedStream(limits.output_bytes, limits.output_kill_bytes),
        "stderr": CappedStream(limits.output_bytes, limits.output_kill_bytes),
    }
    readers = [
        asyncio.create_task(run.streams["stdout"].drain(run.process.stdout, _overflow(run))),
        asyncio.create_task(run.streams["stderr"].drain(run.process.stderr, _overflow(run))),
    ]
    try:
        await asyncio.wait_for(_exited(run.process), wall_clock_s)
    except TimeoutError:
        run.kill("timeout")
    except asyncio.CancelledError:  # the caller gave up: the run must not outlive it
        run.kill("cancelled")
        for task in readers:
            task.cancel()
        raise
    _done, pending = await asyncio.wait(readers, timeout=_PIPE_GRACE_S)
    if pending:  # a leftover process (possible without bwrap) still holds the pipes
        procs.kill_group(run.process.pid)
        if run.run_uid >= 0:
            procs.kill_uid(run.run_uid)
        _done, pending = await asyncio.wait(pending, timeout=_PIPE_GRACE_S)
        for task in pending:
            task.cancel()
    elif run.run_uid >= 0 and procs.processes_of_uid(run.run_uid):
        procs.kill_uid(run.run_uid)  # background children must not outlive the run
    await run.process.wait()


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Return when the process exits — not when its pipes close, which a child holding
    them (no pid namespace) could delay forever; ``Process.wait`` waits for both."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd (old kernel) or already reaped
        await process.wait()
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def on_exit() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(pidfd, on_exit)
    try:
        await done
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


def _overflow(run: _Run) -> Any:
    return lambda: run.kill("output")


def _result(
    run: _Run,
    isolation: str,
    duration: float,
    failure_file: Path,
    result_file: Path,
    call_log: Path,
    under_bwrap: bool,
) -> RunResult:
    """The run's outcome from its exit status and its files: failure record, result, journal."""
    returncode = run.process.returncode
    failure = read_failure(failure_file)
    result, result_failure = read_result(result_file)
    calls, calls_truncated = read_journal(call_log)
    stdout, stderr = run.streams["stdout"], run.streams["stderr"]
    signal_number = _signal_of(returncode, under_bwrap, failure)
    exit_code: int | None = returncode if signal_number is None else None
    killed_by = run.killed_by
    if killed_by is None and signal_number is not None:
        killed_by = "cpu" if signal_number == signal.SIGXCPU else _signal_name(signal_number)
    if killed_by is None and failure is not None and failure.limit == "memory":
        killed_by = "memory"
    if run.killed_by == "timeout":
        failure = ScriptFailure(
            kind="timeout",
            message=f"the script ran longer than its {duration:.1f} s wall-clock limit "
            "and was killed with all its processes",
            traceback_tail=_tail(stderr.text()),
        )
    elif run.killed_by == "output":
        failure = ScriptFailure(
            kind="limit",
            limit="output",
            message=f"the script wrote more than {stdout.kill_after} bytes to one stream "
            "and was killed; print less (summaries, not whole data sets)",
            traceback_tail=_tail(stderr.text()),
        )
    elif killed_by is not None and failure is None:
        failure = ScriptFailure(
            kind="limit" if killed_by == "cpu" else "killed",
            limit="cpu" if killed_by == "cpu" else None,
            message=f"the script was killed by {killed_by}",
            traceback_tail=_tail(stderr.text()),
        )
    elif failure is None and returncode not in (0, None):
        sandbox = under_bwrap and stderr.text().startswith("bwrap:")
        failure = ScriptFailure(
            kind="sandbox" if sandbox else "exit",
            message=stderr.text().strip()[:500]
            if sandbox
            else f"the script exited with status {returncode}",
            traceback_tail=_tail(stderr.text()),
        )
    failure = failure or result_failure
    return RunResult(
        exit_code=exit_code,
        stdout=stdout.text(),
        stderr=stderr.text(),
        result=result,
        failure=failure,
        duration_s=duration,
        timed_out=run.killed_by == "timeout",
        killed_by=killed_by,
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
        isolation=isolation,
        calls=calls,
        calls_truncated=calls_truncated,
    )


def _signal_of(
    returncode: int | None, under_bwrap: bool, failure: ScriptFailure | None
) -> int | None:
    """The signal that ended the script, if any (bwrap reports it as exit 128 + N)."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if under_bwrap and failure is None and _SIGNAL_EXIT_BASE < returncode <= _SIGNAL_EXIT_BASE + 64:
        return returncode - _SIGNAL_EXIT_BASE
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _usable_bwrap(settings: Settings) -> str | None:
    """bwrap's path when enabled and working here; else ``None`` and one warning per reason."""
    if not settings.exec_use_bwrap:
        _warn_once("disabled", "bubblewrap disabled (exec_use_bwrap=False): rlimits only")
        return None
    path = bwrap.find_bwrap()
    if path is None:
        _warn_once("missing", "bubblewrap (bwrap) not found: scripts run with rlimits only")
        return None
    if not bwrap.bwrap_works(path):
        _warn_once("broken", "bubblewrap cannot create namespaces here: rlimits only")
        return None
    return path


def _warn_once(key: str, message: str) -> None:
    if key not in _warned_fallback:
        _warned_fallback.add(key)
        logger.warning("%s — no network or filesystem isolation for scripts", message)


def _log_cleanup_error(function: Any, path: str, exc_info: Any) -> None:
    logger.warning("could not remove %s after a run (%s): %s", path, function.__name__, exc_info[1])
