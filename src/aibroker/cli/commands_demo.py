"""CLI commands: demo (filled in by the module's owner)."""

from __future__ import annotations
