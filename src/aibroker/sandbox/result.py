"""What a run produced: :class:`RunResult`, and :class:`ScriptFailure` for the repair loop."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibroker.sandbox.script_files import RESULT_MAX_BYTES, UnsafeScriptFile, read_script_file

ISOLATION_BWRAP = "bwrap"
ISOLATION_BWRAP_NET = "bwrap+net"  # bwrap, but sharing the network for TCP services
ISOLATION_RLIMITS = "rlimits"


@dataclass(frozen=True)
class AllowedService:
    """A service a script may reach, and where (``unix:///…``, a path, or ``http(s)://…``)."""

    name: str
    endpoint: str


@dataclass(frozen=True)
class ScriptFailure:
    """Why a script failed, typed so the model can repair the call that went wrong.

    ``kind`` is one of: ``jsonrpc_error`` (the service answered with an error: service,
    method, params, code, data are set), ``transport_error`` / ``rpc_timeout`` (no answer),
    ``exception``, ``import_error``, ``syntax`` (``line``/``column`` set), ``timeout``,
    ``limit`` (``limit`` names it: memory, file_size, open_files, cpu, output), ``killed``
    (a signal), ``sandbox`` (the sandbox could not be set up), ``exit`` (non-zero exit
    without an exception).
    """

    kind: str
    message: str
    exception_type: str | None = None
    service: str | None = None
    method: str | None = None
    params: Any = None
    code: int | None = None
    data: Any = None
    traceback_tail: str = ""
    line: int | None = None
    column: int | None = None
    limit: str | None = None

    def summary(self) -> str:
        """One line for people and for the model's feedback prompt."""
        where = f" at line {self.line}" if self.line else ""
        kind = self.exception_type or self.kind
        return f"{kind}{where}: {self.message}"


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced. ``result`` is what the script passed to ``set_result``."""

    exit_code: int | None
    stdout: str
    stderr: str
    result: Any
    failure: ScriptFailure | None
    duration_s: float
    timed_out: bool
    killed_by: str | None  # "timeout" | "cpu" | "memory" | "output" | signal name
    stdout_truncated: bool
    stderr_truncated: bool
    isolation: str  # "bwrap" | "bwrap+net" | "rlimits"
    calls: list[dict[str, Any]] = field(default_factory=list)
    """The calls that succeeded, in order: ``{"service", "method", "params"}`` (RPC names).
    A failed run has already made them; the retry must not repeat them."""
    calls_truncated: bool = False
    """The journal hit its cap (:mod:`aibroker.rpc.journal`): more calls were made."""

    @property
    def ok(self) -> bool:
        """The script exited 0 and nothing went wrong."""
        return self.exit_code == 0 and self.failure is None and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (for ``aibroker exec --json`` and the graph state)."""
        data = dataclasses.asdict(self)
        data["ok"] = self.ok
        return data


def read_failure(path: Path) -> ScriptFailure | None:
    """Turn the bootstrap's JSON failure record into a :class:`ScriptFailure`."""
    try:
        data = read_script_file(path, RESULT_MAX_BYTES)
        if data is None:
            return None
        record = json.loads(data)
    except (OSError, ValueError) as exc:
        return ScriptFailure(kind="sandbox", message=f"unreadable failure record: {exc}")
    if not isinstance(record, dict):
        return ScriptFailure(kind="sandbox", message="failure record is not a JSON object")
    fields = {f.name for f in dataclasses.fields(ScriptFailure)}
    values = {key: value for key, value in record.items() if key in fields}
    values.setdefault("kind", "exception")
    values["message"] = str(values.get("message", ""))
    if not isinstance(values.get("code"), int):
        values["code"] = None
    values["traceback_tail"] = str(values.get("traceback_tail") or "")
    return ScriptFailure(**values)


def read_result(path: Path) -> tuple[Any, ScriptFailure | None]:
    """The structured result from ``AIBROKER_RESULT_FILE`` (``None`` when not set)."""
    try:
        data = read_script_file(path, RESULT_MAX_BYTES)
    except UnsafeScriptFile as exc:
        return None, ScriptFailure(kind="exception", message=f"result refused: {exc}")
    if data is None:
        return None, None
    try:
        return json.loads(data), None
    except ValueError as exc:
        return None, ScriptFailure(kind="exception", message=f"result file is not JSON: {exc}")
