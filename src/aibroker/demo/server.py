"""The asyncio JSON-RPC server core shared by the demo services (stdlib and jsonschema only).

One :class:`ServiceEndpoint` per service owns its listeners (a unix socket speaking raw
Hero-style JSON-RPC, and optionally HTTP on 127.0.0.1) and its live connections, so that
closing it stops accepting, ends every connection and removes the socket file: a stopped
demo leaves nothing behind that discovery could mistake for a live service.

Raw framing: requests are cut from the stream by :class:`JsonStreamSplitter` (newline
optional, several per write, or one split over many); each reply is one JSON value followed
by ``"\\n"``; the connection stays open for more requests until the client closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

from aibroker.demo.errors import DemoError
from aibroker.demo.framing import Frame, JsonStreamSplitter
from aibroker.demo.http import serve_http_connection
from aibroker.demo.protocol import Dispatcher, parse_error_response

logger = logging.getLogger("aibroker.demo")

READ_CHUNK_BYTES = 65536
CONNECTION_CLOSE_TIMEOUT_SECONDS = 5.0
MAX_UNIX_PATH_BYTES = 107  # sun_path is 108 bytes, one of them the terminating NUL


class ServiceEndpoint:
    """Listeners and connections of one service; :meth:`close` releases all of them."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.name = dispatcher.service.name
        self._servers: list[asyncio.Server] = []
        self._socket_path: Path | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def listen_unix(self, path: Path) -> None:
        """Serve raw JSON-RPC on the unix socket ``path`` (a stale socket file is replaced)."""
        if len(str(path).encode()) > MAX_UNIX_PATH_BYTES:
            raise DemoError(
                f"socket path {path} is {len(str(path).encode())} bytes long; unix sockets "
                f"allow at most {MAX_UNIX_PATH_BYTES}",
                hint="use a shorter sockets directory (--sockets-dir)",
            )
        _remove_stale_socket(path)
        server = await asyncio.start_unix_server(self._serve_raw, path=str(path))
        self._servers.append(server)
        self._socket_path = path

    async def listen_http(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve JSON-RPC over HTTP POST on ``host:port``; return the URL (port 0: any)."""
        server = await asyncio.start_server(self._serve_http, host=host, port=port)
        self._servers.append(server)
        bound_port = server.sockets[0].getsockname()[1]
        return f"http://{host}:{bound_port}/"

    async def close(self) -> None:
        """Stop listening, end every connection, remove the socket file, close the store."""
        for server in self._servers:
            server.close()
        await self._end_connections()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._socket_path is not None:
            self._socket_path.unlink(missing_ok=True)
            self._socket_path = None
        self.dispatcher.service.close()

    async def _end_connections(self) -> None:
        """Close every client connection; their tasks then finish on their own.

        Closing the transport makes the pending read return end-of-stream, so each
        connection task ends normally; cancelling them instead trips a Python 3.11 asyncio
        callback that logs the cancellation as an error. Cancel only what does not end.
        """
        tasks = list(self._connections)
        for writer in self._connections.values():
            writer.close()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=CONNECTION_CLOSE_TIMEOUT_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _serve_raw(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._tracked(writer):
            try:
                await self._raw_session(reader, writer)
            except ConnectionError as error:
                logger.debug("%s: client connection ended: %s", self.name, error)
            finally:
                await _close_writer(writer)

    async def _raw_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        splitter = JsonStreamSplitter()
        while True:
            data = await reader.read(READ_CHUNK_BYTES)
            frames = splitter.feed(data) if data else splitter.finish()
            for frame in frames:
                reply = self._reply(frame)
                if reply is not None:
                    writer.write(reply + b"\n")
                if frame.fatal:
                    await writer.drain()
                    return
            await writer.drain()
            if not data:
                return

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._tracked(writer):
            try:
                await serve_http_connection(reader, writer, self.dispatcher)
            except ConnectionError as error:
                logger.debug("%s: HTTP client connection ended: %s", self.name, error)
            finally:
                await _close_writer(writer)

    def _reply(self, frame: Frame) -> bytes | None:
        if frame.error is not None:
            return self.dispatcher.encode(parse_error_response(frame.error))
        response = self.dispatcher.handle(frame.value)
        return None if response is None else self.dispatcher.encode(response)

    @contextlib.contextmanager
    def _tracked(self, writer: asyncio.StreamWriter) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._connections[task] = writer
        try:
            yield
        finally:
            if task is not None:
                self._connections.pop(task, None)


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket file nobody listens on; refuse to touch a live socket or a file."""
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_socket():
        raise DemoError(
            f"{path} exists and is not a unix socket",
            hint="remove it or choose another sockets directory",
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    except OSError as error:
        raise DemoError(
            f"cannot tell whether {path} is in use: {error}",
            hint="remove the socket file if no service owns it",
        ) from error
    finally:
        probe.close()
    raise DemoError(
        f"{path} is already served by another process",
        hint="stop it first (`aibroker demo down` if it is the demo) or use another "
        "sockets directory",
    )
