"""Reading version directories back, checking their integrity, and choosing the live one.

A version is *good* when every file is present, ``meta.json`` and ``verify.json`` parse,
``spec_hash`` equals the canonical hash of ``openrpc.json`` (so a truncated or edited spec is
caught) and verification passed. A version that failed verification is *failed* (kept
aside, its reason in ``verify.json``); anything else is *broken* and skipped with a warning.

``current`` normally names the live version; when it names a broken or failed one (a disk
problem, a hand edit), :func:`live_version` falls back to the newest good version, so
readers keep working while the next write repairs the link.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aibroker.openrpc import spec_hash
from aibroker.openrpc.errors import SpecError
from aibroker.registry.layout import VERSION_FILES, Layout, read_json

logger = logging.getLogger(__name__)

VersionStatus = Literal["ok", "failed", "broken"]
_integrity_cache: dict[tuple[str, int, int, int, int], str | None] = {}
_INTEGRITY_CACHE_MAX = 4096


@dataclass(frozen=True)
class VersionInfo:
    """One version directory of a service, as read back from disk."""

    name: str
    number: int
    path: Path
    status: VersionStatus
    reason: str | None = None
    """Why the version is failed or broken; ``None`` when good."""
    spec_hash: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    is_current: bool = False

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (for ``aibroker versions --json``)."""
        return {
            "name": self.name,
            "version": self.label,
            "status": self.status,
            "current": self.is_current,
            "reason": self.reason,
            "spec_hash": self.spec_hash,
            "created_at": self.meta.get("created_at"),
            "methods": self.meta.get("method_count"),
            "verified_at": self.verify.get("verified_at"),
            "path": str(self.path),
        }


def read_version(layout: Layout, name: str, number: int, *, current: int | None) -> VersionInfo:
    """Read version ``number`` of ``name`` and classify it (never raises for bad content)."""
    path = layout.version_dir(name, number)
    is_current = number == current
    missing = [file for file in VERSION_FILES if not (path / file).is_file()]
    if missing:
        return VersionInfo(
            name, number, path, "broken", f"missing {', '.join(missing)}", is_current=is_current
        )
    meta = read_json(path / "meta.json")
    verify = read_json(path / "verify.json")
    if not isinstance(meta, dict) or not isinstance(verify, dict):
        bad = "meta.json" if not isinstance(meta, dict) else "verify.json"
        return VersionInfo(name, number, path, "broken", f"{bad} is not a JSON object")
    problem = integrity_problem(path)
    stored_hash = _read_hash(path)
    if problem is not None:
        return VersionInfo(
            name, number, path, "broken", problem, stored_hash, meta, verify, is_current
        )
    if verify.get("ok") is not True:
        reason = str(verify.get("reason") or "verification did not pass")
        return VersionInfo(
            name, number, path, "failed", reason, stored_hash, meta, verify, is_current
        )
    return VersionInfo(name, number, path, "ok", None, stored_hash, meta, verify, is_current)


def integrity_problem(path: Path) -> str | None:
    """What is wrong between ``spec_hash`` and ``openrpc.json`` in ``path`` (``None``: fine).

    Hashing a large spec costs tens of milliseconds, so results are cached per process,
    keyed by both files' size and modification time: an edit invalidates the entry.
    """
    spec_file, hash_file = path / "openrpc.json", path / "spec_hash"
    try:
        spec_stat, hash_stat = spec_file.stat(), hash_file.stat()
    except OSError as error:
        return f"cannot read the spec files: {error.strerror or error}"
    key = (
        str(path),
        spec_stat.st_mtime_ns,
        spec_stat.st_size,
        hash_stat.st_mtime_ns,
        hash_stat.st_size,
    )
    if key in _integrity_cache:
        return _integrity_cache[key]
    problem = _check_integrity(spec_file, hash_file)
    if len(_integrity_cache) >= _INTEGRITY_CACHE_MAX:
        _integrity_cache.clear()
    _integrity_cache[key] = problem
    return problem


def _check_integrity(spec_file: Path, hash_file: Path) -> str | None:
    stored = _read_hash(spec_file.parent)
    try:
        document = json.loads(spec_file.read_text(encoding="utf-8"))
        actual = spec_hash(document)
    except (OSError, ValueError) as error:
        return f"openrpc.json cannot be read as JSON: {error}"
    except SpecError as error:
        return f"openrpc.json cannot be hashed: {error.message}"
    if stored != actual:
        return f"spec_hash {stored or '(empty)'} does not match openrpc.json ({actual})"
    return None


def _read_hash(path: Path) -> str | None:
    try:
        return (path / "spec_hash").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def list_versions(layout: Layout, name: str) -> list[VersionInfo]:
    """Every version of ``name``, newest first, each classified."""
    current = layout.current_number(name)
    return [
        read_version(layout, name, number, current=current)
        for number in reversed(layout.version_numbers(name))
    ]


def live_version(layout: Layout, name: str) -> VersionInfo | None:
    """The version readers should use: ``current`` if good, else the newest good one.

    A fallback is logged as a warning, naming the broken version and why.
    """
    current = layout.current_number(name)
    if current is not None:
        info = read_version(layout, name, current, current=current)
        if info.ok:
            return info
        logger.warning(
            "service %s: current version v%s is %s (%s); falling back to the newest good one",
            name,
            current,
            info.status,
            info.reason,
        )
    for number in reversed(layout.version_numbers(name)):
        if number == current:
            continue
        info = read_version(layout, name, number, current=current)
        if info.ok:
            return info
        if info.status == "broken":
            logger.warning("service %s: skipping broken version v%s: %s", name, number, info.reason)
    return None


def prune_versions(layout: Layout, name: str, keep: int) -> list[int]:
    """Delete the oldest versions beyond the newest ``keep``; never the live one.

    Called with the service lock held. Returns the numbers removed.
    """
    keep = max(keep, 1)
    numbers = layout.version_numbers(name)
    current = layout.current_number(name)
    removed: list[int] = []
    for number in numbers[: max(len(numbers) - keep, 0)]:
        if number == current:
            continue
        shutil.rmtree(layout.version_dir(name, number), ignore_errors=True)
        if not os.path.exists(layout.version_dir(name, number)):
            removed.append(number)
    return removed
