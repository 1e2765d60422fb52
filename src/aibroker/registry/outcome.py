"""What happened to one source during discovery, registration or a watch cycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Result = Literal["new", "updated", "unchanged", "failed", "gone"]


@dataclass(frozen=True)
class Outcome:
    """One source's result: ``new`` / ``updated`` (a version was published), ``unchanged``
    (same spec hash: nothing regenerated), ``failed`` (nothing published; ``error`` says
    why) or ``gone`` (a registered source that no longer exists)."""

    source: str
    result: Result
    name: str | None = None
    version: int | None = None
    """The live version after this outcome (the new one when published)."""
    previous: int | None = None
    """The live version before (``None`` for a new service)."""
    failed_version: int | None = None
    """A version kept aside because verification failed."""
    methods: int | None = None
    error: str | None = None
    duration_s: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def version_label(self) -> str | None:
        return None if self.version is None else f"v{self.version}"

    @property
    def changed(self) -> bool:
        return self.result in ("new", "updated")

    def describe(self) -> str:
        """One log line: ``hero_kv: updated v2→v3``, ``x: failed: reason``…"""
        who = self.name or self.source
        if self.result == "updated":
            return f"{who}: updated v{self.previous}→v{self.version}"
        if self.result == "new":
            return f"{who}: new v{self.version}"
        if self.result == "unchanged":
            return f"{who}: unchanged v{self.version}"
        if self.result == "gone":
            return f"{who}: gone ({self.source})"
        return f"{who}: failed: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "result": self.result,
            "version": self.version_label,
            "previous": None if self.previous is None else f"v{self.previous}",
            "failed_version": None if self.failed_version is None else f"v{self.failed_version}",
            "methods": self.methods,
            "error": self.error,
            "duration_s": round(self.duration_s, 4),
            "warnings": list(self.warnings),
        }
