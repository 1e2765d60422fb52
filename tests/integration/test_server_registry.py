"""The services API over the real registry and the real demo services' unix sockets.

``POST /services/register`` and ``POST /services/discover`` reach live services, publish
verified versions, and the read routes then serve what was published; a dead socket is a
clear error and leaves the registry as it was.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aibroker.demo import DemoCluster
from aibroker.server.app import create_app
from aibroker.settings import Settings
from tests.integration.test_registry_servers import (  # noqa: F401  (fixtures)
    registry_settings,
    shared_venv,
)
from tests.server_harness import LiveServer, adding_agent, live_server

DEMO = ["hero_calendar", "hero_jobs", "hero_kv"]


@pytest.fixture
def demo(registry_settings: Settings) -> Iterator[DemoCluster]:  # noqa: F811
    with DemoCluster(registry_settings.sockets_dir, registry_settings.home.parent / "state") as c:
        yield c


@pytest.fixture
def server(registry_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:  # noqa: F811
    """The production app over the on-disk registry (only the chat models are scripted)."""
    settings = registry_settings.model_copy(update={"server_heartbeat_s": 0.5})
    app = create_app(settings, graph_factory=adding_agent(tmp_path).graph_factory())
    with live_server(app) as running:
        yield running


def dead_socket(directory: Path) -> Path:
    """A socket file nobody listens on (its server is gone): connecting is refused."""
    path = directory / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()
    return path


def test_register_a_live_socket_then_read_it_back(
    demo: DemoCluster, server: LiveServer, short_tmp_dir: Path
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=120) as http:
        assert http.get("/services").json() == []
        registered = http.post("/services/register", json={"source": str(demo.sockets["hero_kv"])})
        assert registered.status_code == 200, registered.text
        outcome = registered.json()
        assert outcome["name"] == "hero_kv"
        assert outcome["result"] == "new"
        assert outcome["methods"] > 3

        summary = http.get("/services/hero_kv").json()
        assert summary["status"] == "ok"
        assert summary["version"] == outcome["version"]
        assert {"get", "set", "list_keys"} <= set(summary["method_names"])
        interface = http.get("/services/hero_kv/interface")
        assert interface.headers["content-type"].startswith("text/plain")
        assert "def list_keys(" in interface.text
        client = http.get("/services/hero_kv/client").text
        assert "def list_keys(" in client
        compile(client, "client.py", "exec")  # the generated client is valid Python
        spec = http.get("/services/hero_kv/spec").json()
        assert spec["openrpc"].startswith("1.")
        assert {m["name"] for m in spec["methods"]} >= {"get", "set", "list_keys"}

        # A dead socket: a clear 502, and the registry keeps what it had.
        dead = dead_socket(short_tmp_dir)
        refused = http.post("/services/register", json={"source": str(dead), "name": "hero_kv"})
        assert refused.status_code == 502, refused.text
        assert str(dead) in refused.json()["detail"]
        assert "running" in refused.json()["hint"]
        assert [s["name"] for s in http.get("/services").json()] == ["hero_kv"]
        assert http.get("/services/hero_kv").json()["version"] == outcome["version"]
        assert http.get("/services/hero_kv/interface").text == interface.text

        # Discovery over the demo's sockets directory finds the other two; kv is unchanged.
        discovered = http.post("/services/discover", json={"sockets_dir": str(demo.sockets_dir)})
        assert discovered.status_code == 200, discovered.text
        results = {o["name"]: o["result"] for o in discovered.json()}
        assert results == {"hero_calendar": "new", "hero_jobs": "new", "hero_kv": "unchanged"}
        assert [s["name"] for s in http.get("/services").json()] == DEMO
        card = http.get("/.well-known/agent-card.json").json()
        assert [skill["id"] for skill in card["skills"]][1:] == [f"service:{n}" for n in DEMO]


def test_register_an_unusable_file_is_a_422(server: LiveServer, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"openrpc": "1.2.6"}', encoding="utf-8")
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        refused = http.post("/services/register", json={"source": str(bogus)})
        assert refused.status_code == 422, refused.text
        assert "could not register" in refused.json()["detail"]
        assert "OpenRPC document" in refused.json()["hint"]
        assert http.get("/services").json() == []
