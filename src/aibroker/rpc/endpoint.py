"""Endpoint strings: parsing the three transports and choosing explicit > environment > default.

Accepted forms:

* ``http://host:port/path`` and ``https://…`` — JSON-RPC over HTTP POST.
* ``http+unix:///run/svc.sock/optional/http/path`` — HTTP over a Unix socket. The socket path
  ends at the first path segment ending in ``.sock``; without such a segment the whole path is
  the socket. The percent-encoded form ``http+unix://%2Frun%2Fsvc.sock/rpc`` also works.
* ``unix:///run/svc.sock`` or a plain filesystem path — raw JSON-RPC over a Unix socket.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from aibroker.rpc.errors import EndpointError

EndpointKind = Literal["http", "http+unix", "unix"]

_FORMS_HINT = (
    "use http(s)://host:port/path, http+unix:///path/to.sock[/http/path], "
    "unix:///path/to.sock or a filesystem path to a socket"
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed endpoint: the transport ``kind`` and where to reach it.

    ``url`` is what HTTP requests are posted to (for ``http+unix`` the host is a placeholder);
    ``socket_path`` is the Unix socket for ``unix`` and ``http+unix``.
    """

    raw: str
    kind: EndpointKind
    url: str | None = None
    socket_path: str | None = None

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Parse an endpoint string; raise :class:`EndpointError` if it is empty or unknown."""
        text = url.strip()
        if not text:
            raise EndpointError("empty endpoint", hint=_FORMS_HINT)
        if "://" not in text:
            # A plain path (/run/x.sock, ./x.sock, ~/x.sock) is a raw Unix socket.
            return cls(raw=text, kind="unix", socket_path=os.path.expanduser(text))
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("http", "https"):
            parts = urlsplit(text)
            if not parts.hostname:
                raise EndpointError(f"endpoint {text!r} has no host", hint=_FORMS_HINT)
            return cls(raw=text, kind="http", url=text)
        if scheme == "unix":
            path = os.path.expanduser(unquote(text[len("unix://") :]))
            if not path:
                raise EndpointError(f"endpoint {text!r} has no socket path", hint=_FORMS_HINT)
            return cls(raw=text, kind="unix", socket_path=path)
        if scheme == "http+unix":
            socket_path, http_path = _split_http_unix(text)
            return cls(
                raw=text,
                kind="http+unix",
                url=f"http://localhost{http_path}",
                socket_path=socket_path,
            )
        raise EndpointError(f"unsupported endpoint scheme {scheme!r} in {text!r}", hint=_FORMS_HINT)

    def __str__(self) -> str:
        return self.raw


def _split_http_unix(text: str) -> tuple[str, str]:
    """Split ``http+unix://…`` into (socket path, HTTP path with query)."""
    rest = text[len("http+unix://") :]
    query = ""
    if "?" in rest:
        rest, query = rest.split("?", 1)
        query = "?" + query
    if rest and not rest.startswith("/"):
        # Percent-encoded socket path as the authority: http+unix://%2Frun%2Fx.sock/rpc
        authority, _, path = rest.partition("/")
        socket_path = unquote(authority)
        http_path = "/" + path
    else:
        segments = rest.split("/")
        cut = next(
            (i + 1 for i, segment in enumerate(segments) if segment.endswith(".sock")),
            len(segments),
        )
        socket_path = "/".join(segments[:cut])
        http_path = "/" + "/".join(segments[cut:])
    if not socket_path or socket_path == "/":
        raise EndpointError(f"endpoint {text!r} has no socket path", hint=_FORMS_HINT)
    return os.path.expanduser(socket_path), http_path + query


def resolve_endpoint(explicit: str | None, *, env_var: str, default: str | None) -> str:
    """Choose the endpoint: ``explicit`` > ``os.environ[env_var]`` > ``default``.

    Generated clients call this so a script can run unchanged against a test deployment by
    setting one environment variable. The chosen value is validated here, so a malformed
    setting fails at construction naming where it came from, not at the first call.
    """
    candidates = (
        (explicit, "the explicit endpoint argument"),
        (os.environ.get(env_var), f"environment variable {env_var}"),
        (default, "the spec's default server"),
    )
    for value, origin in candidates:
        if value is not None and value.strip():
            try:
                Endpoint.parse(value)
            except EndpointError as exc:
                raise EndpointError(f"{exc.message} (from {origin})", hint=exc.hint) from exc
            return value.strip()
    raise EndpointError(
        "no endpoint configured",
        hint=f"pass endpoint=... or set the environment variable {env_var}",
    )
