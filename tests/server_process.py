"""The real HTTP server in its own process, for tests that kill it.

``python -m tests.server_process WORK_DIR HOME PORT``: starts the calc service under
WORK_DIR and serves the app on 127.0.0.1:PORT with run history under HOME. Its scripted
agent writes a script that sleeps, so a run is reliably in progress when the test kills
the process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from aibroker.server.app import create_app
from aibroker.server.directory import CatalogDirectory
from tests.fakes import calc_world, code_reply, rerank_reply
from tests.server_harness import scripted_agent, server_settings


def main() -> None:
    work, home, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    with calc_world(work) as world:
        agent = scripted_agent(
            work,
            [rerank_reply(["calc"], intent="Sleep.")],
            [code_reply("import time\ntime.sleep(30)\n")],
        )
        app = create_app(
            server_settings(home),
            directory=CatalogDirectory(world.catalog),
            graph_factory=agent.graph_factory(),
        )
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
