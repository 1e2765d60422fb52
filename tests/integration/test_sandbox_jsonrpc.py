"""A JSON-RPC error from a real Unix-socket service reaches the repair loop fully typed.

The test starts a tiny raw JSON-RPC server on a Unix socket, links a small hand-written
client module (shaped like a generated one) into the managed venv with ``link_client``, and
runs a script that calls it through the sandbox, which bind-mounts only that socket. The
calls a script made before failing come back too, journaled by the generated calc client.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aibroker.sandbox import AllowedService, link_client, run_script_sync
from aibroker.sandbox.bwrap import bwrap_works, find_bwrap
from aibroker.settings import Settings
from tests.fakes import calc_world

BWRAP = find_bwrap()
HAVE_BWRAP = BWRAP is not None and bwrap_works(BWRAP)
MODES = [
    pytest.param(
        True,
        id="bwrap",
        marks=[pytest.mark.bwrap, pytest.mark.skipif(not HAVE_BWRAP, reason="no bwrap")],
    ),
    pytest.param(False, id="rlimits"),
]

CLIENT = '''\
"""A hand-written stand-in for a generated client."""
from aibroker.rpc import RpcClient, resolve_endpoint


class TinyKv:
    def __init__(self, endpoint: str) -> None:
        self._rpc = RpcClient(endpoint, service="tiny_kv", timeout=5)

    @classmethod
    def connect(cls, endpoint: str | None = None) -> "TinyKv":
        return cls(resolve_endpoint(endpoint, env_var="TINY_KV_ENDPOINT", default=None))

    def kv_get(self, key: str) -> object:
        return self._rpc.call("kv_get", {"key": key})

    def kv_set(self, key: str, value: object) -> object:
        return self._rpc.call("kv_set", {"key": key, "value": value})
'''


class _Handler(socketserver.StreamRequestHandler):
    """One JSON request per line; kv_set succeeds, everything else is -32602 with data."""

    def handle(self) -> None:
        for line in self.rfile:
            request = json.loads(line)
            if request["method"] == "kv_set":
                reply = {"jsonrpc": "2.0", "id": request["id"], "result": True}
            else:
                error = {
                    "code": -32602,
                    "message": "Invalid params",
                    "data": {"field": "key", "reason": "no such key", "got": request["params"]},
                }
                reply = {"jsonrpc": "2.0", "id": request["id"], "error": error}
            self.wfile.write(json.dumps(reply).encode() + b"\n")
            self.wfile.flush()


@pytest.fixture
def kv_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tiny_kv.sock"
    server = socketserver.ThreadingUnixStreamServer(str(path), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    client = tmp_path / "generated" / "client.py"
    client.parent.mkdir()
    client.write_text(CLIENT)
    link_client(home, "tiny_kv", client)
    return home


SCRIPT = """\
from aibroker.rpc import set_result
from tiny_kv import TinyKv

kv = TinyKv.connect()
set_result({"stored": kv.kv_set("a", 1)})
print("stored")
kv.kv_get("missing-key")
"""


@pytest.mark.parametrize("bwrap", MODES)
def test_jsonrpc_error_is_typed_in_the_failure(home: Path, kv_socket: Path, bwrap: bool) -> None:
    allow = [AllowedService("tiny_kv", f"unix://{kv_socket}")]
    settings = Settings(home=home, exec_use_bwrap=bwrap)
    result = run_script_sync(SCRIPT, allow=allow, home=home, timeout=15, settings=settings)
    assert result.stdout == "stored\n"  # the allowed socket was reachable
    assert result.result == {"stored": True}
    failure = result.failure
    assert failure is not None, result
    assert failure.kind == "jsonrpc_error"
    assert failure.service == "tiny_kv"
    assert failure.method == "kv_get"
    assert failure.params == {"key": "missing-key"}
    assert failure.code == -32602
    assert failure.data == {
        "field": "key",
        "reason": "no such key",
        "got": {"key": "missing-key"},
    }
    assert failure.exception_type is not None
    assert failure.exception_type.endswith("InvalidParams")
    # The script's own line, under a name that is the same on every run (prompts quote it);
    # the client's and runtime's frames are left out.
    assert failure.traceback_tail.splitlines() == [
        '  File "script.py", line 7, in <module>',
        '    kv.kv_get("missing-key")',
    ]
    assert 'File "script.py", line 7' in result.stderr  # the whole traceback for a person
    assert result.exit_code == 1


@pytest.mark.bwrap
@pytest.mark.skipif(not HAVE_BWRAP, reason="no bwrap")
def test_sockets_not_allowed_are_not_reachable(home: Path, kv_socket: Path) -> None:
    code = f"""\
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({str(kv_socket)!r})
    print("connected")
except OSError as exc:
    print("blocked", type(exc).__name__)
"""
    result = run_script_sync(code, home=home, timeout=10, settings=Settings(home=home))
    assert result.stdout.startswith("blocked"), result
    # The same socket, once allowed, is reachable.
    allow = [AllowedService("tiny_kv", str(kv_socket))]
    allowed = run_script_sync(
        code, allow=allow, home=home, timeout=10, settings=Settings(home=home)
    )
    assert allowed.stdout == "connected\n"


HALF_DONE = """\
from calc import Calc

calc = Calc.connect()
for a in (1, 2, 3):
    print(calc.add(a, 10))
raise RuntimeError("a later line fails")
"""


@pytest.mark.parametrize("bwrap", MODES)
def test_calls_made_before_a_failure_come_back(tmp_path: Path, bwrap: bool) -> None:
    """The generated calc client journals its successful calls; the run result carries them."""
    home = tmp_path / "home"
    with calc_world(tmp_path) as world:
        entry = world.catalog.get("calc")
        assert entry is not None
        link_client(home, "calc", entry.client_path)
        allow = [AllowedService("calc", world.endpoint)]
        settings = Settings(home=home, exec_use_bwrap=bwrap)
        result = run_script_sync(HALF_DONE, allow=allow, home=home, timeout=15, settings=settings)
    assert result.stdout == "11.0\n12.0\n13.0\n"
    assert result.failure is not None, result
    assert result.failure.exception_type == "RuntimeError"
    assert result.calls == [
        {"service": "calc", "method": "add", "params": [a, 10]} for a in (1, 2, 3)
    ]
    assert not result.calls_truncated
    assert result.to_dict()["calls"] == result.calls  # what `aibroker exec --json` prints
