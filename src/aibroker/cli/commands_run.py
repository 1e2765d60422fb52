"""CLI commands: run (filled in by the module's owner)."""

from __future__ import annotations
