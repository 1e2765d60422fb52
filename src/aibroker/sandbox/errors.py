"""Errors of the sandbox: preparing the environment and refusing what a script may not do.

A script that *runs and fails* is not an error here — that is a :class:`ScriptFailure` in the
:class:`RunResult`, fed back to the model. These exceptions are for the broker's side: the
environment could not be built, or a script asked for something it is not allowed.
"""

from __future__ import annotations

from aibroker.errors import AibrokerError


class SandboxError(AibrokerError):
    """Root of the sandbox's errors."""


class EnvironmentSetupError(SandboxError):
    """The managed venv (uv venv / uv pip install / runtime copy) could not be prepared."""


class ScriptDependencyError(SandboxError):
    """A script's PEP 723 block is malformed or requests packages that are not allowed."""


class ClientLinkError(SandboxError):
    """A generated client could not be linked into (or unlinked from) the environment."""
