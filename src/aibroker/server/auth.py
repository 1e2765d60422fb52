"""Guards in front of every route: bearer-token auth, loopback default, request body limits.

Both middlewares are plain ASGI so they also cover mounted sub-apps (the dashboard's static
files, an MCP endpoint) and streamed bodies, and so a rejected request never reaches
FastAPI's body parsing. Rejections are JSON ``{"detail": …, "hint": …}`` like every other
error of the API.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aibroker.errors import AibrokerError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = frozenset(
    {"/", "/ok", "/favicon.ico", "/openapi.json", "/docs", "/.well-known/agent-card.json"}
)
PUBLIC_PREFIXES = ("/dashboard/",)


class UnsafeBindError(AibrokerError):
    """The server was asked to listen beyond loopback without a token."""


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8, ::1 and unix sockets (``unix:``)."""
    if host in ("localhost", "") or host.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve off loopback without a bearer token."""
    if not is_loopback(host) and not token:
        raise UnsafeBindError(
            f"refusing to listen on {host} without authentication",
            hint="set AIBROKER_SERVER_TOKEN (clients send 'Authorization: Bearer <token>'), "
            "or bind to 127.0.0.1",
        )


async def send_json(send: Send, status: int, body: dict[str, Any], **headers: str) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(payload)),
    ]
    raw_headers += [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BearerAuthMiddleware:
    """Requires ``Authorization: Bearer <token>`` on everything but the public paths."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"authorization") or "").encode()
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        await send_json(
            send,
            401,
            {
                "detail": "missing or wrong bearer token" if given else "authentication required",
                "hint": "send 'Authorization: Bearer <AIBROKER_SERVER_TOKEN>'",
            },
            www_authenticate='Bearer realm="aibroker"',
        )


class _BodyTooLargeError(BaseException):
    """Raised inside the receive wrapper to abandon a request body past the limit.

    A ``BaseException`` on purpose: FastAPI turns any ``Exception`` raised while reading a
    body into a vague 400; this one must travel up to :class:`BodyLimitMiddleware`.
    """


class BodyLimitMiddleware:
    """Rejects bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _rejection(self) -> dict[str, Any]:
        return {
            "detail": f"request body larger than the limit of {self.max_bytes} bytes",
            "hint": "send less, or raise AIBROKER_SERVER_MAX_BODY_BYTES on the server",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, self._rejection())
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if started:
                raise
            await send_json(send, 413, self._rejection())
