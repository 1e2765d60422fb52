"""The clients generated code calls: :class:`RpcClient` (blocking) and :class:`AsyncRpcClient`.

Both share :class:`_ClientCore` for everything but I/O — request encoding, ids, deadlines,
reply interpretation and error typing — so the two flavours cannot drift apart. The
transport is picked from the endpoint kind; HTTP transports are imported only when needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from aibroker.rpc.endpoint import Endpoint
from aibroker.rpc.errors import JsonRpcError, ProtocolError, RpcError
from aibroker.rpc.protocol import (
    CallContext,
    Deadline,
    Params,
    ReplyCollector,
    RequestId,
    encode,
    normalize_params,
    outcome,
    request_object,
)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024


class SyncTransport(Protocol):
    """What :class:`RpcClient` needs from a transport."""

    def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector: ...

    def send(self, payload: bytes, deadline: Deadline) -> None: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """What :class:`AsyncRpcClient` needs from a transport."""

    async def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector: ...

    async def send(self, payload: bytes, deadline: Deadline) -> None: ...

    async def aclose(self) -> None: ...


class _Batch:
    """One batch: its ids, methods and params in call order."""

    def __init__(self, calls: list[tuple[RequestId, str, Params]]) -> None:
        self.calls = calls
        self.ids = [request_id for request_id, _, _ in calls]
        self.label = f"batch[{', '.join(method for _, method, _ in calls)}]"


class _ClientCore:
    """Everything the two clients share except I/O."""

    def __init__(
        self,
        endpoint: str | Endpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        errors: Mapping[int, type[JsonRpcError]] | None = None,
        service: str | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.parse(endpoint)
        if timeout <= 0:
            raise RpcError(f"timeout must be positive, got {timeout}", hint="pass timeout=30.0")
        if max_reply_bytes <= 0:
            raise RpcError(
                f"max_reply_bytes must be positive, got {max_reply_bytes}",
                hint="pass max_reply_bytes=64 * 1024 * 1024",
            )
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        self.context = CallContext(
            endpoint=str(self.endpoint), service=service, errors=dict(errors or {})
        )
        self._ids = itertools.count(1)
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise RpcError(
                f"{type(self).__name__} for {self.endpoint} is closed",
                hint="create a new client, or use it inside a `with` block",
            )

    def _deadline(self, what: str, timeout: float | None) -> Deadline:
        return Deadline(
            self.timeout if timeout is None else timeout, method=what, context=self.context
        )

    def _prepare_call(self, method: str, params: Any) -> tuple[RequestId, Params, bytes]:
        self._check_open()
        request_id = next(self._ids)
        normalized = normalize_params(method, params)
        payload = encode(request_object(method, normalized, request_id), what=method)
        return request_id, normalized, payload

    def _prepare_notification(self, method: str, params: Any) -> bytes:
        self._check_open()
        normalized = normalize_params(method, params)
        return encode(request_object(method, normalized, None), what=method)

    def _prepare_batch(self, calls: Sequence[tuple[str, Any]]) -> tuple[_Batch, bytes]:
        self._check_open()
        prepared: list[tuple[RequestId, str, Params]] = []
        for position, call in enumerate(calls):
            if not (isinstance(call, tuple | list) and len(call) == 2 and isinstance(call[0], str)):
                raise RpcError(
                    f"batch entry {position} must be a (method, params) pair, got {call!r}",
                    hint='pass calls like [("method_a", [1, 2]), ("method_b", {"x": 1})]',
                )
            method, params = call
            prepared.append((next(self._ids), method, normalize_params(method, params)))
        batch = _Batch(prepared)
        message = [request_object(method, params, rid) for rid, method, params in prepared]
        return batch, encode(message, what=batch.label)

    def _finish_call(
        self, collector: ReplyCollector, request_id: RequestId, method: str, params: Params
    ) -> Any:
        reply = collector.rejection or collector.replies.get(request_id)
        if reply is None:
            raise ProtocolError(
                f"{self.context.where(method)}: no reply for request id {request_id}",
                hint="the service broke JSON-RPC id matching; report it to its maintainers",
            )
        result = outcome(reply, method=method, params=params, context=self.context)
        if isinstance(result, JsonRpcError):  # decoded JSON is never one: it is the error reply
            raise result
        return result

    def _finish_batch(self, collector: ReplyCollector, batch: _Batch) -> list[Any]:
        if collector.rejection is not None:
            rejected = outcome(
                collector.rejection, method=batch.label, params=None, context=self.context
            )
            if isinstance(rejected, JsonRpcError):
                raise rejected
        results: list[Any] = []
        for request_id, method, params in batch.calls:
            reply = collector.replies.get(request_id)
            if reply is None:
                raise ProtocolError(
                    f"{self.context.where(batch.label)}: no reply for {method} "
                    f"(request id {request_id})",
                    hint="the service broke JSON-RPC id matching; report it to its maintainers",
                )
            results.append(outcome(reply, method=method, params=params, context=self.context))
        return results


class RpcClient(_ClientCore):
    """Blocking JSON-RPC 2.0 client for one endpoint; safe to share between threads."""

    def __init__(
        self,
        endpoint: str | Endpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        errors: Mapping[int, type[JsonRpcError]] | None = None,
        service: str | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        super().__init__(
            endpoint,
            timeout=timeout,
            errors=errors,
            service=service,
            max_reply_bytes=max_reply_bytes,
        )
        self._transport = _sync_transport(self.endpoint, self.context, max_reply_bytes)

    def call(self, method: str, params: Params = None, *, timeout: float | None = None) -> Any:
        """Call ``method`` and return its result; a JSON-RPC error reply is raised, typed."""
        request_id, normalized, payload = self._prepare_call(method, params)
        deadline = self._deadline(method, timeout)
        collector = self._transport.exchange(payload, (request_id,), deadline)
        return self._finish_call(collector, request_id, method, normalized)

    def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no reply expected; a reply sent anyway is ignored)."""
        payload = self._prepare_notification(method, params)
        self._transport.send(payload, self._deadline(method, None))

    def batch(
        self, calls: Sequence[tuple[str, Params]], *, timeout: float | None = None
    ) -> list[Any | JsonRpcError]:
        """Send several calls at once; results (or error instances) come back in call order."""
        if not calls:
            return []
        batch, payload = self._prepare_batch(calls)
        collector = self._transport.exchange(
            payload, batch.ids, self._deadline(batch.label, timeout)
        )
        return self._finish_batch(collector, batch)

    def close(self) -> None:
        """Close kept-open connections; the client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRpcClient(_ClientCore):
    """Asyncio JSON-RPC 2.0 client for one endpoint; concurrent calls use separate connections."""

    def __init__(
        self,
        endpoint: str | Endpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        errors: Mapping[int, type[JsonRpcError]] | None = None,
        service: str | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        super().__init__(
            endpoint,
            timeout=timeout,
            errors=errors,
            service=service,
            max_reply_bytes=max_reply_bytes,
        )
        self._transport = _async_transport(self.endpoint, self.context, max_reply_bytes)

    async def call(  # the timeout= keyword mirrors RpcClient.call (the generated API)
        self,
        method: str,
        params: Params = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any:
        """Call ``method`` and return its result; a JSON-RPC error reply is raised, typed."""
        request_id, normalized, payload = self._prepare_call(method, params)
        deadline = self._deadline(method, timeout)
        collector = await self._transport.exchange(payload, (request_id,), deadline)
        return self._finish_call(collector, request_id, method, normalized)

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no reply expected; a reply sent anyway is ignored)."""
        payload = self._prepare_notification(method, params)
        await self._transport.send(payload, self._deadline(method, None))

    async def batch(
        self,
        calls: Sequence[tuple[str, Params]],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[Any | JsonRpcError]:
        """Send several calls at once; results (or error instances) come back in call order."""
        if not calls:
            return []
        batch, payload = self._prepare_batch(calls)
        deadline = self._deadline(batch.label, timeout)
        collector = await self._transport.exchange(payload, batch.ids, deadline)
        return self._finish_batch(collector, batch)

    async def aclose(self) -> None:
        """Close kept-open connections; the client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _sync_transport(endpoint: Endpoint, context: CallContext, limit: int) -> SyncTransport:
    if endpoint.kind == "unix" and endpoint.socket_path:
        from aibroker.rpc.unix_sync import UnixTransport

        return UnixTransport(endpoint.socket_path, context=context, max_reply_bytes=limit)
    from aibroker.rpc.http import HttpTransport

    return HttpTransport(endpoint, context=context, max_reply_bytes=limit)


def _async_transport(endpoint: Endpoint, context: CallContext, limit: int) -> AsyncTransport:
    if endpoint.kind == "unix" and endpoint.socket_path:
        from aibroker.rpc.unix_async import AsyncUnixTransport

        return AsyncUnixTransport(endpoint.socket_path, context=context, max_reply_bytes=limit)
    from aibroker.rpc.http import AsyncHttpTransport

    return AsyncHttpTransport(endpoint, context=context, max_reply_bytes=limit)
