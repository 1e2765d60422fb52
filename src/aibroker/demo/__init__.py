"""Real demo services: ``hero_kv``, ``hero_calendar`` and ``hero_jobs``.

Each one is a small JSON-RPC 2.0 service in the Hero style (raw unix socket, optional HTTP)
that persists to SQLite and describes itself with ``rpc.discover``: the quickstart, the
notebooks, the registry's verification and the agent's live tests all run against them.

>>> with DemoCluster(sockets_dir, state_dir) as cluster:  # doctest: +SKIP
...     cluster.sockets["hero_kv"]
"""

from __future__ import annotations

from aibroker.demo.cluster import DEMO_SERVICES, DemoCluster, Endpoints, serve_forever

__all__ = ["DEMO_SERVICES", "DemoCluster", "Endpoints", "serve_forever"]
