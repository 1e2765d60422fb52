"""JSON-RPC over HTTP POST via httpx: ``http://``, ``https://`` and ``http+unix://``.

httpx keeps connections alive and reconnects on its own, so these transports only add what
JSON-RPC needs: a streamed body capped at ``max_reply_bytes``, a whole-call deadline (async:
``asyncio.timeout``; sync: httpx's per-operation timeout set to the time left, checked again
between body chunks), and error bodies sent with non-2xx statuses read as JSON-RPC errors.
This module is imported only for HTTP endpoints, so raw-socket scripts skip httpx's import.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any

import httpx

from aibroker.rpc.endpoint import Endpoint
from aibroker.rpc.errors import EndpointError, ProtocolError, TransportError
from aibroker.rpc.faults import closed_without_reply, connect_error, oversized
from aibroker.rpc.protocol import CallContext, Deadline, ReplyCollector, RequestId

_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_PREVIEW_BYTES = 200


class _Body:
    """Accumulates a response body, enforcing the size cap and the deadline per chunk."""

    def __init__(self, response: httpx.Response, deadline: Deadline, limit: int) -> None:
        self.status = response.status_code
        self._deadline = deadline
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise oversized(deadline.where, deadline.context.endpoint, limit, int(length))

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise oversized(
                self._deadline.where, self._deadline.context.endpoint, self._limit, self._size
            )
        self._chunks.append(chunk)
        self._deadline.remaining()

    def content(self) -> bytes:
        return b"".join(self._chunks)


class HttpTransport:
    """Blocking HTTP transport; ``httpx.Client`` is thread-safe, so no lock is needed."""

    def __init__(self, endpoint: Endpoint, *, context: CallContext, max_reply_bytes: int) -> None:
        uds = httpx.HTTPTransport(uds=endpoint.socket_path) if endpoint.socket_path else None
        self._client = httpx.Client(transport=uds, headers=_HEADERS)
        self._url = endpoint.url or endpoint.raw
        self._context = context
        self._max_reply_bytes = max_reply_bytes

    def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        """POST one request (or batch) and collect the replies for ``expected`` ids."""
        status, body = self._post(payload, deadline)
        return collect_replies(status, body, expected, deadline)

    def send(self, payload: bytes, deadline: Deadline) -> None:
        """POST a notification; a body sent anyway is ignored, a failure status is not."""
        status, body = self._post(payload, deadline)
        if not 200 <= status < 300:
            raise http_status_error(status, body, deadline)

    def close(self) -> None:
        self._client.close()

    def _post(self, payload: bytes, deadline: Deadline) -> tuple[int, bytes]:
        try:
            with self._client.stream(
                "POST", self._url, content=payload, timeout=deadline.remaining()
            ) as response:
                body = _Body(response, deadline, self._max_reply_bytes)
                for chunk in response.iter_bytes():
                    body.add(chunk)
                return body.status, body.content()
        except httpx.HTTPError as exc:
            raise translate_httpx_error(exc, deadline) from exc


class AsyncHttpTransport:
    """Asyncio HTTP transport on ``httpx.AsyncClient``."""

    def __init__(self, endpoint: Endpoint, *, context: CallContext, max_reply_bytes: int) -> None:
        uds = httpx.AsyncHTTPTransport(uds=endpoint.socket_path) if endpoint.socket_path else None
        self._client = httpx.AsyncClient(transport=uds, headers=_HEADERS)
        self._url = endpoint.url or endpoint.raw
        self._context = context
        self._max_reply_bytes = max_reply_bytes

    async def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        """POST one request (or batch) and collect the replies for ``expected`` ids."""
        status, body = await self._post(payload, deadline)
        return collect_replies(status, body, expected, deadline)

    async def send(self, payload: bytes, deadline: Deadline) -> None:
        """POST a notification; a body sent anyway is ignored, a failure status is not."""
        status, body = await self._post(payload, deadline)
        if not 200 <= status < 300:
            raise http_status_error(status, body, deadline)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, payload: bytes, deadline: Deadline) -> tuple[int, bytes]:
        try:
            async with (
                asyncio.timeout(deadline.remaining()),
                self._client.stream("POST", self._url, content=payload) as response,
            ):
                body = _Body(response, deadline, self._max_reply_bytes)
                async for chunk in response.aiter_bytes():
                    body.add(chunk)
                return body.status, body.content()
        except TimeoutError:
            raise deadline.expired() from None
        except httpx.HTTPError as exc:
            raise translate_httpx_error(exc, deadline) from exc


def collect_replies(
    status: int, body: bytes, expected: Collection[RequestId], deadline: Deadline
) -> ReplyCollector:
    """Read the replies out of one HTTP response body.

    Many servers send JSON-RPC errors with a 4xx/5xx status; those bodies count as replies.
    Anything else with a failure status becomes a :class:`ProtocolError` naming the status.
    """
    ok = 200 <= status < 300
    endpoint = deadline.context.endpoint
    if not body.strip():
        if not ok:
            raise http_status_error(status, body, deadline)
        raise ProtocolError(
            f"{deadline.where}: {endpoint} answered HTTP {status} with an empty body",
            hint="the service treated the call as a notification or failed silently; "
            "check its logs",
        )
    try:
        value: Any = json.loads(body)
    except ValueError as exc:
        if not ok:
            raise http_status_error(status, body, deadline) from exc
        raise ProtocolError(
            f"{deadline.where}: {endpoint} answered with a body that is not JSON: {_preview(body)}",
            hint="the endpoint may not speak JSON-RPC; check the URL and its path",
        ) from exc
    collector = ReplyCollector(expected, ignore_null_id=False, context=deadline.context)
    try:
        collector.offer(value)
    except ProtocolError:
        if not ok:
            raise http_status_error(status, body, deadline) from None
        raise
    if not collector.done:
        if not ok:
            raise http_status_error(status, body, deadline)
        missing = ", ".join(str(request_id) for request_id in collector.missing())
        raise ProtocolError(
            f"{deadline.where}: the reply from {endpoint} has no answer for request id(s) "
            f"{missing}: {_preview(body)}",
            hint="the service broke JSON-RPC id matching; report it to its maintainers",
        )
    return collector


def http_status_error(status: int, body: bytes, deadline: Deadline) -> ProtocolError:
    """A failure status without a JSON-RPC error body."""
    hint = (
        "check the HTTP path in the endpoint"
        if status in (404, 405)
        else "the service failed before JSON-RPC handling; check its logs"
    )
    return ProtocolError(
        f"{deadline.where}: {deadline.context.endpoint} answered HTTP {status}: {_preview(body)}",
        hint=hint,
    )


def translate_httpx_error(exc: httpx.HTTPError, deadline: Deadline) -> TransportError:
    """Map httpx's exceptions onto the rpc hierarchy."""
    endpoint = deadline.context.endpoint
    if isinstance(exc, httpx.TimeoutException):
        return deadline.expired()
    if isinstance(exc, httpx.ConnectError):
        return connect_error(endpoint, _os_error_in(exc) or exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in str(exc):
            return closed_without_reply(deadline.where, endpoint)
        return ProtocolError(
            f"{deadline.where}: HTTP protocol error from {endpoint}: {exc}",
            hint="the service may not speak HTTP on this endpoint, or crashed mid-reply",
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return EndpointError(f"unusable endpoint {endpoint}: {exc}", hint="check the endpoint URL")
    if isinstance(exc, httpx.NetworkError):
        return ProtocolError(
            f"{deadline.where}: the connection to {endpoint} failed: {exc}",
            hint="the service may have crashed or closed the connection; check its logs",
        )
    return TransportError(f"{deadline.where}: HTTP request to {endpoint} failed: {exc}")


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OSError with an errno that httpx wrapped (through httpcore, maybe anyio's group)."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _preview(body: bytes) -> str:
    text = body[:_PREVIEW_BYTES].decode("utf-8", errors="replace")
    return repr(text + ("…" if len(body) > _PREVIEW_BYTES else ""))
