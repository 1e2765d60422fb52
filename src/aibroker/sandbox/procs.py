"""Finding and killing what a run left behind, when there is no pid namespace to do it.

Under bubblewrap the run's pid namespace dies with it. Without bubblewrap, as root, every
process of a run carries the run-unique real uid the bootstrap switched to and cannot change
it back, so scanning ``/proc`` for that uid finds exactly the run's processes — including any
that left the process group with ``setsid``.
"""

from __future__ import annotations

import os
import signal


def processes_of_uid(uid: int) -> list[int]:
    """Pids whose real uid is ``uid`` (read from ``/proc/<pid>/status``)."""
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(entry.name))
                        break
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process ended while we looked: nothing to kill
    return found


def kill_uid(uid: int, *, rounds: int = 5) -> int:
    """SIGKILL every process of ``uid``; repeat while new ones appear (a fork race).

    Returns how many kill signals were sent. Only ever called with a run-unique uid.
    """
    sent = 0
    for _ in range(rounds):
        pids = processes_of_uid(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                sent += 1
            except ProcessLookupError:
                continue
    return sent


def kill_group(pgid: int) -> None:
    """SIGKILL a process group, tolerating one that is already gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
