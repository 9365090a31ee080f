"""``FakeTelegram``, the simulated Bot API server, and the HTTP server that routes its calls.

The demo, the benchmarks, the drills and the tests use it.

The fake speaks real HTTP on 127.0.0.1, so the bot under test runs its genuine
python-telegram-bot stack (``ApplicationBuilder().base_url(fake.base_url)`` or
``telegram.Bot(token, base_url=fake.base_url)``) and every request goes through
httpx, the PTB request encoder and PTB's error mapping exactly as in production.
Only the Telegram servers are replaced.

What it gives tests:

* a record of what the bot did (``sent``, ``edits``, ``callback_answers``,
  ``calls``, ``commands``) and helpers to read the current state of a message;
* a way to play the user (``inject_message``, ``inject_callback``) that the bot
  picks up through ordinary ``getUpdates`` long polling (with a webhook set by
  ``setWebhook``, the test posts the returned update to the bot's webhook instead);
* the failure modes the bot must survive in the field: flood control (429 with
  ``retry_after``), blocked users (403), vanished chats (400), slow responses,
  one-off errors and outages of a given length (5xx or timeouts), plus the
  validation Telegram applies to HTML and keyboards, so a message that Telegram
  would reject is rejected here too instead of passing silently;
* ``wait_for`` / ``await_for`` so tests wait for an outcome instead of sleeping.

Two HTTP fronts serve the same fake, chosen when it is built: by default
(``server="threaded"``) a stdlib ``ThreadingHTTPServer`` on a daemon thread, a thread per
connection, which is enough for tests; with ``server="async"``, tornado on an event loop
of its own (``async_server``), for benchmarks that send thousands of messages a second
over many connections. Both route every request through ``_answer``: Bot API calls to
``_dispatch``, files to ``/file/bot<token>/...``, and the simulator's own
``GET /sim/stats`` (``stats()`` as JSON; the Bot API has no such path). The bot may run
in this process or in a subprocess, so all state sits behind one
``threading.Condition`` which is notified after every change.

``python -m bot.sim.telegram`` runs the fake as a process of its own.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, cast, get_args

from bot.sim.telegram.client import ClientSide
from bot.sim.telegram.errors import ApiError
from bot.sim.telegram.faults import FaultInjection
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.messages import MessageMethods
from bot.sim.telegram.methods import BotMethods
from bot.sim.telegram.params import int_param, parse_body
from bot.sim.telegram.stats import STATS_PATH, SimStats, sim_stats

# How the fake serves HTTP: a thread per connection, or one event loop (tornado).
ServerKind = Literal["threaded", "async"]
SERVER_KINDS: tuple[ServerKind, ...] = get_args(ServerKind)


class Answer(NamedTuple):
    """An HTTP response, as either front writes it."""

    status: int
    content_type: str
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a bot opening a few hundred connections at
    # once (a crowd's button presses answered together) would find them reset, which
    # Telegram never does.
    request_queue_size = 1024
    fake: FakeTelegram

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the crash-safety tests do this) is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 + Content-Length so httpx can keep connections alive, as with Telegram.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one buffered write (flushed by handle_one_request) and
    # without Nagle; otherwise delayed ACKs add ~40 ms to every request.
    wbufsize = -1
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        cast(_Server, self.server).fake._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            cast(_Server, self.server).fake._track_connection(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        # Keep pytest output clean; `calls` is the log that matters.
        pass

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the blank line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        fake = cast(_Server, self.server).fake
        body = self._read_body()
        answer = fake._answer(self.path, body, self.headers.get("Content-Type", ""))
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


class _Front(Protocol):
    """An HTTP server serving a ``FakeTelegram`` on 127.0.0.1 until ``close()``."""

    @property
    def port(self) -> int: ...

    def close(self) -> None:
        """Stop listening, cut the connections still open and wait for the server's thread."""


class _ThreadedFront:
    """``ThreadingHTTPServer`` on a daemon thread: a thread per connection."""

    def __init__(self, fake: FakeTelegram, port: int) -> None:
        self._fake = fake
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = fake
        # A short poll interval keeps close() (server.shutdown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        # Idle keep-alive connections would otherwise keep their handler threads (and
        # the client's pooled sockets) alive after the server is gone.
        with self._fake._cond:
            connections = list(self._fake._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2.0)


_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")


class FakeTelegram(ClientSide, FaultInjection, MessageMethods, BotMethods):
    """A fake Bot API server; see the module docstring. Use as a context manager.

    The bot's identity (``TOKEN``, ``BOT_ID``, ``BOT_USERNAME``) and the state are in
    ``BotApiState``; each base class adds one part of the fake.
    """

    def __init__(
        self,
        *,
        rate_limits: RateLimits | None = None,
        server: ServerKind = "threaded",
        port: int = 0,
    ) -> None:
        """``server``: which HTTP front serves it (see the module docstring); ``port``: the
        port on 127.0.0.1 to listen on, 0 for any free one."""
        if server not in SERVER_KINDS:
            raise ValueError(f"unknown server {server!r}; choose from {SERVER_KINDS}")
        super().__init__(rate_limits=rate_limits)
        self.server_kind: ServerKind = server
        self._port = port
        self._front: _Front | None = None
        self._in_flight = 0
        # The open client connections, which stop() cuts.
        self._connections: set[socket.socket] = set()

    # ----------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self._front is not None:
            raise RuntimeError("FakeTelegram is already running")
        with self._cond:
            self._stopping = False
        if self.server_kind == "async":
            # Imported here: tornado is loaded only by those who serve through it.
            from bot.sim.telegram.async_server import AsyncFront

            self._front = AsyncFront(self, self._port)
        else:
            self._front = _ThreadedFront(self, self._port)

    def stop(self) -> None:
        front = self._front
        if front is None:
            return
        with self._cond:
            # Wakes long polls and slow() delays so in-flight requests finish promptly.
            self._stopping = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._in_flight == 0, timeout=2.0)
        front.close()
        self._front = None

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._front is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        return f"http://127.0.0.1:{self._front.port}/bot"

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._flood.limits

    @rate_limits.setter
    def rate_limits(self, value: RateLimits | None) -> None:
        with self._cond:
            self._flood.limits = value
            self._cond.notify_all()

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def stats(self) -> SimStats:
        """What was accepted and refused so far, as ``GET /sim/stats`` answers it."""
        with self._cond:
            return sim_stats(self.sent, too_many_requests=self.too_many_requests)

    # ----------------------------------------------------------- routing

    def _answer(self, target: str, body: bytes, content_type: str) -> Answer:
        """The response to a request for ``target`` (path and query), whichever front
        received it."""
        url = urllib.parse.urlsplit(target)
        if url.path.startswith("/file/bot"):
            # A file a user sent, as Telegram's file server gives it: the bytes, or 404.
            with self._cond:
                content = self._files.get(url.path.rsplit("/", 1)[-1])
            if content is None:
                return Answer(HTTPStatus.NOT_FOUND, "application/octet-stream", b"Not Found")
            return Answer(HTTPStatus.OK, "application/octet-stream", content)
        if url.path == STATS_PATH:
            return Answer(HTTPStatus.OK, "application/json", json.dumps(self.stats()).encode())
        status, payload = self._dispatch(url.path, body, content_type, url.query)
        return Answer(status, "application/json", json.dumps(payload).encode("utf-8"))

    def _answer_unless_waiting(self, target: str, body: bytes, content_type: str) -> Answer | None:
        """``_answer``, unless answering may wait on the condition (a long poll, a
        ``slow()`` rule or an outage with a delay): then None, and the caller answers it
        on a thread of its own. Checked and answered under the lock, so no fault can be
        arranged in between."""
        with self._cond:
            if self._may_wait(target):
                return None
            return self._answer(target, body, content_type)

    def _may_wait(self, target: str) -> bool:
        match = _PATH_RE.match(urllib.parse.urlsplit(target).path)
        if match is None:
            return False
        method = match["method"]
        if method.lower() == "getupdates":
            return True
        now = time.monotonic()
        return bool(self._slow_rules.get(method)) or any(
            o.method == method and o.delay > 0 and o.until > now for o in self._outages
        )

    def _dispatch(
        self, path: str, body: bytes, content_type: str, query: str
    ) -> tuple[int, dict[str, Any]]:
        match = _PATH_RE.match(path)
        with self._cond:
            self._in_flight += 1
            try:
                if match is None:
                    raise ApiError(HTTPStatus.NOT_FOUND, "Not Found")
                method = match["method"]
                self.tokens_seen.add(match["token"])
                params = parse_body(body, content_type, query)
                self.calls.append((method, params))
                self.call_times.append(time.monotonic())
                self._cond.notify_all()
                self._check_token(match["token"])
                result = self._call(method, params)
                return HTTPStatus.OK, {"ok": True, "result": result}
            except ApiError as err:
                if err.status == HTTPStatus.TOO_MANY_REQUESTS:
                    self.too_many_requests += 1
                    self.too_many_requests_at.append(time.monotonic())
                response: dict[str, Any] = {
                    "ok": False,
                    "error_code": err.status,
                    "description": err.description,
                }
                if err.retry_after is not None:
                    response["parameters"] = {"retry_after": err.retry_after}
                return err.status, response
            except Exception as exc:
                # A bug in the fake (or a request it cannot make sense of) must surface
                # in the test as an error response, not as a dropped connection.
                return HTTPStatus.INTERNAL_SERVER_ERROR, {
                    "ok": False,
                    "error_code": 500,
                    "description": f"Internal Server Error: fake Telegram failed: {exc!r}",
                }
            finally:
                self._in_flight -= 1
                self._cond.notify_all()

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        chat_id = int_param(params, "chat_id", required=False)
        self._apply_outages(method)
        self._apply_fail_rules(method, chat_id)
        slow = self._take_slow_rule(method)
        self._wait_slow_rule(slow, after=False)
        # Telegram matches method names case-insensitively.
        handler = self._METHODS.get(method.lower())
        if handler is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
        result = handler(self, params)
        self._wait_slow_rule(slow, after=True)
        return result

    # Every method the fake answers, by its name in lower case; any other is a 404.
    _METHODS: ClassVar[dict[str, Callable[[FakeTelegram, dict[str, Any]], Any]]] = {
        "getme": BotMethods._get_me,
        "getupdates": BotMethods._get_updates,
        "setwebhook": BotMethods._set_webhook,
        "getwebhookinfo": BotMethods._get_webhook_info,
        "getfile": BotMethods._get_file,
        "deletewebhook": BotMethods._delete_webhook,
        "setmycommands": BotMethods._set_my_commands,
        "deletemycommands": BotMethods._delete_my_commands,
        "getmycommands": BotMethods._get_my_commands,
        "sendchataction": BotMethods._send_chat_action,
        "answercallbackquery": BotMethods._answer_callback_query,
        "sendmessage": MessageMethods._send_message,
        "senddocument": MessageMethods._send_document,
        "copymessage": MessageMethods._copy_message,
        "editmessagetext": MessageMethods._edit_message_text,
        "editmessagereplymarkup": MessageMethods._edit_message_reply_markup,
        "pinchatmessage": MessageMethods._pin_chat_message,
        "unpinchatmessage": MessageMethods._unpin_chat_message,
    }
