"""Errors of the embedded local model: fetching, verifying and serving it."""

from __future__ import annotations

from aibroker.errors import AibrokerError


class LocalModelError(AibrokerError):
    """Base of every local-model failure."""


class ModelDownloadError(LocalModelError):
    """The model could not be fetched (network, index, missing part, disk)."""


class ModelIntegrityError(LocalModelError):
    """Downloaded bytes do not match the expected size or SHA-256."""


class ModelMissingError(LocalModelError):
    """The model file is not on disk (or not verified) where the server needs it."""


class LocalExtraMissingError(LocalModelError):
    """llama-cpp-python (the optional ``local`` extra) is not installed."""


class LocalServerError(LocalModelError):
    """The local model server did not start or stopped answering."""
