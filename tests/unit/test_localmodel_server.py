"""Lifecycle of the local model server: reuse, stale records, start/wait/stop, status.

The real llama.cpp server needs the 1.1 GB model (covered by tests/live); here a tiny
stand-in HTTP server process answering ``GET /v1/models`` takes its place, so the real
process management (own process group, readiness polling, run record, stop at exit)
runs in milliseconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aibroker.localmodel import server
from aibroker.localmodel.errors import LocalServerError, ModelMissingError
from aibroker.localmodel.server import (
    ServerRecord,
    ensure_local_server,
    find_running,
    read_record,
    record_path,
    server_command,
    write_record,
)
from aibroker.settings import Settings

STAND_IN = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Models(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"object": "list", "data": [{"id": "stand-in"}]}'
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

print("stand-in server up", flush=True)
HTTPServer((sys.argv[1], int(sys.argv[2])), Models).serve_forever()
"""


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def models_endpoint() -> Iterator[int]:
    """An in-process HTTP server answering /v1/models; yields its port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(home: Path) -> Settings:
    return Settings(home=home, llm_base_url=None, model_server_start_timeout=30.0)


def test_a_healthy_recorded_server_is_reused(aibroker_home: Path, models_endpoint: int) -> None:
    settings = _settings(aibroker_home)
    write_record(settings, ServerRecord(12345, "127.0.0.1", models_endpoint, "/m.gguf", "m"))

    # No model file exists in this home: only reuse can succeed here.
    assert ensure_local_server(settings) == f"http://127.0.0.1:{models_endpoint}/v1"


def test_a_stale_record_is_dropped_and_a_missing_model_explained(aibroker_home: Path) -> None:
    settings = _settings(aibroker_home)
    write_record(settings, ServerRecord(12345, "127.0.0.1", _closed_port(), "/m.gguf", "m"))

    with pytest.raises(ModelMissingError, match="is missing") as caught:
        ensure_local_server(settings)

    assert "aibroker model pull" in (caught.value.hint or "")
    assert read_record(settings) is None


def test_corrupt_record_counts_as_no_server(aibroker_home: Path) -> None:
    settings = _settings(aibroker_home)
    record_path(settings).parent.mkdir(parents=True)
    record_path(settings).write_text("{not json", encoding="utf-8")
    assert find_running(settings) is None


def test_server_command_uses_the_gguf_template_and_settings(tmp_path: Path) -> None:
    settings = Settings(llm_model="qwen-local", model_n_ctx=4096)
    command = server_command(settings, tmp_path / "m.gguf", "127.0.0.1", 8123)
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {
        "--model": str(tmp_path / "m.gguf"),
        "--model_alias": "qwen-local",
        "--host": "127.0.0.1",
        "--port": "8123",
        "--n_ctx": "4096",
    }


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Replace the llama.cpp command by the stand-in server (model check skipped)."""

    def command(_settings: Settings, _model: Path, host: str, port: int) -> list[str]:
        return [sys.executable, "-c", STAND_IN, host, str(port)]

    monkeypatch.setattr(server, "server_command", command)
    monkeypatch.setattr(server, "require_model", lambda _settings: tmp_path / "m.gguf")
    monkeypatch.setattr(server, "require_local_extra", lambda: None)


@pytest.mark.usefixtures("stand_in")
def test_started_server_is_recorded_reused_and_stopped(aibroker_home: Path) -> None:
    settings = _settings(aibroker_home)
    notes: list[str] = []

    process, record = server.start_server(settings, on_status=notes.append)
    try:
        assert os.getpgid(process.pid) == process.pid  # its own process group
        assert read_record(settings) == record
        assert ensure_local_server(settings) == record.base_url  # reused, not restarted
        assert any("ready" in note for note in notes)
    finally:
        server._stop_at_exit(settings, process)

    assert process.returncode == -signal.SIGTERM
    assert read_record(settings) is None
    assert "stand-in server up" in server.log_path(settings).read_text(encoding="utf-8")


@pytest.mark.usefixtures("stand_in")
def test_server_that_dies_at_start_reports_its_output(
    aibroker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing(_settings: Settings, _model: Path, host: str, port: int) -> list[str]:
        return [sys.executable, "-c", "print('cannot load model'); raise SystemExit(3)"]

    monkeypatch.setattr(server, "server_command", crashing)

    with pytest.raises(LocalServerError, match=r"exited with code 3[\s\S]*cannot load model"):
        ensure_local_server(_settings(aibroker_home))
    assert read_record(_settings(aibroker_home)) is None


def test_status_json_reports_file_and_server(
    aibroker_home: Path, models_endpoint: int, request: pytest.FixtureRequest
) -> None:
    from aibroker.cli import app
    from aibroker.settings import get_settings

    request.addfinalizer(get_settings.cache_clear)  # do not leak this home to later tests
    runner = CliRunner()
    first = json.loads(runner.invoke(app, ["model", "status", "--json"]).stdout)
    assert first["model"]["present"] is False
    assert first["model"]["verified"] is False
    assert first["server"]["running"] is False

    settings = _settings(aibroker_home)
    write_record(settings, ServerRecord(4242, "127.0.0.1", models_endpoint, "/m.gguf", "m"))
    second = json.loads(runner.invoke(app, ["model", "status", "--json"]).stdout)
    assert second["server"] == {
        "running": True,
        "base_url": f"http://127.0.0.1:{models_endpoint}/v1",
        "pid": 4242,
    }
