"""JSON-RPC over HTTP/1.1 for the demo services: just enough HTTP, on asyncio streams.

The demo needs only ``POST`` with a ``Content-Length`` body (what httpx, curl and every
JSON-RPC client send) and ``GET /openrpc.json``; a full framework would pull threads or a
second event loop into services that otherwise run on one loop with one SQLite connection.
Connections are kept alive (HTTP/1.1 default) until the client closes them or asks to.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aibroker.demo.framing import DEFAULT_MAX_MESSAGE_BYTES, JsonStreamSplitter
from aibroker.demo.protocol import parse_error_response

if TYPE_CHECKING:
    from aibroker.demo.protocol import Dispatcher

MAX_HEADER_BYTES = 16384
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
}


async def serve_http_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, dispatcher: Dispatcher
) -> None:
    """Answer requests on one HTTP connection until it closes."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial.strip():
                await _respond(writer, 400, _problem("incomplete HTTP request"), keep_alive=False)
            return
        except asyncio.LimitOverrunError:
            await _respond(writer, 431, _problem("HTTP headers too large"), keep_alive=False)
            return
        if len(head) > MAX_HEADER_BYTES:
            await _respond(writer, 431, _problem("HTTP headers too large"), keep_alive=False)
            return
        request = _parse_head(head)
        if request is None:
            await _respond(writer, 400, _problem("malformed HTTP request line"), keep_alive=False)
            return
        verb, target, version, headers = request
        keep_alive = _keep_alive(version, headers)
        status, body = await _answer(reader, writer, dispatcher, verb, target, headers)
        if status in (400, 411, 413):
            keep_alive = False  # the unread body would be taken for the next request
        await _respond(writer, status, body, keep_alive=keep_alive)
        if not keep_alive:
            return


async def _answer(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    dispatcher: Dispatcher,
    verb: str,
    target: str,
    headers: dict[str, str],
) -> tuple[int, bytes | None]:
    path = target.split("?", 1)[0]
    if verb == "GET":
        if path in ("/openrpc.json", "/rpc.discover"):
            return 200, dispatcher.encode(dispatcher.service.document)
        return 404, _problem("POST JSON-RPC requests to /; GET /openrpc.json for the document")
    if verb != "POST":
        return 405, _problem(f"{verb} is not supported: POST JSON-RPC requests")
    length_text = headers.get("content-length")
    if length_text is None or not length_text.isdigit():
        return 411, _problem("POST needs a Content-Length header (chunked bodies are refused)")
    length = int(length_text)
    if length > DEFAULT_MAX_MESSAGE_BYTES:
        return 413, _problem(f"request body larger than {DEFAULT_MAX_MESSAGE_BYTES} bytes")
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    body = await reader.readexactly(length)
    splitter = JsonStreamSplitter()
    frames = splitter.feed(body) + splitter.finish()
    if len(frames) != 1 or frames[0].error is not None:
        detail = frames[0].error if frames and frames[0].error else "expected one JSON value"
        return 200, dispatcher.encode(parse_error_response(detail))
    response = dispatcher.handle(frames[0].value)
    return (204, None) if response is None else (200, dispatcher.encode(response))


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]] | None:
    try:
        lines = head.decode("latin-1").split("\r\n")
        verb, target, version = lines[0].split(" ", 2)
    except ValueError:
        return None
    if not version.startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return verb.upper(), target, version, headers


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def _problem(message: str) -> bytes:
    body: dict[str, Any] = {"error": message}
    return json.dumps(body).encode("utf-8")


async def _respond(
    writer: asyncio.StreamWriter, status: int, body: bytes | None, *, keep_alive: bool
) -> None:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    elif status != 204:
        lines.append("Content-Length: 0")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
    await writer.drain()
