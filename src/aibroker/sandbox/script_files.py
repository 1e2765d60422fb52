"""Reading the files a script leaves behind: its result, its failure record, its call journal.

The script runs in the run's temp directory and can write anything there, including a
symlink to a file the broker may read but the script may not (``/etc/shadow``) in place of
``.result.json``, or a FIFO that blocks a reader forever. So these files are read as
untrusted input: no symlink is followed, only regular files are read, never more than a cap.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from aibroker.rpc.journal import MAX_BYTES, MAX_ENTRIES, TRUNCATED_KEY

RESULT_MAX_BYTES = 16 * 1024 * 1024
"""A result larger than this is refused (a script should return data, not a dump)."""


class UnsafeScriptFile(ValueError):
    """The file is a symlink, a FIFO or something else than a regular file, or too large."""


def read_script_file(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` (``None`` when the script wrote no such file).

    Raises :class:`UnsafeScriptFile` when it is not a regular file or holds more than
    ``limit`` bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink planted in its place
        raise UnsafeScriptFile(f"{path.name} is not a regular file ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeScriptFile(f"{path.name} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeScriptFile(f"{path.name} holds more than {limit} bytes")
    return data


def read_journal(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The calls in a journal (:mod:`aibroker.rpc.journal`), in order, and whether it was cut
    off at its cap. A missing or unsafe file is an empty journal; a line that does not parse
    (a script killed in the middle of a write) is skipped."""
    try:
        data = read_script_file(path, MAX_BYTES + 1024) or b""
    except UnsafeScriptFile:
        return [], False
    calls: list[dict[str, Any]] = []
    truncated = False
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        if entry.get(TRUNCATED_KEY) is True or len(calls) >= MAX_ENTRIES:
            truncated = True
        elif isinstance(entry.get("service"), str) and isinstance(entry.get("method"), str):
            service, method = entry["service"], entry["method"]
            calls.append({"service": service, "method": method, "params": entry.get("params")})
    return calls, truncated
