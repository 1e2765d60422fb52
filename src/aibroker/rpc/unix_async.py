"""Raw JSON-RPC over a Unix stream socket, asyncio flavour (used by :class:`AsyncRpcClient`).

The same rules as :mod:`aibroker.rpc.unix_sync` — request plus ``"\\n"`` out, loose framing
in, a small idle pool, one transparent reconnect for a stale pooled connection — on asyncio
streams, with the whole call under one ``asyncio.timeout`` so the deadline covers connect,
send and every read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from aibroker.rpc.faults import closed_without_reply, connect_error, oversized, truncated
from aibroker.rpc.framing import JsonStreamReader
from aibroker.rpc.protocol import CallContext, Deadline, ReplyCollector, RequestId

CHUNK_BYTES = 65536
MAX_IDLE_CONNECTIONS = 4

_T = TypeVar("_T")


class _PeerClosedError(Exception):
    """Internal signal: the peer closed before any reply; retried once on a reused connection."""


class _Connection:
    """One stream pair, the loop it belongs to, and the undecoded bytes received so far."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.stream = JsonStreamReader(source=source)
        self.loop = asyncio.get_running_loop()
        self.notified = False  # notifications were sent: null-id replies to them may follow

    def alive(self) -> bool:
        """Still usable: same event loop, no EOF seen, transport not closing."""
        return (
            self.loop is asyncio.get_running_loop()
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        if not self.loop.is_closed():
            self.writer.close()
        # A connection from a loop that has since closed cannot be closed through it; its
        # socket is released with the transport object.


class AsyncUnixTransport:
    """Asyncio transport for ``unix://`` endpoints."""

    def __init__(self, socket_path: str, *, context: CallContext, max_reply_bytes: int) -> None:
        self._path = socket_path
        self._context = context
        self._max_reply_bytes = max_reply_bytes
        self._idle: list[_Connection] = []
        self._closed = False

    async def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        """Send one request (or batch) and collect the replies for ``expected`` ids."""
        data = payload + b"\n"
        return await self._run(
            deadline, lambda conn: self._exchange_on(conn, data, expected, deadline)
        )

    async def send(self, payload: bytes, deadline: Deadline) -> None:
        """Send a notification; any reply the server sends anyway is skipped later."""
        data = payload + b"\n"

        async def notify(conn: _Connection) -> None:
            await self._send_all(conn, data)
            conn.notified = True

        await self._run(deadline, notify)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
            if not conn.loop.is_closed() and conn.loop is asyncio.get_running_loop():
                # The peer may already have reset the connection; closing is all we want.
                with contextlib.suppress(ConnectionError):
                    await conn.writer.wait_closed()

    async def _run(self, deadline: Deadline, action: Callable[[_Connection], Awaitable[_T]]) -> _T:
        """Run ``action`` under the deadline, replacing a stale pooled connection once."""
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(deadline.remaining()):
                conn, reused = await self._acquire()
                while True:
                    try:
                        outcome = await action(conn)
                    except _PeerClosedError:
                        conn.close()
                        if not reused:
                            raise closed_without_reply(
                                deadline.where, self._context.endpoint
                            ) from None
                        conn, reused = await self._connect(), False
                        continue
                    break
        except TimeoutError:
            detail = conn.stream.progress() if conn is not None else ""
            if conn is not None:
                conn.close()
            raise deadline.expired(detail) from None
        except BaseException:
            if conn is not None:
                conn.close()  # state unknown (partial reply, cancelled): never reuse it
            raise
        self._release(conn)
        return outcome

    async def _exchange_on(
        self, conn: _Connection, data: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        await self._send_all(conn, data)
        collector = ReplyCollector(expected, ignore_null_id=conn.notified, context=self._context)
        where = deadline.where
        received = 0
        while True:
            for value in conn.stream.values():
                collector.offer(value)
            if collector.done:
                return collector
            try:
                chunk = await conn.reader.read(CHUNK_BYTES)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if conn.stream.has_partial:
                    preview = conn.stream.partial_preview()
                    raise truncated(where, self._context.endpoint, preview)
                raise _PeerClosedError
            received += len(chunk)
            if received > self._max_reply_bytes:
                raise oversized(where, self._context.endpoint, self._max_reply_bytes, received)
            conn.stream.feed(chunk)

    async def _send_all(self, conn: _Connection, data: bytes) -> None:
        try:
            conn.writer.write(data)
            await conn.writer.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise _PeerClosedError from None

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_unix_connection(self._path, limit=CHUNK_BYTES)
        except OSError as exc:
            raise connect_error(self._context.endpoint, exc) from exc
        return _Connection(reader, writer, self._context.endpoint)

    async def _acquire(self) -> tuple[_Connection, bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.alive():
                return conn, True
            conn.close()
        return await self._connect(), False

    def _release(self, conn: _Connection) -> None:
        if not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(conn)
        else:
            conn.close()
