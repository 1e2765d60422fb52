"""Turning one fetched spec into a published version: hash, generate, verify, switch.

The path of one source (:meth:`Publisher.publish`):

1. ``spec_hash`` of the raw document. If it equals the live version's hash, the result is
   ``unchanged`` — decided without a lock, without parsing, without writing: warm
   discovery costs one ``rpc.discover`` and one hash per service.
2. If the newest version *failed* verification with this very hash, the result is
   ``failed`` again, without redoing the work (``force=True`` retries).
3. Otherwise, under the service lock (re-checking 1 and 2 there): parse, generate, write
   every file into a hidden temporary directory, verify, write ``verify.json``, rename
   the directory to ``vN``. A passing version becomes ``current`` (atomic symlink switch)
   and its client is linked into the execution venv; a failing one stays beside the live
   version as ``failed``. Old versions beyond ``registry_keep_versions`` are pruned.

A name belongs to the first source that published under it (``services/<name>/source``);
another source wanting it is refused with :class:`NameClashError`, never overwriting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aibroker.errors import AibrokerError
from aibroker.openrpc import RawSpec, parse_document, spec_hash
from aibroker.registry.errors import NameClashError, RegistryError
from aibroker.registry.layout import (
    CURRENT,
    PIN_FILE,
    SOURCE_FILE,
    STATE_FILE,
    Layout,
    guard_write,
    read_json,
    sweep_temporaries,
    switch_symlink,
    temporary_version_dir,
    write_json_atomic,
    write_text_atomic,
)
from aibroker.registry.locking import ServiceLocks
from aibroker.registry.outcome import Outcome, Result
from aibroker.registry.sources import Source
from aibroker.registry.verify import Candidate, VerifyOptions, VerifyReport, verify
from aibroker.registry.versions import VersionInfo, list_versions, live_version, prune_versions
from aibroker.settings import Settings


def read_owner(layout: Layout, name: str) -> str | None:
    """The canonical source that owns ``name`` (``None``: the name is free)."""
    try:
        return (layout.service_dir(name) / SOURCE_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def read_pin(layout: Layout, name: str) -> int | None:
    """The version a rollback pinned ``name`` to (discovery publishes nothing while pinned)."""
    try:
        text = (layout.service_dir(name) / PIN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def write_pin(layout: Layout, name: str, number: int) -> None:
    write_text_atomic(layout.service_dir(name) / PIN_FILE, f"{number}\n")


def clear_pin(layout: Layout, name: str) -> None:
    with guard_write(layout.service_dir(name) / PIN_FILE), contextlib.suppress(FileNotFoundError):
        (layout.service_dir(name) / PIN_FILE).unlink()


def service_endpoint(source: Source, raw: RawSpec) -> str:
    """Where scripts call the service: explicit > the live source > the spec's first server."""
    if source.endpoint:
        return source.endpoint
    if raw.endpoint:
        return raw.endpoint
    servers = raw.raw.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str):
            return url
    return ""


class Publisher:
    """Publishes specs into one registry home (see the module docstring)."""

    def __init__(self, layout: Layout, settings: Settings, locks: ServiceLocks) -> None:
        self.layout = layout
        self.settings = settings
        self.locks = locks
        self._python: Path | None = None

    async def publish(
        self,
        source: Source,
        raw: RawSpec,
        name: str,
        *,
        force: bool = False,
        slots: asyncio.Semaphore | None = None,
    ) -> Outcome:
        """Bring ``name`` up to date with ``raw`` (fetched from ``source``)."""
        started = time.perf_counter()
        content_hash = spec_hash(raw.raw)
        quick = self._settled(source, name, content_hash, force=force, started=started)
        if quick is not None:
            return quick
        async with self.locks.hold(name):
            settled = self._settled(source, name, content_hash, force=force, started=started)
            if settled is not None:
                if settled.result == "unchanged":
                    self._repair_current(name, settled.version)
                return settled
            async with slots or contextlib.nullcontext():
                return await self._new_version(source, raw, name, content_hash, started)

    def _settled(
        self, source: Source, name: str, content_hash: str, *, force: bool, started: float
    ) -> Outcome | None:
        """The outcome when no new version is needed (clash, unchanged, known failure)."""
        owner = read_owner(self.layout, name)
        if owner is not None and owner != source.location:
            clash = NameClashError(name, source.location, owner)
            return Outcome(source.location, "failed", name, error=str(clash), duration_s=0.0)
        live = live_version(self.layout, name)
        elapsed = time.perf_counter() - started
        if live is not None and live.spec_hash == content_hash and not force:
            methods = live.meta.get("method_count")
            return Outcome(
                source.location,
                "unchanged",
                name,
                version=live.number,
                previous=live.number,
                methods=methods if isinstance(methods, int) else None,
                duration_s=elapsed,
            )
        if force:
            return None
        pinned = read_pin(self.layout, name)
        if live is not None and pinned is not None:
            return Outcome(
                source.location,
                "unchanged",
                name,
                version=live.number,
                previous=live.number,
                duration_s=elapsed,
                warnings=(
                    f"pinned to v{pinned} by a rollback; the source now serves another spec "
                    f"({content_hash[:12]}): `aibroker register {source.location} --force` "
                    "publishes it",
                ),
            )
        newest = next(iter(list_versions(self.layout, name)), None)
        if (
            newest is not None
            and newest.status == "failed"
            and newest.spec_hash == content_hash
            and newest.verify.get("retryable") is not True
        ):
            return Outcome(
                source.location,
                "failed",
                name,
                version=live.number if live else None,
                previous=live.number if live else None,
                failed_version=newest.number,
                error=f"this spec already failed verification as {newest.label}: "
                f"{newest.reason} (register with --force to retry)",
                duration_s=elapsed,
            )
        return None

    def _repair_current(self, name: str, number: int | None) -> None:
        """Point ``current`` at the live version when it fell back from a broken one."""
        if number is not None and self.layout.current_number(name) != number:
            switch_symlink(self.layout.service_dir(name) / CURRENT, f"v{number}")
            self._link_client(name)

    async def _new_version(
        self, source: Source, raw: RawSpec, name: str, content_hash: str, started: float
    ) -> Outcome:
        service_dir = self.layout.service_dir(name)
        previous = live_version(self.layout, name)
        # Parse and generate before touching the disk: a spec that cannot be used leaves
        # no trace, not even an empty service directory.
        parsed = await asyncio.to_thread(parse_document, raw.raw)
        endpoint = service_endpoint(source, raw)
        generated = await asyncio.to_thread(_generate, parsed.document, name, endpoint)
        with guard_write(service_dir):
            service_dir.mkdir(parents=True, exist_ok=True)
        sweep_temporaries(service_dir)
        number = self.layout.next_number(name)
        temporary = temporary_version_dir(service_dir, number)
        try:
            meta = _meta(name, number, source, endpoint, content_hash, parsed.document, generated)
            meta["warnings"] = list(parsed.warnings)
            _write_files(temporary, raw.raw, content_hash, generated)
            report = await verify(
                Candidate(
                    directory=temporary,
                    name=name,
                    class_name=generated.class_name,
                    document=parsed.document,
                    spec_hash=content_hash,
                    endpoint=raw.endpoint,
                    discover_method=dict(generated.methods).get("rpc.discover"),
                ),
                await self._verify_options(),
            )
            meta["status"] = "ok" if report.ok else "failed"
            _write_json(temporary / "verify.json", report.to_dict())
            _write_json(temporary / "meta.json", meta)
            final = self.layout.version_dir(name, number)
            with guard_write(final):
                os.rename(temporary, final)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        if read_owner(self.layout, name) is None:
            write_text_atomic(service_dir / SOURCE_FILE, source.location + "\n")
        return self._conclude(name, number, source, report, previous, generated, parsed, started)

    def _conclude(
        self,
        name: str,
        number: int,
        source: Source,
        report: VerifyReport,
        previous: VersionInfo | None,
        generated: Any,
        parsed: Any,
        started: float,
    ) -> Outcome:
        before = previous.number if previous else None
        if report.ok:
            switch_symlink(self.layout.service_dir(name) / CURRENT, f"v{number}")
            self._link_client(name)
            clear_pin(self.layout, name)
        prune_versions(self.layout, name, self.settings.registry_keep_versions)
        common: dict[str, Any] = {
            "name": name,
            "previous": before,
            "methods": int(generated.method_count),
            "duration_s": time.perf_counter() - started,
            "warnings": tuple(parsed.warnings),
        }
        if report.ok:
            result: Result = "new" if previous is None else "updated"
            return Outcome(source.location, result, version=number, **common)
        return Outcome(
            source.location,
            "failed",
            version=before,
            failed_version=number,
            error=f"verification of v{number} failed: {report.reason}",
            **common,
        )

    def _link_client(self, name: str) -> None:
        """Make ``import <name>`` in scripts resolve to ``current/client.py``."""
        from aibroker.sandbox import link_client

        clients = self.layout.home / "python" / "clients"
        with guard_write(clients):
            link_client(self.layout.home, name)

    async def _verify_options(self) -> VerifyOptions:
        if self._python is None:
            from aibroker.sandbox import ensure_environment

            environment = await asyncio.to_thread(ensure_environment, self.layout.home)
            self._python = environment.python
        return VerifyOptions(
            python=self._python,
            mypy=self.settings.registry_verify_mypy,
            cache_dir=self.layout.cache_dir,
            call_timeout=self.settings.discover_timeout,
        )


def record_state(layout: Layout, name: str, outcome: Outcome) -> None:
    """Write ``state.json`` when the service's health changes (steady discovery writes nothing).

    ``result`` is ``ok`` (new, updated or unchanged), ``failed`` or ``gone``.
    """
    service_dir = layout.service_dir(name)
    if not service_dir.is_dir():
        return
    healthy = outcome.result in ("new", "updated", "unchanged")
    state = {
        "result": "ok" if healthy else outcome.result,
        "error": outcome.error,
        "source": outcome.source,
        "version": outcome.version,
        "failed_version": outcome.failed_version,
    }
    path = service_dir / STATE_FILE
    recorded = read_json(path)
    if isinstance(recorded, dict) and {k: recorded.get(k) for k in state} == state:
        return
    write_json_atomic(path, {**state, "at": _now()})


def _generate(document: Any, name: str, endpoint: str) -> Any:
    from aibroker.codegen import generate  # type: ignore[attr-defined,unused-ignore]

    try:
        return generate(document, name=name, endpoint=endpoint or None)
    except AibrokerError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise RegistryError(
            f"the code generator failed on service {name!r}: {type(error).__name__}: {error}",
            hint="this is a code generator bug worth reporting, with the spec",
        ) from error


def _meta(
    name: str,
    number: int,
    source: Source,
    endpoint: str,
    content_hash: str,
    document: Any,
    generated: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "version": number,
        "source": source.location,
        "origin": source.origin,
        "endpoint": endpoint,
        "spec_hash": content_hash,
        "title": document.info.title,
        "info_version": document.info.version,
        "class_name": generated.class_name,
        "methods": dict(generated.methods),
        "method_count": int(generated.method_count),
        "created_at": _now(),
    }


def _write_files(directory: Path, raw: dict[str, Any], content_hash: str, generated: Any) -> None:
    files = {
        "openrpc.json": json.dumps(raw, indent=2, ensure_ascii=False) + "\n",
        "spec_hash": content_hash + "\n",
        "client.py": generated.client,
        "interface.py": generated.interface,
        "card.txt": generated.card.rstrip("\n") + "\n",
    }
    for file_name, text in files.items():
        with guard_write(directory / file_name):
            (directory / file_name).write_text(text, encoding="utf-8")


def _write_json(path: Path, value: Any) -> None:
    with guard_write(path):
        path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
