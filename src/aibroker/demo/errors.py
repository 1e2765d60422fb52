"""Errors of the demo services: faults sent to JSON-RPC clients, and failures to run at all.

Two kinds, kept apart on purpose. :class:`RpcFault` is an *answer*: the request was wrong
(bad params, unknown method) or hit a rule of the service (a job that cannot move to that
state); it travels back to the client as a JSON-RPC error object and the service carries on.
:class:`DemoError` means the services themselves cannot run: a socket already taken, an
unwritable state directory, a pid file pointing at someone else's process.
"""

from __future__ import annotations

from typing import Any

from aibroker.errors import AibrokerError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class DemoError(AibrokerError):
    """The demo services could not be started, run or stopped."""


class RpcFault(AibrokerError):
    """A JSON-RPC error answer: ``code``, a readable message (hint included) and ``data``.

    Service handlers raise it with one of the application codes their OpenRPC document
    declares; the dispatcher raises it with the standard codes. ``data`` must be JSON.
    """

    def __init__(
        self, code: int, message: str, *, data: Any = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.data = data

    def to_error_object(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` member for this fault."""
        error: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str, *, data: Any = None, hint: str | None = None) -> RpcFault:
    """A -32602 fault, for handlers that check what a schema cannot (e.g. a time format)."""
    return RpcFault(INVALID_PARAMS, message, data=data, hint=hint)
