"""JSON-RPC 2.0 messages without I/O: requests out, replies matched by id, errors typed.

Every transport shares this module, so the sync and async clients over HTTP and raw Unix
sockets agree on what a valid reply is and which exception a reply turns into.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from aibroker.rpc.errors import (
    STANDARD_ERRORS,
    JsonRpcError,
    ProtocolError,
    RpcError,
    RpcTimeout,
    json_default,
)

RequestId = int
Params = list[Any] | dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a client knows about its service, recorded on every error it raises."""

    endpoint: str
    service: str | None = None
    errors: Mapping[int, type[JsonRpcError]] = field(default_factory=dict)

    def where(self, method: str) -> str:
        """``service.method`` (or just the method) for messages."""
        return f"{self.service}.{method}" if self.service else method


class Deadline:
    """The absolute time by which one call (connect, send and receive) must be done."""

    def __init__(self, seconds: float, *, method: str, context: CallContext) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.method = method
        self.context = context
        self.where = context.where(method)

    def remaining(self, detail: Callable[[], str] | None = None) -> float:
        """Seconds left; raises :class:`RpcTimeout` (noting ``detail()``) once none are."""
        left = self.expires - time.monotonic()
        if left <= 0:
            raise self.expired(detail() if detail else "")
        return left

    def expired(self, detail: str = "") -> RpcTimeout:
        """The timeout error for this call, with an optional note on what was received."""
        note = f"; {detail}" if detail else ""
        return RpcTimeout(
            f"{self.where}: no complete reply within {self.seconds:g} s from "
            f"{self.context.endpoint}{note}",
            method=self.method,
            timeout=self.seconds,
            hint="the service may be overloaded or stuck; retry with a larger timeout= "
            "or check the service's health",
        )


def normalize_params(method: str, params: Any) -> Params:
    """Accept list/tuple (by position), dict or pydantic model (by name), or None."""
    if params is None or isinstance(params, list | dict):
        return params
    if isinstance(params, tuple):
        return list(params)
    dump = getattr(params, "model_dump", None)
    if callable(dump):
        dumped = dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(dumped, dict):
            return dumped
    raise RpcError(
        f"params for {method} must be a list (by position) or a dict (by name), "
        f"got {type(params).__name__}",
        hint="pass params=[...] or params={...}",
    )


def request_object(method: str, params: Params, request_id: RequestId | None) -> dict[str, Any]:
    """One JSON-RPC request; ``request_id=None`` makes it a notification (no ``id`` member)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if request_id is not None:
        message["id"] = request_id
    return message


def encode(message: Any, *, what: str) -> bytes:
    """Serialise a request (or batch) to UTF-8 JSON; unserialisable params are a usage error."""
    try:
        return json.dumps(
            message, default=json_default, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RpcError(
            f"params for {what} cannot be encoded as JSON: {exc}",
            hint="pass only JSON data (str, int, float, bool, None, list, dict) or pydantic models",
        ) from exc


def _id_key(value: Any) -> str | None:
    """Ids compare by their text, tolerating servers that echo ``1`` as ``"1"``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value)


class ReplyCollector:
    """Gathers the replies to a set of request ids from whatever values the peer sends.

    Values with other ids (stray replies, server-side notifications) are skipped. A reply
    with a null id carrying an error means the server rejected the request as a whole
    (parse error, invalid request) and ends the wait — unless ``ignore_null_id`` is set
    because notifications were sent on this connection and some servers answer those.
    """

    def __init__(
        self, expected: Collection[RequestId], *, ignore_null_id: bool, context: CallContext
    ) -> None:
        self._wanted = {str(request_id): request_id for request_id in expected}
        self._ignore_null_id = ignore_null_id
        self._context = context
        self.replies: dict[RequestId, dict[str, Any]] = {}
        self.rejection: dict[str, Any] | None = None
        self.skipped = 0

    @property
    def done(self) -> bool:
        """True once every expected reply, or a whole-request rejection, has arrived."""
        return self.rejection is not None or len(self.replies) == len(self._wanted)

    def missing(self) -> list[RequestId]:
        """The expected ids still without a reply."""
        return [rid for rid in self._wanted.values() if rid not in self.replies]

    def offer(self, value: Any) -> None:
        """Consider one decoded JSON value (a reply object or a batch array)."""
        items = value if isinstance(value, list) else [value]
        for item in items:
            self._offer_one(item)

    def _offer_one(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise ProtocolError(
                f"{self._context.endpoint} sent a JSON {type(item).__name__} where a JSON-RPC "
                f"reply object was expected: {_preview(item)}",
                hint="the endpoint may not speak JSON-RPC 2.0; check the endpoint",
            )
        version = item.get("jsonrpc", "2.0")
        if version != "2.0":
            raise ProtocolError(
                f"{self._context.endpoint} replied with jsonrpc={version!r}, expected '2.0'",
                hint="the endpoint may speak another JSON-RPC version; check the endpoint",
            )
        if "method" in item:  # a request or notification from the server: not for us
            self.skipped += 1
            return
        key = _id_key(item.get("id"))
        if key is None:
            if "error" in item and not self._ignore_null_id and self.rejection is None:
                self.rejection = item
            else:
                self.skipped += 1
            return
        request_id = self._wanted.get(key)
        if request_id is None or request_id in self.replies:
            self.skipped += 1
            return
        self.replies[request_id] = item


def outcome(reply: dict[str, Any], *, method: str, params: Params, context: CallContext) -> Any:
    """The call's result, or the typed :class:`JsonRpcError` *instance* the reply carries."""
    error = reply.get("error")
    if error is not None:
        if not isinstance(error, dict) or isinstance(error.get("code"), bool):
            raise _bad_error_object(error, method, context)
        code = error.get("code")
        if not isinstance(code, int):
            raise _bad_error_object(error, method, context)
        message = error.get("message", "")
        error_class = context.errors.get(code) or STANDARD_ERRORS.get(code) or JsonRpcError
        return error_class(
            code,
            message if isinstance(message, str) else str(message),
            error.get("data"),
            method=method,
            params=params,
            service=context.service,
            endpoint=context.endpoint,
        )
    if "result" not in reply:
        raise ProtocolError(
            f"{context.where(method)}: reply from {context.endpoint} has neither 'result' nor "
            f"'error': {_preview(reply)}",
            hint="the service broke the JSON-RPC 2.0 reply shape; report it to its maintainers",
        )
    return reply["result"]


def _bad_error_object(error: Any, method: str, context: CallContext) -> ProtocolError:
    return ProtocolError(
        f"{context.where(method)}: reply from {context.endpoint} has a malformed error object "
        f"(needs an integer 'code'): {_preview(error)}",
        hint="the service broke the JSON-RPC 2.0 error shape; report it to its maintainers",
    )


def _preview(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"
