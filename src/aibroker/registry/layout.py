"""Where the registry keeps things on disk, and the atomic primitives that keep it consistent.

::

    AIBROKER_HOME/
      services.toml                   optional: extra sources (see aibroker.registry.sources)
      locks/<name>.lock               one file lock per service (cross-process)
      cache/mypy/                     mypy results by client hash, and mypy's own cache
      services/<name>/
        current -> v3                 symlink, switched with a temporary link + os.replace
        source                        the canonical source this name belongs to
        state.json                    the last discovery outcome (unchanged, failed, gone, ...)
        pinned                        present after a rollback: discovery publishes nothing new
        v3/{openrpc.json, spec_hash, client.py, interface.py, card.txt, verify.json, meta.json}
        .v4.tmp-<pid>-<rand>/         a version being written; renamed to v4 when complete

Readers never see half-written files: every file is written to a temporary name in the same
directory and renamed, a version directory appears under its final name only once all its
files are in it, and ``current`` is replaced atomically. A crash leaves at worst a ``.tmp``
directory, which readers ignore and writers sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aibroker.registry.errors import InvalidNameError, RegistryWriteError

VERSION_FILES = (
    "openrpc.json",
    "spec_hash",
    "client.py",
    "interface.py",
    "card.txt",
    "verify.json",
    "meta.json",
)
CURRENT = "current"
SOURCE_FILE = "source"
PIN_FILE = "pinned"
STATE_FILE = "state.json"
_VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe service name, else raise :class:`InvalidNameError`.

    A service name is a directory under ``services/`` and the module scripts import, so it
    must be a lowercase Python identifier: no separators, no dots, hence no path traversal.
    """
    if not _NAME.match(name):
        raise InvalidNameError(
            f"{name!r} is not a valid service name",
            hint="use 1-64 lowercase letters, digits and underscores, not starting with a digit",
        )
    return name


@dataclass(frozen=True)
class Layout:
    """Paths of one registry home."""

    home: Path

    @property
    def services_dir(self) -> Path:
        return self.home / "services"

    @property
    def locks_dir(self) -> Path:
        return self.home / "locks"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def services_toml(self) -> Path:
        return self.home / "services.toml"

    def service_dir(self, name: str) -> Path:
        return self.services_dir / check_name(name)

    def lock_path(self, name: str) -> Path:
        return self.locks_dir / f"{check_name(name)}.lock"

    def version_dir(self, name: str, number: int) -> Path:
        return self.service_dir(name) / f"v{number}"

    def service_names(self) -> list[str]:
        """Names of every service directory (valid names only), sorted."""
        try:
            entries = list(os.scandir(self.services_dir))
        except FileNotFoundError:
            return []
        return sorted(e.name for e in entries if e.is_dir() and _NAME.match(e.name))

    def version_numbers(self, name: str) -> list[int]:
        """Numbers of the complete (renamed) version directories, ascending."""
        try:
            entries = list(os.scandir(self.service_dir(name)))
        except FileNotFoundError:
            return []
        numbers = []
        for entry in entries:
            match = _VERSION_DIR.match(entry.name)
            if match and entry.is_dir(follow_symlinks=False):
                numbers.append(int(match.group(1)))
        return sorted(numbers)

    def current_number(self, name: str) -> int | None:
        """The version ``current`` points at, or ``None`` (no link, or not a version)."""
        try:
            target = os.readlink(self.service_dir(name) / CURRENT)
        except OSError:
            return None
        match = _VERSION_DIR.match(target)
        return int(match.group(1)) if match else None

    def next_number(self, name: str) -> int:
        """The number a new version gets: one above every version ever seen (temps included)."""
        highest = max(self.version_numbers(name), default=0)
        try:
            entries = os.listdir(self.service_dir(name))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            match = re.match(r"^\.v([0-9]+)\.tmp-", entry)
            if match:
                highest = max(highest, int(match.group(1)))
        return highest + 1


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with guard_write(path):
        try:
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def write_json_atomic(path: Path, value: Any) -> None:
    """:func:`write_text_atomic` of ``value`` as indented, key-sorted JSON."""
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    """The JSON value in ``path``; ``None`` when the file is missing or not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def switch_symlink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically: a temporary symlink renamed over the old one."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.{secrets.token_hex(4)}.link")
    with guard_write(link):
        try:
            os.symlink(target, temporary)
            os.replace(temporary, link)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def temporary_version_dir(service_dir: Path, number: int) -> Path:
    """A fresh, empty temporary directory for version ``number`` (hidden from readers)."""
    path = service_dir / f".v{number}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    with guard_write(path):
        path.mkdir(parents=True)
    return path


def sweep_temporaries(service_dir: Path) -> list[Path]:
    """Remove leftover temporary directories and files of crashed writers; return them.

    Called with the service lock held, so no live writer owns them.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(service_dir))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and (".tmp" in entry.name or entry.name.endswith(".link")):
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            removed.append(path)
    return removed


@contextlib.contextmanager
def guard_write(path: Path) -> Iterator[None]:
    """Turn OS write failures into :class:`RegistryWriteError` naming the path and the cure."""
    try:
        yield
    except OSError as error:
        raise write_error(path, error) from error


def write_error(path: Path, error: OSError) -> RegistryWriteError:
    """A :class:`RegistryWriteError` for a failed write at ``path``."""
    reason = error.strerror or str(error)
    return RegistryWriteError(
        f"cannot write the registry at {path}: {reason}",
        hint="the registry home must be writable and have free space; "
        "set AIBROKER_HOME to another directory or free some space",
    )
