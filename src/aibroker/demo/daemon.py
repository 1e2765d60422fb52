"""One demo process per state directory: a lock, a pid file, detaching and stopping.

The serving process holds an exclusive lock on ``<state>/demo.lock`` for its whole life, so
"is the demo running?" has a reliable answer even after a crash (the OS drops the lock with
the process) and two processes can never serve the same databases. Once its sockets listen
it writes ``<state>/demo.pid`` (JSON: pid, sockets, HTTP URLs), which tells ``demo down``
whom to stop and tells people and notebooks where the sockets are; it removes the file when
it exits. A detached process writes its output to ``<state>/demo.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from aibroker.demo.cluster import Endpoints, serve_forever
from aibroker.demo.errors import DemoError
from aibroker.demo.times import format_time, now

PID_FILE = "demo.pid"
LOCK_FILE = "demo.lock"
LOG_FILE = "demo.log"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class DemoProcess:
    """What the pid file says about the running demo process."""

    pid: int
    state_dir: str
    sockets: dict[str, str] = field(default_factory=dict)
    http_urls: dict[str, str] = field(default_factory=dict)
    started_at: str = ""


def describe(endpoints: Endpoints | DemoProcess) -> list[str]:
    """One line per service: its name, socket and (when served) HTTP URL."""
    sockets = {name: str(path) for name, path in endpoints.sockets.items()}
    lines = []
    for name in sorted(sockets):
        url = endpoints.http_urls.get(name)
        lines.append(f"  {name:<14} {sockets[name]}" + (f"  {url}" if url else ""))
    return lines


def running_process(state_dir: Path) -> DemoProcess | None:
    """The demo process serving ``state_dir``, or ``None`` (a stale pid file is removed)."""
    if not _lock_is_held(state_dir):
        stale = _read_pid_file(state_dir)
        if stale is not None:  # the process died without cleaning up (SIGKILL, crash)
            _remove_leftovers(state_dir, stale)
        return None
    process = _read_pid_file(state_dir)
    if process is None:
        raise DemoError(
            f"a demo process holds {state_dir / LOCK_FILE} but has not written "
            f"{state_dir / PID_FILE} yet",
            hint="it is probably still starting: try again in a moment",
        )
    return process


def run_foreground(
    sockets_dir: Path,
    state_dir: Path,
    *,
    http: bool = False,
    on_ready: Callable[[Endpoints], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM, holding the state directory's lock and pid file."""
    state_dir = _absolute(state_dir)
    _make_dir(state_dir)
    lock = FileLock(state_dir / LOCK_FILE, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise _already_running(state_dir, _read_pid_file(state_dir)) from None
    try:

        def ready(endpoints: Endpoints) -> None:
            _write_pid_file(state_dir, endpoints)
            if on_ready is not None:
                on_ready(endpoints)

        serve_forever(_absolute(sockets_dir), state_dir, http=http, on_ready=ready)
    finally:
        process = _read_pid_file(state_dir)
        if process is not None and process.pid == os.getpid():
            (state_dir / PID_FILE).unlink(missing_ok=True)
        lock.release()


def start_detached(sockets_dir: Path, state_dir: Path, *, http: bool = False) -> DemoProcess:
    """Start the services in a background process; return once its sockets listen."""
    sockets_dir, state_dir = _absolute(sockets_dir), _absolute(state_dir)
    _make_dir(state_dir)
    existing = running_process(state_dir)
    if existing is not None:
        raise _already_running(state_dir, existing)
    command = [sys.executable, "-m", "aibroker.demo", "--sockets-dir", str(sockets_dir)]
    command += ["--state-dir", str(state_dir)] + (["--http"] if http else [])
    log_path = state_dir / LOG_FILE
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        process = _read_pid_file(state_dir)
        if process is not None and process.pid == child.pid:
            return process
        code = child.poll()
        if code is not None:
            raise DemoError(
                f"the demo process exited with code {code} while starting:\n" + _tail(log_path),
                hint=f"the full log is {log_path}",
            )
        time.sleep(_POLL_SECONDS)
    child.kill()
    child.wait()
    raise DemoError(
        f"the demo process did not start within {START_TIMEOUT_SECONDS:.0f} s",
        hint=f"see {log_path}",
    )


def stop(state_dir: Path) -> DemoProcess | None:
    """Stop the demo process of ``state_dir`` and wait for it; ``None`` if none ran."""
    state_dir = _absolute(state_dir)
    process = running_process(state_dir)
    if process is None:
        return None
    for signum, timeout in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, 5.0)):
        # ProcessLookupError: it exited between the check and the signal; the lock tells below
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _lock_is_held(state_dir):
                _remove_leftovers(state_dir, process)
                return process
            time.sleep(_POLL_SECONDS)
    raise DemoError(
        f"the demo process {process.pid} did not stop, even after SIGKILL",
        hint=f"check it with `ps -p {process.pid}`",
    )


def _lock_is_held(state_dir: Path) -> bool:
    if not (state_dir / LOCK_FILE).exists():
        return False
    lock = FileLock(state_dir / LOCK_FILE, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False


def _write_pid_file(state_dir: Path, endpoints: Endpoints) -> None:
    process = DemoProcess(
        pid=os.getpid(),
        state_dir=str(state_dir),
        sockets={name: str(path) for name, path in endpoints.sockets.items()},
        http_urls=dict(endpoints.http_urls),
        started_at=format_time(now()),
    )
    temporary = state_dir / f"{PID_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(asdict(process), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, state_dir / PID_FILE)


def _read_pid_file(state_dir: Path) -> DemoProcess | None:
    try:
        raw: Any = json.loads((state_dir / PID_FILE).read_text(encoding="utf-8"))
        return DemoProcess(**raw)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise DemoError(
            f"the pid file {state_dir / PID_FILE} is unreadable: {error}",
            hint="stop the demo process by hand and delete the file",
        ) from error


def _remove_leftovers(state_dir: Path, process: DemoProcess) -> None:
    """Remove what a dead process left: its pid file and the sockets nobody listens on."""
    for path in process.sockets.values():
        _remove_if_dead(Path(path))
    (state_dir / PID_FILE).unlink(missing_ok=True)


def _remove_if_dead(path: Path) -> None:
    """Unlink the socket ``path`` unless something (another demo, say) still listens."""
    if not path.is_socket():
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            path.unlink(missing_ok=True)
        except OSError as error:
            raise DemoError(
                f"cannot tell whether {path} is still in use: {error}",
                hint="remove the socket file by hand if no service owns it",
            ) from error


def _already_running(state_dir: Path, process: DemoProcess | None) -> DemoError:
    where = "" if process is None else f" (pid {process.pid})"
    lines = [] if process is None else describe(process)
    return DemoError(
        f"the demo services are already running{where} for state directory {state_dir}"
        + "".join("\n" + line for line in lines),
        hint=f"stop them first with `aibroker demo down --state-dir {state_dir}`",
    )


def _absolute(path: Path) -> Path:
    return Path(path).expanduser().absolute()


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoError(
            f"cannot create the state directory {directory}: {error}",
            hint="pass a writable --state-dir",
        ) from error


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    return "\n".join(text.splitlines()[-lines:])
