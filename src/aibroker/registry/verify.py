"""Verification of a freshly generated version before it is published.

A version goes live only if every check passes; each check's outcome and duration land in
``verify.json`` beside the files, so ``aibroker versions`` can say why a version was refused.

Checks, in order:

``compile``   the client is valid Python (``compile()``), in the broker;
``import``    the client imports in the *execution venv* (a subprocess with the venv's
              python, ``-I``: exactly what scripts see), and defines its class;
``mypy``      ``mypy --strict`` passes (subprocess; verdict cached by content hash). The
              ``registry_verify_mypy`` setting can turn it off: the check is then recorded
              as ``skipped`` with that reason, never silently absent;
``discover``  when the source is live, ``rpc.discover`` round-trips through the generated
              client (its ``rpc.discover`` method if the spec lists one, else the raw
              runtime, in the same venv subprocess) and returns the document being
              published (same canonical hash; or, through a client that models the result,
              the same title and method names);
``examples``  when the source is live, the examples of *safe* methods are replayed and their
              results validated against the result schemas — the safety rule is in
              :mod:`aibroker.registry.examples`.

A check that cannot run because an earlier one failed is ``skipped`` with the reason.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from aibroker.openrpc import spec_hash as hash_of
from aibroker.openrpc.errors import SpecError
from aibroker.openrpc.model import OpenRpcDocument
from aibroker.registry import probe_script
from aibroker.registry.examples import replay_examples
from aibroker.registry.typecheck import mypy_strict

CheckStatus = Literal["passed", "failed", "skipped"]
_PROBE_TIMEOUT_S = 60.0
_TRANSPORT_ERRORS = ("ConnectError", "RpcTimeout", "TransportError", "ProtocolError")
_PROBE_SOURCE = Path(probe_script.__file__).read_text(encoding="utf-8")


@dataclass
class Check:
    """One check's outcome."""

    name: str
    status: CheckStatus
    detail: str
    duration_s: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    retryable: bool = False
    """A failure of the surroundings (a tool crashed, the service did not answer), not of
    the version: the registry tries again next time instead of remembering it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 4),
            **({"retryable": True} if self.retryable else {}),
            **self.data,
        }


@dataclass
class VerifyReport:
    """Every check of one version; ``ok`` when none failed."""

    spec_hash: str
    checks: list[Check]
    duration_s: float
    verified_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    @property
    def ok(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    @property
    def reason(self) -> str | None:
        """The first failed check, as one line (``None`` when verification passed)."""
        for check in self.checks:
            if check.status == "failed":
                return f"{check.name}: {check.detail}"
        return None

    @property
    def retryable(self) -> bool:
        """Every failure is :attr:`Check.retryable` (so a later attempt may pass)."""
        failed = [check for check in self.checks if check.status == "failed"]
        return bool(failed) and all(check.retryable for check in failed)

    def check(self, name: str) -> Check | None:
        return next((check for check in self.checks if check.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "retryable": self.retryable,
            "spec_hash": self.spec_hash,
            "verified_at": self.verified_at,
            "duration_s": round(self.duration_s, 4),
            "checks": [check.to_dict() for check in self.checks],
        }


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify: which interpreter scripts use, mypy on or off, timeouts."""

    python: Path
    """The execution venv's interpreter."""
    mypy: bool
    cache_dir: Path
    call_timeout: float


@dataclass(frozen=True)
class Candidate:
    """What is being verified: a generated client in a (temporary) version directory."""

    directory: Path
    name: str
    class_name: str
    document: OpenRpcDocument
    spec_hash: str
    endpoint: str | None
    """The live endpoint the spec came from (``None`` for files: no live checks)."""
    discover_method: str | None
    """The client's Python name for ``rpc.discover`` when the spec lists it."""


async def verify(candidate: Candidate, options: VerifyOptions) -> VerifyReport:
    """Run every check on ``candidate`` (see the module docstring)."""
    started = time.perf_counter()
    checks = [_compile(candidate.directory / "client.py")]
    if checks[0].status == "failed":
        for name in ("import", "mypy", "discover", "examples"):
            checks.append(Check(name, "skipped", "the client does not compile"))
        return VerifyReport(candidate.spec_hash, checks, time.perf_counter() - started)
    probe, typed = await asyncio.gather(
        _probe(candidate, options), _mypy(candidate.directory / "client.py", options)
    )
    import_check, discover_check = probe
    checks += [import_check, typed, discover_check]
    checks.append(await _examples(candidate, options))
    return VerifyReport(candidate.spec_hash, checks, time.perf_counter() - started)


def _compile(client: Path) -> Check:
    started = time.perf_counter()
    try:
        compile(client.read_text(encoding="utf-8"), str(client), "exec", dont_inherit=True)
    except SyntaxError as error:
        detail = f"line {error.lineno}: {error.msg}"
        return Check("compile", "failed", detail, time.perf_counter() - started)
    except (OSError, ValueError) as error:
        return Check("compile", "failed", str(error), time.perf_counter() - started)
    return Check("compile", "passed", "valid Python", time.perf_counter() - started)


async def _mypy(client: Path, options: VerifyOptions) -> Check:
    if not options.mypy:
        return Check("mypy", "skipped", "disabled by the registry_verify_mypy setting")
    verdict = await mypy_strict(client, cache_dir=options.cache_dir / "mypy")
    detail = "mypy --strict passed" if verdict.ok else verdict.output
    if verdict.cached:
        detail += " (cached verdict)"
    status: CheckStatus = "passed" if verdict.ok else "failed"
    return Check(
        "mypy", status, detail, verdict.duration_s, {"cached": verdict.cached}, verdict.retryable
    )


async def _probe(candidate: Candidate, options: VerifyOptions) -> tuple[Check, Check]:
    """The import and discover checks, both from one subprocess in the execution venv."""
    started = time.perf_counter()
    arguments = {
        "path": str(candidate.directory / "client.py"),
        "module": candidate.name,
        "class_name": candidate.class_name,
        "endpoint": candidate.endpoint,
        "discover_method": candidate.discover_method,
        "timeout": options.call_timeout,
    }
    source = _PROBE_SOURCE
    try:
        process = await asyncio.create_subprocess_exec(
            str(options.python),
            "-I",
            "-B",  # no __pycache__ inside the version directory
            "-c",
            source,
            json.dumps(arguments),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(candidate.directory),
        )
    except OSError as error:
        failed = Check("import", "failed", f"cannot start {options.python}: {error}")
        return failed, Check("discover", "skipped", "the import check could not run")
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        failed = Check(
            "import",
            "failed",
            f"the import did not finish in {_PROBE_TIMEOUT_S} s",
            retryable=True,
        )
        return failed, Check("discover", "skipped", "the import check did not finish")
    elapsed = time.perf_counter() - started
    result = _probe_result(stdout.decode("utf-8", errors="replace"))
    if result is None:
        tail = stderr.decode("utf-8", errors="replace").strip()[-1500:]
        detail = f"the probe exited {process.returncode} without a result: {tail}"
        return Check("import", "failed", detail, elapsed), Check(
            "discover", "skipped", "the import check failed"
        )
    imported = result.get("import", {})
    if not imported.get("ok"):
        detail = f"{imported.get('error')}\n{imported.get('traceback', '')}".strip()
        return Check("import", "failed", detail, elapsed), Check(
            "discover", "skipped", "the client does not import"
        )
    import_check = Check(
        "import",
        "passed",
        f"imports in {options.python.parent.parent}",
        float(imported.get("duration_s", elapsed)),
    )
    if candidate.endpoint is None:
        return import_check, Check("discover", "skipped", "the source is a file, not live")
    return import_check, _discover_check(candidate, result.get("discover", {}))


def _probe_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(probe_script.MARKER):
            value = json.loads(line.removeprefix(probe_script.MARKER))
            return value if isinstance(value, dict) else None
    return None


def _discover_check(candidate: Candidate, outcome: dict[str, Any]) -> Check:
    duration = float(outcome.get("duration_s", 0.0))
    via = str(outcome.get("via", "?"))
    if not outcome.get("ok"):
        error = str(outcome.get("error"))
        transport = error.startswith(_TRANSPORT_ERRORS)
        return Check("discover", "failed", f"via {via}: {error}", duration, retryable=transport)
    document = outcome.get("document")
    if not isinstance(document, dict):
        return Check("discover", "failed", f"via {via}: the result is not an object", duration)
    try:
        returned_hash = hash_of(document)
    except SpecError as error:
        return Check("discover", "failed", f"via {via}: {error.message}", duration)
    if returned_hash == candidate.spec_hash:
        return Check("discover", "passed", f"via {via}: same document", duration)
    expected_methods = sorted(method.name for method in candidate.document.methods)
    methods = document.get("methods")
    names = sorted(str(method.get("name")) for method in methods or [] if isinstance(method, dict))
    info = document.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    if names == expected_methods and title == candidate.document.info.title:
        return Check(
            "discover",
            "passed",
            f"via {via}: equivalent document (same title and methods)",
            duration,
        )
    return Check(
        "discover",
        "failed",
        f"via {via}: the service now serves a different document "
        f"(hash {returned_hash[:12]} instead of {candidate.spec_hash[:12]})",
        duration,
    )


async def _examples(candidate: Candidate, options: VerifyOptions) -> Check:
    if candidate.endpoint is None:
        return Check("examples", "skipped", "the source is a file, not live")
    started = time.perf_counter()
    replays = await replay_examples(
        candidate.document, candidate.endpoint, timeout=options.call_timeout
    )
    elapsed = time.perf_counter() - started
    data = {"replays": [replay.to_dict() for replay in replays]}
    failed = [replay for replay in replays if replay.status == "failed"]
    passed = sum(replay.status == "passed" for replay in replays)
    if failed:
        first = failed[0]
        detail = f"{len(failed)} example(s) failed; first: {first.method} ({first.example}): "
        retryable = all(replay.transport for replay in failed)
        return Check("examples", "failed", detail + first.detail, elapsed, data, retryable)
    if not passed:
        return Check("examples", "skipped", "no safe method has examples", elapsed, data)
    return Check("examples", "passed", f"{passed} safe example(s) replayed", elapsed, data)
