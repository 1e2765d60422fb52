"""Real servers for the registry tests: any OpenRPC document served on a unix socket.

:class:`SpecHost` runs the demo services' own server core (``aibroker.demo.server``: raw
JSON-RPC, params validated against the document) for arbitrary documents, all from one
background event loop. Each method answers its first example's result (or a fixed value
given by the test), and ``rpc.discover`` returns ``service.document`` as it is *now*, so a
test changes the served spec by editing that dict. The tests at the bottom check the host
itself.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aibroker.demo.protocol import Dispatcher
from aibroker.demo.server import ServiceEndpoint
from aibroker.demo.service import Service
from aibroker.rpc import RpcClient
from aibroker.settings import Settings

_NO_RESULT = object()


def kv_document(title: str = "tiny kv", *, description: str = "keys and values") -> dict[str, Any]:
    """A small spec with a safe method (``get``, with an example) and an unsafe one (``put``)."""
    return {
        "openrpc": "1.2.6",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "methods": [
            {
                "name": "get",
                "summary": "Read a key.",
                "params": [{"name": "key", "required": True, "schema": {"type": "string"}}],
                "result": {"name": "value", "schema": {"type": ["string", "null"]}},
                "examples": [
                    {
                        "name": "read a",
                        "params": [{"name": "key", "value": "a"}],
                        "result": {"name": "value", "value": "1"},
                    }
                ],
            },
            {
                "name": "put",
                "summary": "Write a key.",
                "params": [
                    {"name": "key", "required": True, "schema": {"type": "string"}},
                    {"name": "value", "required": True, "schema": {"type": "string"}},
                ],
                "result": {"name": "ok", "schema": {"type": "boolean"}},
                "examples": [
                    {
                        "name": "write a",
                        "params": [{"name": "key", "value": "a"}, {"name": "value", "value": "1"}],
                        "result": {"name": "ok", "value": True},
                    }
                ],
            },
        ],
    }


class SpecHost:
    """Serves documents on unix sockets from a background event loop (a context manager)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._endpoints: list[ServiceEndpoint] = []
        self.calls: list[tuple[str, Any]] = []

    def __enter__(self) -> SpecHost:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for endpoint in self._endpoints:
            asyncio.run_coroutine_threadsafe(endpoint.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def serve(
        self,
        path: Path,
        document: dict[str, Any],
        results: dict[str, Any] | None = None,
        *,
        discover_only: bool = False,
    ) -> Service:
        """Serve ``document`` on ``path``; ``results`` overrides what methods return.

        ``discover_only`` serves a document the server itself could not run (not OpenRPC,
        broken references): only ``rpc.discover`` answers, with it.
        """
        document = copy.deepcopy(document)
        methods = [] if discover_only else document["methods"]
        handlers = {
            method["name"]: self._handler(method, (results or {}).get(method["name"], _NO_RESULT))
            for method in methods
        }
        service = Service(name=path.stem, document={"methods": methods}, handlers=handlers)
        endpoint = ServiceEndpoint(Dispatcher(service))
        service.document = document
        asyncio.run_coroutine_threadsafe(endpoint.listen_unix(path), self._loop).result(10)
        self._endpoints.append(endpoint)
        return service

    def close_socket(self, path: Path) -> None:
        """Stop serving ``path`` (the socket file disappears, as when a service stops)."""
        for endpoint in list(self._endpoints):
            if endpoint._socket_path == path:
                asyncio.run_coroutine_threadsafe(endpoint.close(), self._loop).result(10)
                self._endpoints.remove(endpoint)

    def _handler(self, method: dict[str, Any], fixed: Any) -> Any:
        examples = method.get("examples") or []
        default = examples[0].get("result", {}).get("value") if examples else None
        value = default if fixed is _NO_RESULT else fixed
        name = method["name"]

        def handle(**params: Any) -> Any:
            self.calls.append((name, params))
            return copy.deepcopy(value)

        return handle


@pytest.fixture
def spec_host() -> Iterator[SpecHost]:
    with SpecHost() as host:
        yield host


@pytest.fixture(scope="session")
def shared_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One execution venv for every registry test (building one per home costs ~1 s)."""
    from aibroker.sandbox import ensure_environment

    home = tmp_path_factory.mktemp("registry-venv")
    return ensure_environment(home).root


@pytest.fixture
def registry_settings(aibroker_home: Path, short_tmp_dir: Path, shared_venv: Path) -> Settings:
    """Settings for a fresh registry home whose execution venv is the shared one.

    mypy is off here (it is slow and has its own test); sockets go in a short directory.
    """
    (aibroker_home / "python").symlink_to(shared_venv)
    sockets = short_tmp_dir / "sockets"
    sockets.mkdir()
    return Settings(
        home=aibroker_home,
        sockets_dir=sockets,
        discover_timeout=2.0,
        registry_verify_mypy=False,
    )


def cli_command(*args: str) -> list[str]:
    """The ``aibroker`` CLI run by this interpreter."""
    return [sys.executable, "-c", "from aibroker.cli import main; main()", *args]


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a CLI subprocess use ``settings``."""
    return {
        **os.environ,
        "AIBROKER_HOME": str(settings.home),
        "AIBROKER_SOCKETS_DIR": str(settings.sockets_dir),
        "AIBROKER_DISCOVER_TIMEOUT": str(settings.discover_timeout),
        "AIBROKER_REGISTRY_VERIFY_MYPY": "true" if settings.registry_verify_mypy else "false",
        "COLUMNS": "200",
    }


def test_the_host_serves_discover_and_example_results(
    spec_host: SpecHost, short_tmp_dir: Path
) -> None:
    service = spec_host.serve(short_tmp_dir / "kv.sock", kv_document())
    with RpcClient(f"unix://{short_tmp_dir / 'kv.sock'}", timeout=5) as client:
        assert client.call("rpc.discover")["info"]["title"] == "tiny kv"
        assert client.call("get", {"key": "a"}) == "1"
        service.document["info"]["version"] = "2.0.0"
        assert client.call("rpc.discover")["info"]["version"] == "2.0.0"
    assert spec_host.calls == [("get", {"key": "a"})]
    assert json.dumps(kv_document())  # the template itself stays JSON
