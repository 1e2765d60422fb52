"""The first code that runs inside the sandbox; copied into the managed venv, never imported.

Usage (by the runner only)::

    python -I -u -B -X utf8 _aibroker_bootstrap.py FAILURE_FILE LIMITS RUN_UID EXTRA_PATHS SCRIPT

1. When started as root with ``RUN_UID >= 0`` it moves the process to a run-unique *real and
   effective* uid while keeping the *filesystem* uid 0 and dropping every capability
   (:func:`_drop_root`). Root's processes are exempt from RLIMIT_NPROC; a fresh uid makes the
   process limit count exactly this run's processes (the fork-bomb guard), signals reach
   only this run's processes, and ``setresuid`` back to 0 is impossible (0 is none of the
   three uids any more). File access keeps working because it is checked with the fsuid.
2. It lowers the rlimits given as ``cpu:as:fsize:nofile:nproc`` (0: leave that one alone);
   hard limits too, and without CAP_SYS_RESOURCE nothing can raise them again.
3. It compiles and runs ``SCRIPT`` as ``__main__``, named by its file name alone (the run's
   temporary directory is the working directory), so tracebacks say ``File "script.py"``. An
   uncaught exception becomes a JSON failure record in ``FAILURE_FILE`` (JSON-RPC errors with
   service, method, params, code and data; the traceback through the script's own lines)
   that the runner turns into a ``ScriptFailure``; the full traceback still goes to stderr.

Standard library only, and imports are lazy: this runs on every script, so its start-up time
is the sandbox's overhead.
"""

from __future__ import annotations

import os
import sys
from typing import Any

SANDBOX_SETUP_EXIT = 70  # EX_SOFTWARE: the sandbox itself could not be set up
_TAIL_LINES = 25
_TAIL_CHARS = 4000
_MESSAGE_CHARS = 2000

_PR_CAPBSET_DROP = 24
_PR_SET_KEEPCAPS = 8
_PR_SET_NO_NEW_PRIVS = 38
_CAP_SETUID = 7  # also what setfsuid() needs to pick an arbitrary fsuid
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _drop_root(run_uid: int) -> None:
    """Become ``run_uid`` (real, effective, saved) with fsuid 0 and no capabilities at all."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class _CapHeader(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    class _CapData(ctypes.Structure):
        _fields_ = (
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        )

    def check(result: int, what: str) -> None:
        if result == -1:
            raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")

    def capset(mask: int) -> None:
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = mask
        check(libc.capset(ctypes.byref(header), data), "capset")

    check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as handle:
        last_cap = int(handle.read())
    for cap in range(last_cap + 1):
        check(libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(CAPBSET_DROP, {cap})")
    check(libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(KEEPCAPS)")
    os.setresuid(run_uid, run_uid, run_uid)
    capset(1 << _CAP_SETUID)
    libc.setfsuid(0)
    capset(0)
    check(libc.prctl(_PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(KEEPCAPS off)")
    if os.getresuid() != (run_uid, run_uid, run_uid) or libc.setfsuid(-1) != 0:
        raise OSError(f"uid switch did not take: resuid={os.getresuid()}")


def _set_limits(spec: str) -> None:
    import resource

    names = ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, text in zip(names, spec.split(":"), strict=True):
        value = int(text)
        if value > 0:
            which = getattr(resource, name)
            ceiling = resource.getrlimit(which)[1]
            # CPU: SIGXCPU at the soft limit, SIGKILL one second later if it is ignored.
            hard = value + 1 if name == "RLIMIT_CPU" else value
            if ceiling != resource.RLIM_INFINITY:
                value, hard = min(value, ceiling), min(hard, ceiling)
            resource.setrlimit(which, (value, hard))


def _write_record(path: str, record: dict[str, Any]) -> None:
    import json

    text = json.dumps(record, default=repr, ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _classify(exc: BaseException) -> tuple[str, str | None]:
    """(kind, limit) for an uncaught exception; limit names the rlimit that was hit."""
    import errno

    rpc_errors = sys.modules.get("aibroker.rpc.errors")
    if rpc_errors is not None:
        if isinstance(exc, rpc_errors.JsonRpcError):
            return "jsonrpc_error", None
        if isinstance(exc, rpc_errors.RpcTimeout):
            return "rpc_timeout", None
        if isinstance(exc, rpc_errors.TransportError):
            return "transport_error", None
    if isinstance(exc, MemoryError):
        return "limit", "memory"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return "limit", "file_size"
    if isinstance(exc, OSError) and exc.errno == errno.EMFILE:
        return "limit", "open_files"
    if isinstance(exc, ImportError):
        return "import_error", None
    return "exception", None


def _script_traceback(exc: BaseException, script_name: str) -> str:
    """Where the script failed: the traceback through its own lines only.

    Frames inside the clients and the runtime are nothing the script's author can change,
    and their paths (the venv's) are noise in the repair prompt; the exception itself is in
    the record's message and type. A failure outside the script keeps its last frame.
    """
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if frame.filename == script_name] or frames[-1:]
    lines = "".join(traceback.format_list(own)).splitlines()
    return "\n".join(lines[-_TAIL_LINES:])[-_TAIL_CHARS:]


def _exception_record(exc: BaseException, script_name: str) -> dict[str, Any]:
    kind, limit = _classify(exc)
    record: dict[str, Any] = {
        "kind": kind,
        "limit": limit,
        "exception_type": _qualified_name(type(exc)),
        "message": str(exc)[:_MESSAGE_CHARS],
        "traceback_tail": _script_traceback(exc, script_name),
    }
    if kind == "jsonrpc_error":
        try:
            details = exc.to_dict()  # type: ignore[attr-defined]
        except Exception as dump_error:  # the record must still be written
            record["message"] += f" (to_dict failed: {dump_error!r})"
        else:
            for key in ("service", "method", "params", "code", "data", "message"):
                record[key] = details.get(key)
    elif kind in ("rpc_timeout", "transport_error"):
        record["method"] = getattr(exc, "method", None)
    return record


def _qualified_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def main(argv: list[str]) -> int:
    """Set up the process, run the script; the return value is the process exit status."""
    failure_file, limits, run_uid, extra_paths, script = argv[1:6]
    try:
        if int(run_uid) >= 0:
            _drop_root(int(run_uid))
        _set_limits(limits)
    except (OSError, ValueError) as exc:
        _write_record(failure_file, {"kind": "sandbox", "message": f"sandbox set-up: {exc}"})
        return SANDBOX_SETUP_EXIT
    if extra_paths:
        sys.path.extend(extra_paths.split(os.pathsep))
    with open(script, "rb") as handle:
        source = handle.read()
    script_name = os.path.basename(script)  # the same on every run: prompts quote tracebacks
    try:
        code = compile(source, script_name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        tail = "".join(_format_only(exc))
        record = {
            "kind": "syntax",
            "exception_type": type(exc).__name__,
            "message": str(exc)[:_MESSAGE_CHARS],
            "line": getattr(exc, "lineno", None),
            "column": getattr(exc, "offset", None),
            "traceback_tail": tail,
        }
        _write_record(failure_file, record)
        sys.stderr.write(tail)
        return 1
    main_pid = os.getpid()
    module = type(sys)("__main__")
    module.__file__ = script
    sys.modules["__main__"] = module
    sys.argv = [script]
    try:
        exec(code, module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        # Skip this bootstrap's own frame so the tail starts in the script.
        exc.__traceback__ = exc.__traceback__.tb_next if exc.__traceback__ else None
        if os.getpid() == main_pid:  # a forked child's failure is not the script's failure
            _write_record(failure_file, _exception_record(exc, script_name))
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
        return 1
    return 0


def _format_only(exc: BaseException) -> list[str]:
    import traceback

    return traceback.format_exception_only(type(exc), exc)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
