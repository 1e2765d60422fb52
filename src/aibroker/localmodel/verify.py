"""Integrity checks of the model file, with the verdict cached in a sidecar file.

Hashing 1.1 GB costs seconds on every start; the sidecar ``<file>.verified.json``
remembers that a file of this exact size and mtime had the right SHA-256, so later
checks cost one ``stat``. Any change to the file (size or mtime) invalidates it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from aibroker.localmodel.artifact import ModelArtifact

CHUNK = 1024 * 1024


def sidecar_path(path: Path) -> Path:
    """The verification cache beside ``path``."""
    return path.with_name(path.name + ".verified.json")


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex SHA-256 of a file, reading it in 1 MiB chunks (``on_bytes`` sees each chunk)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest()


def _fingerprint(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def record_verified(path: Path, artifact: ModelArtifact) -> None:
    """Remember that ``path`` (as it is now) holds exactly ``artifact``."""
    entry = {**_fingerprint(path), "sha256": artifact.sha256}
    sidecar_path(path).write_text(json.dumps(entry, sort_keys=True) + "\n", encoding="utf-8")


def cached_verified(path: Path, artifact: ModelArtifact) -> bool:
    """True when the sidecar vouches for the file as it is now (no hashing)."""
    sidecar = sidecar_path(path)
    if not path.is_file() or not sidecar.is_file():
        return False
    try:
        entry = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False  # an unreadable cache only means we hash again
    return bool(
        isinstance(entry, dict)
        and entry == {**_fingerprint(path), "sha256": artifact.sha256}
        and entry["size"] == artifact.size
    )


def verify_file(
    path: Path, artifact: ModelArtifact, on_bytes: Callable[[int], None] | None = None
) -> bool:
    """True when ``path`` has the artifact's size and SHA-256; caches a positive verdict."""
    if not path.is_file() or path.stat().st_size != artifact.size:
        return False
    if cached_verified(path, artifact):
        return True
    if sha256_file(path, on_bytes) != artifact.sha256:
        return False
    record_verified(path, artifact)
    return True
