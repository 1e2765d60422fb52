"""Lifecycle of the local llama.cpp server that backs the default chat model.

When no ``llm_base_url`` is configured, :func:`ensure_local_server` returns the base URL
of a running server: one already started (by ``aibroker model serve`` or another broker
process, found through ``<home>/run/local-model.json`` and health-checked), or a new
subprocess on a free loopback port, started in its own process group and stopped when
this interpreter exits. A file lock makes concurrent brokers share one server instead of
each loading 1 GB of weights.

The server is llama-cpp-python's OpenAI-compatible one. No ``--chat_format`` is passed:
llama-cpp-python then formats prompts with the chat template embedded in the GGUF
(Qwen2.5's ChatML with tool support), and honours both ``response_format`` of type
``json_object`` with a ``schema`` and forced ``tool_choice``, each enforced by a grammar.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from filelock import FileLock

from aibroker.localmodel.artifact import QWEN25_CODER_1_5B, ModelArtifact, model_path
from aibroker.localmodel.errors import (
    LocalExtraMissingError,
    LocalServerError,
    ModelMissingError,
)
from aibroker.localmodel.verify import verify_file
from aibroker.settings import Settings

LOOPBACK = "127.0.0.1"
StatusCallback = Callable[[str], None]
_logger = logging.getLogger(__name__)


def _log_status(message: str) -> None:
    """Default progress sink: the ``aibroker.localmodel.server`` logger at INFO."""
    _logger.info("%s", message)


@dataclass(frozen=True)
class ServerRecord:
    """What ``<home>/run/local-model.json`` says about a running server."""

    pid: int
    host: str
    port: int
    model_path: str
    model_alias: str

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"


def run_dir(settings: Settings) -> Path:
    """``<home>/run``: pid/port records, locks and server logs."""
    return settings.home.expanduser() / "run"


def record_path(settings: Settings) -> Path:
    """The run record of the local model server."""
    return run_dir(settings) / "local-model.json"


def log_path(settings: Settings) -> Path:
    """Where an auto-started server writes its output."""
    return run_dir(settings) / "local-model.log"


def require_local_extra() -> None:
    """Raise :class:`LocalExtraMissingError` unless llama-cpp-python[server] is importable."""
    missing = [
        m
        for m in ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LocalExtraMissingError(
            f"the local model needs llama-cpp-python[server]; missing module(s): "
            f"{', '.join(missing)} (interpreter {sys.executable})",
            hint="install the extra with `uv sync --extra local` or "
            "`pip install 'aibroker[local]'`, or set AIBROKER_LLM_BASE_URL to an "
            "OpenAI-compatible endpoint",
        )


def require_model(settings: Settings, artifact: ModelArtifact = QWEN25_CODER_1_5B) -> Path:
    """The verified model file, or :class:`ModelMissingError` saying how to get it."""
    path = model_path(settings, artifact)
    if not verify_file(path, artifact):
        state = "has the wrong size or SHA-256" if path.exists() else "is missing"
        raise ModelMissingError(
            f"the local model file {path} {state}",
            hint="run `aibroker model pull` (about 1.1 GB), or set AIBROKER_LLM_BASE_URL",
        )
    return path


def server_command(settings: Settings, model: Path, host: str, port: int) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server."""
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", settings.llm_model,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(settings.model_n_ctx),
    ]  # fmt: skip


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    """True when ``GET <base_url>/models`` answers 200 (the server has loaded the model)."""
    try:
        return httpx.get(f"{base_url}/models", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def read_record(settings: Settings) -> ServerRecord | None:
    """The run record, or None when there is none or it is unreadable."""
    try:
        return ServerRecord(**json.loads(record_path(settings).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        return None  # a corrupt record is treated as stale and replaced


def write_record(settings: Settings, record: ServerRecord) -> None:
    """Publish a running server so other processes (and ``model status``) find it."""
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def clear_record(settings: Settings, pid: int) -> None:
    """Remove the run record if it still describes process ``pid``."""
    record = read_record(settings)
    if record is not None and record.pid == pid:
        record_path(settings).unlink(missing_ok=True)


def find_running(settings: Settings) -> ServerRecord | None:
    """A healthy server from the run record; a stale record is removed."""
    record = read_record(settings)
    if record is None:
        return None
    if is_healthy(record.base_url):
        return record
    record_path(settings).unlink(missing_ok=True)
    return None


def _wait_ready(
    process: subprocess.Popen[bytes], base_url: str, timeout: float, log: Path,
    on_status: StatusCallback,
) -> None:  # fmt: skip
    started = time.monotonic()
    next_note = started + 5.0
    while not is_healthy(base_url, timeout=1.0):
        now = time.monotonic()
        if process.poll() is not None:
            raise LocalServerError(
                f"local model server exited with code {process.returncode} before answering; "
                f"last output:\n{_tail(log)}",
                hint=f"see {log}; check that the model file is intact (`aibroker model pull`)",
            )
        if now - started > timeout:
            _terminate(process)
            raise LocalServerError(
                f"local model server did not answer at {base_url} within {timeout:.0f} s",
                hint=f"see {log}; raise AIBROKER_MODEL_SERVER_START_TIMEOUT on slow machines",
            )
        if now >= next_note:
            on_status(f"waiting for the local model server ({now - started:.0f} s)")
            next_note = now + 5.0
        time.sleep(0.2)
    on_status(f"local model server ready at {base_url} ({time.monotonic() - started:.1f} s)")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(log unreadable: {error})"


def _terminate(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_server(
    settings: Settings,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    on_status: StatusCallback = _log_status,
) -> tuple[subprocess.Popen[bytes], ServerRecord]:
    """Start a server subprocess in its own process group and wait until it answers.

    The caller owns the process; :func:`ensure_local_server` registers it for stopping at
    interpreter exit.
    """
    require_local_extra()
    model = require_model(settings)
    port = port or free_port(host)
    log = log_path(settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    on_status(f"starting the local model server on {host}:{port} (log: {log})")
    with log.open("ab") as out:
        process = subprocess.Popen(
            server_command(settings, model, host, port),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    record = ServerRecord(process.pid, host, port, str(model), settings.llm_model)
    _wait_ready(process, record.base_url, settings.model_server_start_timeout, log, on_status)
    write_record(settings, record)
    return process, record


def _stop_at_exit(settings: Settings, process: subprocess.Popen[bytes]) -> None:
    _terminate(process)
    clear_record(settings, process.pid)


def ensure_local_server(settings: Settings, *, on_status: StatusCallback = _log_status) -> str:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a healthy local model server.

    Reuses a running one; otherwise starts one that is stopped when this interpreter
    exits. Raises :class:`LocalExtraMissingError`, :class:`ModelMissingError` or
    :class:`LocalServerError` with what to do.
    """
    run_dir(settings).mkdir(parents=True, exist_ok=True)
    with FileLock(str(run_dir(settings) / "local-model.lock")):
        running = find_running(settings)
        if running is not None:
            return running.base_url
        process, record = start_server(
            settings, port=settings.model_server_port, on_status=on_status
        )
        atexit.register(_stop_at_exit, settings, process)
        return record.base_url


def serve_foreground(
    settings: Settings, *, host: str = LOOPBACK, port: int = 0,
    on_status: StatusCallback = _log_status,
) -> int:  # fmt: skip
    """Run the server until it exits or is interrupted; returns its exit code.

    SIGTERM/SIGHUP are forwarded to the server, Ctrl-C reaches it directly (same process
    group); the run record lets ``ensure_local_server`` and ``model status`` find it.
    """
    running = find_running(settings)
    if running is not None:
        raise LocalServerError(
            f"a local model server is already running at {running.base_url} (pid {running.pid})",
            hint="use it as is, or stop that process first",
        )
    require_local_extra()
    model = require_model(settings)
    port = port or free_port(host)
    process = subprocess.Popen(server_command(settings, model, host, port))
    record = ServerRecord(process.pid, host, port, str(model), settings.llm_model)
    on_status(f"serving {model.name} at {record.base_url} (Ctrl-C stops it)")
    write_record(settings, record)

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)  # the server shuts down; wait() below then returns

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        code = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        clear_record(settings, process.pid)
    return 128 - code if code < 0 else code  # shell convention for "killed by signal N"
