"""Transport failures worded once, so every transport reports the same trouble the same way."""

from __future__ import annotations

from aibroker.rpc.errors import ConnectError, ProtocolError

RUNNING_HINT = "check that the service is running and that the endpoint is right"


def connect_error(endpoint: str, exc: BaseException) -> ConnectError:
    """A connection attempt failed; say why in words rather than only an errno."""
    if isinstance(exc, FileNotFoundError):
        reason = "no such socket"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "connection refused (nothing is listening)"
    elif isinstance(exc, PermissionError):
        return ConnectError(
            f"cannot connect to {endpoint}: permission denied",
            hint="check the socket's permissions and that this user may use the service",
        )
    else:
        reason = str(exc) or type(exc).__name__
    return ConnectError(f"cannot connect to {endpoint}: {reason}", hint=RUNNING_HINT)


def closed_without_reply(where: str, endpoint: str) -> ProtocolError:
    """The peer closed the connection before sending any reply."""
    return ProtocolError(
        f"{where}: {endpoint} closed the connection without replying",
        hint="the service may have crashed or rejected the request; check its logs",
    )


def truncated(where: str, endpoint: str, preview: str) -> ProtocolError:
    """The peer closed the connection in the middle of a reply."""
    return ProtocolError(
        f"{where}: {endpoint} closed the connection in the middle of a reply ({preview})",
        hint="the service may have crashed while replying; check its logs",
    )


def oversized(where: str, endpoint: str, limit: int, received: int) -> ProtocolError:
    """The reply grew past the client's ``max_reply_bytes``."""
    return ProtocolError(
        f"{where}: reply from {endpoint} exceeds max_reply_bytes={limit} "
        f"({received} bytes received)",
        hint="ask for less data (paging, filters) or raise max_reply_bytes= on the client",
    )
