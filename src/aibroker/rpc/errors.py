"""The errors of the JSON-RPC runtime: one hierarchy, rooted in :class:`AibrokerError`.

Two families, because callers react to them differently:

* :class:`TransportError` — the call never produced a JSON-RPC answer (no service, no reply
  in time, bytes that are not JSON-RPC, a bad endpoint). Retrying or fixing the deployment
  may help; changing the call will not.
* :class:`JsonRpcError` — the service answered with a JSON-RPC error object. The code says
  what was wrong with the call; generated clients map spec-declared codes to subclasses.

Messages are written for people *and* for the language model that repairs scripts:
``str(error)`` names the service, method, code, message and data in one line.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from aibroker.errors import AibrokerError

_DATA_PREVIEW_CHARS = 300


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON data (pydantic models dumped, unknown objects as str)."""
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: dump pydantic models by alias, sets/tuples as lists, else str."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class RpcError(AibrokerError):
    """Root of every error raised by :mod:`aibroker.rpc`."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description, so a sandboxed script can report the failure upstream."""
        return {"type": type(self).__name__, "message": self.message, "hint": self.hint}


class TransportError(RpcError):
    """The call produced no JSON-RPC answer: connection, deadline, framing or endpoint trouble."""


class ConnectError(TransportError):
    """The endpoint could not be reached (connection refused, no such socket, no permission)."""


class RpcTimeout(TransportError):
    """The per-call deadline passed before the reply was complete."""

    def __init__(
        self, message: str, *, method: str, timeout: float, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.timeout = timeout


class ProtocolError(TransportError):
    """The peer's bytes were not a usable JSON-RPC reply (garbage, truncated, oversized, ...)."""


class EndpointError(TransportError):
    """The endpoint string is missing or malformed."""


class JsonRpcError(RpcError):
    """The service answered a call with a JSON-RPC error object.

    Subclasses fix ``code`` as a class attribute (the standard ones below, and the classes a
    generated client declares for its spec's ``errors``); the instance attribute always holds
    the code the server actually sent.
    """

    code: int = 0
    default_hint: ClassVar[str | None] = None

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        *,
        method: str | None = None,
        params: Any = None,
        service: str | None = None,
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.error_message = message
        self.data = data
        self.method = method
        self.params = params
        self.service = service
        self.endpoint = endpoint
        super().__init__(self._summary(), hint=hint if hint is not None else self.default_hint)
        # ``message`` is the server's message (what to_dict reports); str() gives the summary.
        self.message = message

    def _summary(self) -> str:
        where = ".".join(part for part in (self.service, self.method) if part) or "call"
        text = f"{where} failed with JSON-RPC error {self.code} {self.error_message!r}"
        if self.data is not None:
            data = json.dumps(self.data, default=json_default, ensure_ascii=False)
            if len(data) > _DATA_PREVIEW_CHARS:
                data = data[:_DATA_PREVIEW_CHARS] + "…"
            text += f" data={data}"
        return text

    def __str__(self) -> str:
        summary = self._summary()
        return f"{summary} ({self.hint})" if self.hint else summary

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through ``args``; keyword-only fields need the instance dict too.
        return (type(self), (self.code, self.error_message, self.data), dict(self.__dict__))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields for the repair loop: service, method, params, code, message, data."""
        return {
            "type": type(self).__name__,
            "service": self.service,
            "method": self.method,
            "params": json_safe(self.params),
            "code": self.code,
            "message": self.error_message,
            "data": json_safe(self.data),
        }


class ParseError(JsonRpcError):
    """-32700: the server could not parse the request as JSON."""

    code = -32700
    default_hint = "the request was not valid JSON; this is a client bug, please report it"


class InvalidRequest(JsonRpcError):
    """-32600: the request was JSON but not a valid JSON-RPC request object."""

    code = -32600
    default_hint = "the server rejected the request envelope (batches may be unsupported)"


class MethodNotFound(JsonRpcError):
    """-32601: the service has no method of that name."""

    code = -32601
    default_hint = "check the method name against the service's interface"


class InvalidParams(JsonRpcError):
    """-32602: the method exists but rejected the parameters."""

    code = -32602
    default_hint = "check parameter names, types and required fields against the method's signature"


class InternalError(JsonRpcError):
    """-32603: the server failed while handling an otherwise valid call."""

    code = -32603


STANDARD_ERRORS: dict[int, type[JsonRpcError]] = {
    cls.code: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError)
}
