"""Getting the raw OpenRPC document: from a file, an HTTP URL or a live service.

Where a document comes from is decided by the shape of ``source`` alone, so the same string
works on the command line, in settings and in the registry:

=================================  =========================================================
``/path/spec.json`` (any file)     read the file
``http(s)://host/x/spec.json``     HTTP GET (the URL path ends with ``.json``)
``http(s)://host/rpc``             JSON-RPC ``rpc.discover`` over HTTP
``unix:///run/x.sock``             ``rpc.discover`` over a raw unix socket
``http+unix:///run/x.sock``        ``rpc.discover`` over HTTP on a unix socket
``/run/x.sock`` (plain path)       ``rpc.discover`` over a raw unix socket when the path is a
                                   socket or ends with ``.sock``
=================================  =========================================================

``rpc.discover`` may answer with the document as a JSON object or as a JSON *string* holding
it (zinit's jsonrpsee server does the latter); both are accepted. JSON-RPC calls go through
:mod:`aibroker.rpc`, the same runtime the generated clients use, so discovery sees a service
exactly as scripts will. Every failure is a :class:`SpecLoadError` saying which source failed,
why, and what to try.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from aibroker.openrpc.errors import SpecLoadError, json_type_name

if TYPE_CHECKING:
    from aibroker.rpc import RpcError

SourceKind = Literal["file", "http", "unix"]
DISCOVER_METHOD = "rpc.discover"


@dataclass(frozen=True)
class RawSpec:
    """A document as received, and where it came from."""

    raw: dict[str, Any]
    """The parsed JSON object, untouched."""
    source: str
    """The source string exactly as the caller gave it."""
    kind: SourceKind
    """``file``, ``http`` (GET or discover over TCP) or ``unix`` (a local socket)."""
    endpoint: str | None
    """The JSON-RPC endpoint when the document came from a live service, else ``None``."""


@dataclass(frozen=True)
class SourcePlan:
    """How :func:`load_raw` will fetch one source (exposed for messages and tests)."""

    kind: SourceKind
    action: Literal["read", "get", "discover"]
    location: str
    """The file path, the URL to GET, or the JSON-RPC endpoint to call."""


def plan_source(source: str) -> SourcePlan:
    """Decide from the shape of ``source`` how to fetch it (see the module table)."""
    lowered = source.lower()
    if lowered.startswith(("http://", "https://")):
        if urlsplit(source).path.lower().endswith(".json"):
            return SourcePlan("http", "get", source)
        return SourcePlan("http", "discover", source)
    if lowered.startswith(("unix://", "http+unix://")):
        return SourcePlan("unix", "discover", source)
    if "://" in source:
        raise SpecLoadError(
            f"{source}: unsupported source scheme '{source.split('://', 1)[0]}'",
            hint="give a file path, an http(s):// URL, unix:///path.sock or http+unix:///path.sock",
        )
    path = Path(source).expanduser()
    if path.suffix == ".sock" or path.is_socket():
        return SourcePlan("unix", "discover", f"unix://{os.path.abspath(path)}")
    return SourcePlan("file", "read", str(path))


def load_raw(source: str, *, timeout: float = 10.0) -> RawSpec:
    """Fetch and JSON-decode the document at ``source`` (blocking)."""
    plan = plan_source(source)
    if plan.action == "read":
        value = _decode_json(_read_file(source, plan.location), source)
    elif plan.action == "get":
        value = _decode_json(_http_get(source, plan.location, timeout), source)
    else:
        value = _discovered(_discover(source, plan.location, timeout), source)
    return _raw_spec(value, source, plan)


async def aload_raw(source: str, *, timeout: float = 10.0) -> RawSpec:  # noqa: ASYNC109
    """Async :func:`load_raw`: file reads run in a thread, network I/O is asynchronous.

    ``timeout`` bounds each network exchange (it is handed to the transport), mirroring the
    synchronous API, rather than the whole call; wrap it in ``asyncio.timeout`` for that.
    """
    plan = plan_source(source)
    if plan.action == "read":
        data = await asyncio.to_thread(_read_file, source, plan.location)
        value = _decode_json(data, source)
    elif plan.action == "get":
        value = _decode_json(await _ahttp_get(source, plan.location, timeout), source)
    else:
        value = _discovered(await _adiscover(source, plan.location, timeout), source)
    return _raw_spec(value, source, plan)


# --- fetching ----------------------------------------------------------------------------


def _read_file(source: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as error:
        raise SpecLoadError(
            f"{source}: no such file",
            hint="check the path; a live service is given as unix:///path.sock, a socket "
            "path ending in .sock, or an http(s):// URL",
        ) from error
    except IsADirectoryError as error:
        raise SpecLoadError(
            f"{source}: is a directory, not a spec file", hint="name the .json file inside it"
        ) from error
    except OSError as error:
        raise SpecLoadError(
            f"{source}: cannot read the file ({error.strerror or error})",
            hint="check the file's permissions",
        ) from error


def _http_get(source: str, url: str, timeout: float) -> bytes:
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as error:
        raise _unreachable(source, error) from error
    _check_status(source, response.status_code)
    return response.content


async def _ahttp_get(source: str, url: str, seconds: float) -> bytes:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=seconds, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as error:
        raise _unreachable(source, error) from error
    _check_status(source, response.status_code)
    return response.content


def _check_status(source: str, status: int) -> None:
    if status >= 400:
        raise SpecLoadError(
            f"{source}: the server answered HTTP {status}",
            hint="check the URL; to ask a JSON-RPC service for its spec, give its endpoint "
            "(a URL not ending in .json) so rpc.discover is called",
        )


def _discover(source: str, endpoint: str, timeout: float) -> Any:
    from aibroker.rpc import RpcClient, RpcError

    try:
        with RpcClient(endpoint, timeout=timeout) as client:
            return client.call(DISCOVER_METHOD)
    except RpcError as error:
        raise _discover_failed(source, error) from error


async def _adiscover(source: str, endpoint: str, seconds: float) -> Any:
    from aibroker.rpc import AsyncRpcClient, RpcError

    try:
        async with AsyncRpcClient(endpoint, timeout=seconds) as client:
            return await client.call(DISCOVER_METHOD)
    except RpcError as error:
        raise _discover_failed(source, error) from error


def _unreachable(source: str, error: Exception) -> SpecLoadError:
    return SpecLoadError(
        f"{source}: cannot fetch the document ({type(error).__name__}: {error})",
        hint="check that the server is running and the URL is right",
    )


def _discover_failed(source: str, error: RpcError) -> SpecLoadError:
    from aibroker.rpc import JsonRpcError

    if isinstance(error, JsonRpcError):
        return SpecLoadError(
            f"{source}: the service answered {DISCOVER_METHOD} with an error: JSON-RPC error "
            f"{error.code} {error.error_message!r}",
            hint="the service may not implement rpc.discover; load its OpenRPC document "
            "from a file instead",
        )
    # The transport's own message says what failed (refused, no such socket, timeout, bad
    # reply); its hint is replaced by ours, which speaks of the spec source.
    return SpecLoadError(
        f"{source}: cannot get the OpenRPC document from the service: {error.message}",
        hint="check that the service is running and that the socket path or URL is right",
    )


# --- decoding ----------------------------------------------------------------------------


def _decode_json(data: bytes | str, source: str, what: str = "the document") -> Any:
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise SpecLoadError(
            f"{source}: {what} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}",
            hint="fix the JSON syntax at that position",
        ) from error
    except UnicodeDecodeError as error:
        raise SpecLoadError(
            f"{source}: {what} is not UTF-8 text ({error.reason} at byte {error.start})",
            hint="save the document as UTF-8 JSON",
        ) from error
    except ValueError as error:  # raised by _reject_constant
        raise SpecLoadError(f"{source}: {what} is not valid JSON: {error}") from error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _discovered(result: Any, source: str) -> Any:
    """The document from an ``rpc.discover`` result: an object, or a string holding one."""
    if isinstance(result, str):
        return _decode_json(result, source, f"the string returned by {DISCOVER_METHOD}")
    return result


def _raw_spec(value: Any, source: str, plan: SourcePlan) -> RawSpec:
    if not isinstance(value, dict):
        raise SpecLoadError(
            f"{source}: the document is a JSON {json_type_name(value)}, not an object",
            hint="an OpenRPC document is a JSON object with 'openrpc', 'info' and 'methods'",
        )
    endpoint = plan.location if plan.action == "discover" else None
    return RawSpec(raw=value, source=source, kind=plan.kind, endpoint=endpoint)
