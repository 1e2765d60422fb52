"""Building the bubblewrap command line, and probing once whether bubblewrap works here.

The sandbox sees a *constructed* filesystem, not the host's: the system directories
(``/usr`` and the ``/bin``, ``/lib*`` links), a handful of ``/etc`` files, the interpreter's
installation, the managed venv, the registry's services directory, the allowed sockets and
its own run directory (the only writable place). Everything is read-only except the run
directory. Building it up rather than binding ``/`` and hiding parts matters because a
bind-mounted Unix socket stays connectable on a read-only mount: with ``/`` visible, every
socket on the host (docker, other services) would be reachable.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_FILES = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "localtime",
    "ssl",
    "ca-certificates",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "mime.types",
)
_probe_cache: dict[tuple[str, bool], bool] = {}


@dataclass(frozen=True)
class SandboxLayout:
    """What one run needs mounted: read-only trees, the writable run dir, sockets."""

    run_dir: Path
    read_only: tuple[Path, ...]
    sockets: tuple[Path, ...]
    share_network: bool = False


def find_bwrap() -> str | None:
    """Path of the bwrap executable, or ``None``."""
    return shutil.which("bwrap")


def is_root() -> bool:
    """Whether we run as root: decides between privileged bwrap and a user namespace."""
    return os.geteuid() == 0


def bwrap_works(bwrap: str) -> bool:
    """Run a tiny sandbox with the namespaces we use, once per process (about 5 ms)."""
    key = (bwrap, is_root())
    if key not in _probe_cache:
        command = [bwrap, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=10, check=False)
            ok = done.returncode == 0
            reason = done.stderr.decode(errors="replace").strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, reason = False, str(exc)
        if not ok:
            logger.warning("bubblewrap at %s does not work here (%s)", bwrap, reason)
        _probe_cache[key] = ok
    return _probe_cache[key]


def _namespace_args(*, share_network: bool = False) -> list[str]:
    args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"]
    args += ["--unshare-uts", "--unshare-cgroup-try"]
    if not share_network:
        args.append("--unshare-net")
    if is_root():
        # The bootstrap needs CAP_SETUID (uid switch, setfsuid) and CAP_SETPCAP (drop the
        # bounding set), then drops both; every other capability is gone from the start.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETPCAP"]
    else:
        args.append("--unshare-user")
    return args


def bwrap_command(bwrap: str, layout: SandboxLayout, argv: Sequence[str]) -> list[str]:
    """The full ``bwrap … -- argv`` command for one run."""
    command = [bwrap, *_namespace_args(share_network=layout.share_network)]
    command += ["--hostname", "aibroker-sandbox"]
    for name in SYSTEM_DIRS:
        path = Path("/") / name
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            command += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    if layout.share_network:
        command += ["--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
    for path in _outermost(layout.read_only):
        command += ["--ro-bind-try", str(path), str(path)]
    command += ["--bind", str(layout.run_dir), str(layout.run_dir)]
    for socket_path in layout.sockets:
        command += ["--bind", str(socket_path), str(socket_path)]
    command += ["--dev", "/dev", "--proc", "/proc", "--remount-ro", "/"]
    command += ["--chdir", str(layout.run_dir), "--", *argv]
    return command


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Drop paths already covered by another one in the list (and ones under /usr)."""
    unique = sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if path.is_relative_to("/usr"):
            continue
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return sorted(kept)
