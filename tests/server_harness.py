"""Start the real HTTP server for tests: uvicorn on 127.0.0.1 (a free port) in a thread.

The app is the production one from :func:`aibroker.server.app.create_app`; tests only
choose its collaborators — the calc world's catalog, scripted chat models and a real
subprocess script runner — so every request travels over a real socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from langchain_core.messages import AIMessage

from aibroker.graph.builder import build_graph
from aibroker.server.app import create_app
from aibroker.server.directory import CatalogDirectory
from aibroker.settings import Settings
from tests.fakes import CalcWorld, ScriptedChatModel, SubprocessRunner, code_reply, rerank_reply

ADD_SCRIPT = """
from aibroker.rpc import set_result
from calc import Calc

calc = Calc.connect()
total = calc.add(2, 3)
print(f"2 + 3 = {total}")
set_result(total)
"""

DIVIDE_BY_ZERO_SCRIPT = """
from calc import Calc

print(Calc.connect().divide(6, 0))
"""

SLEEP_SCRIPT = """
import time
time.sleep(60)
"""


@dataclass
class Agent:
    """The scripted models and runner behind one server's graph."""

    rerank: ScriptedChatModel
    code: ScriptedChatModel
    runner: SubprocessRunner

    def graph_factory(self) -> Any:
        def build(checkpointer: Any, catalog: Any) -> Any:
            return build_graph(
                checkpointer,
                catalog=catalog,
                rerank_model=self.rerank,
                code_model=self.code,
                runner=self.runner,
            )

        return build


def scripted_agent(tmp_path: Path, rerank: list[AIMessage], code: list[AIMessage]) -> Agent:
    return Agent(
        rerank=ScriptedChatModel(replies=rerank),
        code=ScriptedChatModel(replies=code),
        runner=SubprocessRunner(tmp_path / "runs"),
    )


def adding_agent(tmp_path: Path, times: int = 1) -> Agent:
    """An agent that answers ``times`` requests by adding 2 and 3 with the calc service."""
    return scripted_agent(
        tmp_path,
        [rerank_reply(["calc"], intent="Add 2 and 3.") for _ in range(times)],
        [code_reply(ADD_SCRIPT) for _ in range(times)],
    )


def server_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "server_heartbeat_s": 0.5, **overrides}
    return Settings(**values)


@dataclass
class LiveServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread


@contextmanager
def live_server(app: Any) -> Iterator[LiveServer]:
    """Serve ``app`` on 127.0.0.1 with a free port until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", server=server, thread=thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def calc_server(
    world: CalcWorld, agent: Agent, home: Path, **settings: Any
) -> Iterator[LiveServer]:
    """The real server over the calc world's catalog, answering with ``agent``."""
    app = create_app(
        server_settings(home, **settings),
        directory=CatalogDirectory(world.catalog),
        graph_factory=agent.graph_factory(),
    )
    with live_server(app) as running:
        yield running
