"""CLI commands: generate (filled in by the module's owner)."""

from __future__ import annotations
