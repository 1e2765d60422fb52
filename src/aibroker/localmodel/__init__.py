"""The embedded local model: fetch it (``pull``), check it (``verify``), serve it (``server``).

Used when no ``AIBROKER_LLM_BASE_URL`` is configured: the broker then serves
Qwen2.5-Coder-1.5B-Instruct through llama-cpp-python's OpenAI-compatible server.
"""

from __future__ import annotations

from aibroker.localmodel.artifact import QWEN25_CODER_1_5B, ModelArtifact, model_path, models_dir
from aibroker.localmodel.errors import (
    LocalExtraMissingError,
    LocalModelError,
    LocalServerError,
    ModelDownloadError,
    ModelIntegrityError,
    ModelMissingError,
)

__all__ = [
    "QWEN25_CODER_1_5B",
    "LocalExtraMissingError",
    "LocalModelError",
    "LocalServerError",
    "ModelArtifact",
    "ModelDownloadError",
    "ModelIntegrityError",
    "ModelMissingError",
    "model_path",
    "models_dir",
]
