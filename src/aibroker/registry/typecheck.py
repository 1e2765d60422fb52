"""``mypy --strict`` on generated clients, cached by content so each client is checked once.

mypy runs as a subprocess of the broker's own interpreter (which has the typed
:mod:`aibroker.rpc` and the pinned httpx/pydantic), with an empty configuration so a
project's ``pyproject.toml`` in the working directory cannot change the verdict. Verdicts are
stored under ``cache/mypy/results/<sha256>.json``, keyed by the client's bytes and the
mypy and Python versions: registering the same client again (a rollback, a re-discovery in
another home sharing the cache) costs one file read. mypy's own incremental cache sits beside
it so the standard library and dependencies are analysed once per home.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from aibroker.registry.layout import read_json, write_json_atomic

_MAX_OUTPUT_CHARS = 4000


@dataclass(frozen=True)
class TypeCheck:
    """A mypy verdict on one client."""

    ok: bool
    output: str
    cached: bool
    duration_s: float
    retryable: bool = False
    """The failure was mypy's, not the client's (crash, timeout): not worth remembering."""


def _cache_key(source: bytes) -> str:
    try:
        mypy_version = importlib.metadata.version("mypy")
    except importlib.metadata.PackageNotFoundError:
        mypy_version = "missing"
    digest = hashlib.sha256(source)
    digest.update(f"\0mypy {mypy_version}\0python {sys.version}".encode())
    return digest.hexdigest()


async def mypy_strict(
    client_path: Path,
    *,
    cache_dir: Path,
    timeout: float = 300.0,  # noqa: ASYNC109 - bounds the subprocess, enforced inside
) -> TypeCheck:
    """Type-check ``client_path`` with ``mypy --strict`` (or reuse the cached verdict)."""
    started = time.perf_counter()
    key = _cache_key(await asyncio.to_thread(client_path.read_bytes))
    results = cache_dir / "results"
    cached = read_json(results / f"{key}.json")
    if isinstance(cached, dict) and isinstance(cached.get("ok"), bool):
        return TypeCheck(
            cached["ok"], str(cached.get("output", "")), True, time.perf_counter() - started
        )
    results.mkdir(parents=True, exist_ok=True)
    config = cache_dir / "mypy.ini"
    if not config.exists():
        config.write_text("[mypy]\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--config-file",
        str(config),
        "--cache-dir",
        str(cache_dir / "incremental"),
        "--no-error-summary",
        "--hide-error-context",
        "--no-color-output",
        str(client_path),
    ]
    # mypy processes sharing an incremental cache corrupt it (INTERNAL ERROR), so runs on
    # one cache take turns, across processes too; with a warm cache each run is short.
    lock = FileLock(str(cache_dir / "incremental.lock"), thread_local=False)
    await asyncio.to_thread(lock.acquire, timeout=timeout)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(client_path.parent),
        )
        try:
            async with asyncio.timeout(timeout):
                output, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            return TypeCheck(
                False,
                f"mypy did not finish within {timeout:.0f} s",
                False,
                time.perf_counter() - started,
                retryable=True,
            )
    finally:
        lock.release()
    text = output.decode("utf-8", errors="replace").strip()
    text = text.replace(str(client_path), client_path.name)  # the temp dir name is noise
    if process.returncode not in (0, 1):  # 2: mypy itself failed (crash, bad usage)
        return TypeCheck(
            False,
            f"mypy failed to run (exit {process.returncode}): {text[-_MAX_OUTPUT_CHARS:]}",
            False,
            time.perf_counter() - started,
            retryable=True,
        )
    verdict = TypeCheck(
        process.returncode == 0, text[-_MAX_OUTPUT_CHARS:], False, time.perf_counter() - started
    )
    write_json_atomic(results / f"{key}.json", {"ok": verdict.ok, "output": verdict.output})
    return verdict


def cached_verdict(client_source: bytes, cache_dir: Path) -> bool | None:
    """The cached verdict for a client's bytes, if any (used by tests and reports)."""
    value = read_json(cache_dir / "results" / f"{_cache_key(client_source)}.json")
    return value.get("ok") if isinstance(value, dict) else None
