"""CLI commands: serve, mcp, history (filled in by the module's owner)."""

from __future__ import annotations
