"""Errors of the service registry, all rooted in :class:`~aibroker.errors.AibrokerError`.

The CLI maps them to exit codes: :class:`ServiceNotFoundError` and :class:`VersionNotFoundError`
are user mistakes (exit 2), :class:`NameClashError` is a conflict the user resolves by naming
the service (exit 3), the rest are environment problems (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable

from aibroker.errors import AibrokerError


class RegistryError(AibrokerError):
    """Base of every registry error."""


class ServiceNotFoundError(RegistryError):
    """No registered service has the name asked for."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(
            f"no service named {name!r} in the registry",
            hint=f"known services: {', '.join(self.known)}"
            if self.known
            else "the registry is empty; run `aibroker discover` or `aibroker register SOURCE`",
        )


class VersionNotFoundError(RegistryError):
    """A version asked for (rollback, show) does not exist or is not usable."""


class NameClashError(RegistryError):
    """Two different sources want the same service name; the registered one keeps it."""

    def __init__(self, name: str, source: str, owner: str) -> None:
        self.name = name
        self.source = source
        self.owner = owner
        super().__init__(
            f"service name {name!r} wanted by {source} is already taken by {owner}",
            hint="register the new source under another name: "
            f"`aibroker register {source} --name OTHER`",
        )


class InvalidNameError(RegistryError):
    """A service name that cannot be a directory and Python module name."""


class RegistryWriteError(RegistryError):
    """The registry home cannot be written (read-only, full, permissions)."""
