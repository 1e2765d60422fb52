"""An MCP stdio server over the calc world with scripted models, for the MCP client tests.

Run as ``python -m tests.mcp_stdio_server WORK_DIR``: it starts the calc service under
WORK_DIR, then serves aibroker's real MCP server on stdin/stdout until the client leaves.
Scripted replies answer two intents (generate_code, then run_intent) by adding 2 and 3.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aibroker.server.directory import CatalogDirectory
from aibroker.server.mcp_server import serve_stdio
from tests.fakes import calc_world
from tests.server_harness import adding_agent, server_settings


def main() -> None:
    work = Path(sys.argv[1])
    with calc_world(work) as world:
        agent = adding_agent(work, times=2)
        asyncio.run(
            serve_stdio(
                server_settings(work / "home"),
                CatalogDirectory(world.catalog),
                agent.graph_factory(),
                runner=agent.runner,
            )
        )


if __name__ == "__main__":
    main()
