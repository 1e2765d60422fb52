"""A journal of the calls a script made that succeeded, so a retry does not repeat them.

A generated script that fails half-way has already changed the services: one that submitted
ten jobs in a loop and then died on a later line leaves ten jobs behind, and a retry that
does not know submits ten more. So every call that succeeded through a generated client
(:class:`~aibroker.rpc.service.ServiceClient` and its asyncio twin) appends one JSON line
``{"service": …, "method": …, "params": …}`` to the file named by ``AIBROKER_CALL_LOG``,
which the sandbox sets; the runner reads it back
(:func:`aibroker.sandbox.script_files.read_journal`) and the retry prompt says what is done.

Each line is written and flushed on its own (the file is opened in append mode per call),
because the script may be killed at any moment and what was written must stay readable. The
file is capped (:data:`MAX_ENTRIES` lines, :data:`MAX_BYTES`) so a runaway loop cannot fill
the disk; past the cap one ``{"truncated": true}`` line is written and nothing more. Failed
calls are not journaled: the failure record already reports them. Without the variable a
call costs one environment lookup. Like the rest of :mod:`aibroker.rpc`, only the standard
library is used: this module is copied into the sandbox venv.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

CALL_LOG_ENV = "AIBROKER_CALL_LOG"
MAX_ENTRIES = 1000
"""Calls journaled per file; later ones are only counted as "truncated"."""
MAX_BYTES = 256 * 1024
"""Size of the journal past which nothing more is written."""
MAX_PARAMS_CHARS = 4000
"""Params longer than this (as JSON) are journaled as a cut JSON string."""
TRUNCATED_KEY = "truncated"

_lock = threading.Lock()
_entries: dict[str, int] = {}  # lines this process wrote, per journal
_full: set[str] = set()  # journals this process stopped writing (cap reached, or unwritable)


def record_call(service: str, method: str, params: Any) -> None:
    """Append one successful call to ``$AIBROKER_CALL_LOG``; never raises, never blocks long."""
    path = os.environ.get(CALL_LOG_ENV)
    if not path or path in _full:
        return
    try:
        line = _line(service, method, params)
    except (TypeError, ValueError):  # params that are not JSON (a circular structure)
        line = _line(service, method, "<params not JSON-serialisable>")
    with _lock:
        try:
            with open(path, "ab") as handle:  # closed, so flushed, after every call
                entries = _entries.get(path, 0)
                # tell() is the file's size (append mode): it counts every process's lines.
                if entries >= MAX_ENTRIES or handle.tell() + len(line) > MAX_BYTES:
                    handle.write(b'{"truncated":true}\n')
                    _full.add(path)
                    return
                handle.write(line)
                _entries[path] = entries + 1
        except OSError:
            _full.add(path)  # a journal that cannot be written must not break the script


def _line(service: str, method: str, params: Any) -> bytes:
    """One journal line, params cut to :data:`MAX_PARAMS_CHARS` (then kept as a string)."""
    text = json.dumps(params, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(text) > MAX_PARAMS_CHARS:
        params = text[:MAX_PARAMS_CHARS] + "…"
    entry = {"service": service, "method": method, "params": params}
    text = json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"
