"""Raw JSON-RPC over a Unix stream socket, blocking flavour (used by :class:`RpcClient`).

One request per connection at a time. Connections the peer keeps open go back to a small
idle pool and are reused; one found closed when reused is replaced once, transparently.
"Closed" means EOF before any reply byte: the request is then sent again on a fresh
connection — the trade-off HTTP keep-alive clients make too (a server that ran the request
and hung up without answering would see it twice).
Writes are the request plus ``"\\n"``; reads go through :class:`JsonStreamReader` so
newline-less, chunked and stray-interleaved replies all work.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Collection
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
    """One socket and the undecoded bytes it has delivered so far."""

    def __init__(self, sock: socket.socket, source: str) -> None:
        self.sock = sock
        self.reader = JsonStreamReader(source=source)
        self.notified = False  # notifications were sent: null-id replies to them may follow

    def alive(self) -> bool:
        """Peek without blocking: EOF or an error means the peer has gone."""
        try:
            self.sock.settimeout(0.0)
            return self.sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True  # nothing to read and not closed: still open
        except OSError:
            return False

    def close(self) -> None:
        self.sock.close()


class UnixTransport:
    """Blocking transport for ``unix://`` endpoints; thread-safe (the pool has a lock)."""

    def __init__(self, socket_path: str, *, context: CallContext, max_reply_bytes: int) -> None:
        self._path = socket_path
        self._context = context
        self._max_reply_bytes = max_reply_bytes
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def exchange(
        self, payload: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        """Send one request (or batch) and collect the replies for ``expected`` ids."""
        data = payload + b"\n"
        return self._run(deadline, lambda conn: self._exchange_on(conn, data, expected, deadline))

    def send(self, payload: bytes, deadline: Deadline) -> None:
        """Send a notification; any reply the server sends anyway is skipped later."""
        data = payload + b"\n"

        def notify(conn: _Connection) -> None:
            self._send_all(conn, data, deadline)
            conn.notified = True

        self._run(deadline, notify)

    def _run(self, deadline: Deadline, action: Callable[[_Connection], _T]) -> _T:
        """Run ``action`` on a pooled or new connection, replacing a stale pooled one once."""
        conn, reused = self._acquire(deadline)
        while True:
            try:
                outcome = action(conn)
            except _PeerClosedError:
                conn.close()
                if not reused:
                    raise closed_without_reply(deadline.where, self._context.endpoint) from None
                conn, reused = self._connect(deadline), False
                continue
            except BaseException:
                conn.close()  # state unknown (partial reply, timeout): never reuse it
                raise
            self._release(conn)
            return outcome

    def close(self) -> None:
        """Close every pooled connection; later calls raise in the client."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _exchange_on(
        self, conn: _Connection, data: bytes, expected: Collection[RequestId], deadline: Deadline
    ) -> ReplyCollector:
        self._send_all(conn, data, deadline)
        collector = ReplyCollector(expected, ignore_null_id=conn.notified, context=self._context)
        reader = conn.reader
        received = 0
        while True:
            for value in reader.values():
                collector.offer(value)
            if collector.done:
                return collector
            conn.sock.settimeout(deadline.remaining(reader.progress))
            try:
                chunk = conn.sock.recv(CHUNK_BYTES)
            except TimeoutError:
                raise deadline.expired(reader.progress()) from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if reader.has_partial:
                    preview = reader.partial_preview()
                    raise truncated(deadline.where, self._context.endpoint, preview)
                raise _PeerClosedError
            received += len(chunk)
            if received > self._max_reply_bytes:
                raise oversized(
                    deadline.where, self._context.endpoint, self._max_reply_bytes, received
                )
            reader.feed(chunk)

    def _send_all(self, conn: _Connection, data: bytes, deadline: Deadline) -> None:
        conn.sock.settimeout(deadline.remaining())
        try:
            conn.sock.sendall(data)
        except TimeoutError:
            raise deadline.expired("while sending the request") from None
        except (BrokenPipeError, ConnectionResetError):
            raise _PeerClosedError from None

    def _connect(self, deadline: Deadline) -> _Connection:
        timeout = deadline.remaining()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(self._path)
        except TimeoutError:
            sock.close()
            raise deadline.expired("while connecting") from None
        except OSError as exc:
            sock.close()
            raise connect_error(self._context.endpoint, exc) from exc
        return _Connection(sock, self._context.endpoint)

    def _acquire(self, deadline: Deadline) -> tuple[_Connection, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(deadline), False
            if conn.alive():
                return conn, True
            conn.close()

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()
