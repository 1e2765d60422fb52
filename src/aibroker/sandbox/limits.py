"""Resource limits for one script, applied with ``setrlimit`` before the interpreter starts.

Limits are per process (a child inherits them but gets its own budget), except the process
count, which covers exactly this run's processes: the bootstrap applies it after moving the
script to a run-unique real uid (as root) or inside its own user namespace (unprivileged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one script may consume; ``None`` for cpu_seconds means "derive from the timeout"."""

    cpu_seconds: int | None = None
    memory_bytes: int = 1024 * MIB
    file_size_bytes: int = 64 * MIB
    open_files: int = 256
    processes: int = 64
    output_bytes: int = 64 * 1024
    # Past this many bytes on one stream the script is killed (killed_by="output") instead of
    # drained: draining a 1 GB print would cost seconds; the cap alone keeps memory bounded.
    output_kill_bytes: int = 8 * MIB

    @classmethod
    def from_settings(cls, *, memory_mb: int, output_bytes: int) -> Limits:
        """Limits with the settings' memory and output caps, other fields at their defaults."""
        return cls(memory_bytes=memory_mb * MIB, output_bytes=output_bytes)

    def cpu_for(self, timeout: float) -> int:
        """CPU seconds: explicit, or the wall-clock timeout rounded up (plus one for start-up)."""
        if self.cpu_seconds is not None:
            return max(1, self.cpu_seconds)
        return max(1, math.ceil(timeout) + 1)


def bootstrap_limits_arg(limits: Limits, timeout: float, *, processes: bool) -> str:
    """The limits as the bootstrap's ``cpu:as:fsize:nofile:nproc`` argument (0: unchanged).

    The bootstrap applies them itself, as the first thing in the sandboxed process, rather
    than a ``preexec_fn`` in the broker: ``preexec_fn`` is unsafe in a multi-threaded parent,
    and the process limit must be set *after* the uid switch to count the right processes.
    ``processes=False`` leaves RLIMIT_NPROC alone (no uid switch and no user namespace: the
    limit would count every process of the broker's uid).
    """
    values = (
        limits.cpu_for(timeout),
        limits.memory_bytes,
        limits.file_size_bytes,
        limits.open_files,
        limits.processes if processes else 0,
    )
    return ":".join(str(max(0, value)) for value in values)
