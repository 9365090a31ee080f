"""The asyncio HTTP front of the simulated Telegram: tornado on an event loop of its own.

``FakeTelegram(server="async")`` serves through this instead of the default thread per
connection, for benchmarks in which several bot processes send paid broadcasts (up to
1,000 a second, up to 128 requests in flight each): the simulator must never be the
limit being measured, however many connections they open at once. The threaded front
listens with a backlog of five (``socketserver``'s), so most of a burst of new
connections waits a second or more for the client to try again, or is reset, and its
threads take turns on the GIL with everything else in the process; here one thread
answers, and tornado listens with a backlog of 128.

It behaves as the threaded front does, because both hand every request to
``FakeTelegram._answer``: HTTP/1.1 with keep-alive, chunked request bodies (tornado
decodes them), files, and the open connections tracked in ``FakeTelegram._connections``.
The loop runs on a daemon thread and answers most calls itself, under the fake's lock,
which is only ever held briefly. Calls that wait on the fake's condition (``getUpdates``
long polls, ``slow()`` rules, outages with a delay) would stall every other connection,
so each of those is answered on a thread of its own, as the threaded front does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from http import HTTPStatus
from http.client import responses
from typing import TYPE_CHECKING, cast

from tornado import httputil
from tornado.http1connection import HTTP1ServerConnection
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import bind_sockets

if TYPE_CHECKING:
    from bot.sim.telegram.server import Answer, FakeTelegram

_START_TIMEOUT = 10.0
_UNSUPPORTED = (HTTPStatus.NOT_IMPLEMENTED, "text/plain", b"Unsupported method")


class AsyncFront(httputil.HTTPServerConnectionDelegate):
    """Serves ``fake`` on 127.0.0.1:``port`` (0: any free port) until ``close()``."""

    def __init__(self, fake: FakeTelegram, port: int) -> None:
        self._fake = fake
        # Bound here, so that a port in use fails in start() and `port` is known at once.
        sockets = bind_sockets(port, "127.0.0.1")
        self.port: int = sockets[0].getsockname()[1]
        # Each open connection's socket, by its stream: tornado drops the socket on closing.
        self._sockets: dict[IOStream, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(sockets),), name="fake-telegram", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._loop is None:
            raise RuntimeError("the fake Telegram's event loop did not start")

    def close(self) -> None:
        loop, closing = self._loop, self._closing
        if loop is not None and closing is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(closing.set)
        self._thread.join(timeout=2.0)

    async def _serve(self, sockets: list[socket.socket]) -> None:
        try:
            server = _Server(self)
            server.add_sockets(sockets)
            self._loop, self._closing = asyncio.get_running_loop(), asyncio.Event()
        finally:
            self._ready.set()  # the constructor raises if the loop did not get this far
        await self._closing.wait()
        server.stop()
        # Idle keep-alive connections would otherwise keep the client's pooled sockets
        # alive after the server is gone.
        await server.close_all_connections()

    # -- on the loop

    def connected(self, stream: IOStream) -> None:
        self._sockets[stream] = stream.socket
        self._fake._track_connection(stream.socket, add=True)

    def disconnected(self, stream: IOStream) -> None:
        sock = self._sockets.pop(stream, None)
        if sock is not None:
            self._fake._track_connection(sock, add=False)

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _Exchange(self, request_conn)

    def answer(
        self, connection: httputil.HTTPConnection, method: str, target: str, body: bytes, ctype: str
    ) -> None:
        if method not in ("GET", "POST"):
            self._respond(connection, *_UNSUPPORTED)
            return
        answer = self._fake._answer_unless_waiting(target, body, ctype)
        if answer is not None:
            self._respond(connection, *answer)
            return
        threading.Thread(
            target=self._answer_waiting,
            args=(connection, target, body, ctype),
            name="fake-telegram-wait",
            daemon=True,
        ).start()

    def _answer_waiting(
        self, connection: httputil.HTTPConnection, target: str, body: bytes, ctype: str
    ) -> None:
        answer: Answer = self._fake._answer(target, body, ctype)
        loop = self._loop
        if loop is None:
            return
        # After close() the loop is gone, and so is the connection.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._respond, connection, *answer)

    @staticmethod
    def _respond(
        connection: httputil.HTTPConnection, status: int, content_type: str, body: bytes
    ) -> None:
        reason = responses.get(status, "Unknown")
        start = httputil.ResponseStartLine("HTTP/1.1", status, reason)
        headers = httputil.HTTPHeaders(
            {"Content-Type": content_type, "Content-Length": str(len(body))}
        )
        # A client that gave up (timed out, or was cut off) is expected; tornado has
        # already closed its connection.
        with contextlib.suppress(StreamClosedError):
            # Headers and body leave in one write.
            connection.write_headers(start, headers, body)
            connection.finish()


class _Server(HTTPServer):
    """tornado's HTTP/1.1 server, telling the front when a connection opens and closes."""

    def handle_stream(self, stream: IOStream, address: tuple[str, int]) -> None:
        cast(AsyncFront, self.request_callback).connected(stream)
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        cast(AsyncFront, self.request_callback).disconnected(
            cast(HTTP1ServerConnection, server_conn).stream
        )
        super().on_close(server_conn)


class _Exchange(httputil.HTTPMessageDelegate):
    """One request, read whole (tornado has decoded a chunked body), then answered."""

    def __init__(self, front: AsyncFront, connection: httputil.HTTPConnection) -> None:
        self._front = front
        self._connection = connection
        self._method = "GET"
        self._target = "/"
        self._content_type = ""
        self._chunks: list[bytes] = []

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        request = cast(httputil.RequestStartLine, start_line)
        self._method, self._target = request.method, request.path
        self._content_type = headers.get("Content-Type", "")

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def finish(self) -> None:
        self._front.answer(
            self._connection,
            self._method,
            self._target,
            b"".join(self._chunks),
            self._content_type,
        )
