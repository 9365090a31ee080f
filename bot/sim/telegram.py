"""A simulated Telegram Bot API server: the demo, benchmarks, drills and tests use it.

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

The server is stdlib only (``ThreadingHTTPServer`` on a daemon thread). The bot may
run in this process or in a subprocess, so all state sits behind one
``threading.Condition`` which is notified after every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, cast

__all__ = [
    "Edit",
    "FakeTelegram",
    "RateLimits",
    "SentMessage",
    "UploadedFile",
    "check_message_text",
]

# Telegram limits that the bot must respect.
MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64

# How long a getUpdates long poll may block before we answer [] anyway; short so that
# stop() is never held up by a client that asked for a 10 s (or longer) poll.
_MAX_LONG_POLL = 1.0


@dataclass
class RateLimits:
    """Flood-control model. Only sendMessage/sendDocument are limited (not edits)."""

    global_per_second: float = 30.0  # token bucket, capacity == rate
    per_chat_per_second: float = 1.0  # min interval 1/rate between messages to one chat
    per_chat_tolerance: float = 0.05  # seconds of slack for the per-chat interval


@dataclass
class SentMessage:
    """A message the fake accepted from the bot (sendMessage or sendDocument)."""

    chat_id: int
    message_id: int
    text: str  # for sendDocument: the caption or ""
    parse_mode: str | None
    reply_markup: dict[str, Any] | None  # decoded JSON
    at: float  # time.monotonic() when accepted
    method: str  # "sendMessage" or "sendDocument"
    document: bytes | None = None
    filename: str | None = None


@dataclass
class Edit:
    """An accepted editMessageText / editMessageReplyMarkup."""

    chat_id: int
    message_id: int
    text: str | None  # None for editMessageReplyMarkup
    reply_markup: dict[str, Any] | None
    at: float
    parse_mode: str | None = None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as it appears in ``FakeTelegram.calls``."""

    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass
class _FailRule:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _SlowRule:
    seconds: float
    remaining: int


@dataclass
class _Outage:
    method: str
    until: float  # time.monotonic()
    status: int
    description: str
    delay: float


class _ApiError(Exception):
    """Raised inside method handlers; turned into a Bot API error response."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad_request(description: str) -> _ApiError:
    return _ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    # Telegram measures lengths and entity offsets in UTF-16 code units, so an emoji
    # outside the BMP counts twice.
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML


_ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
# The only named entities Telegram understands; everything else (&nbsp; ...) is an error.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class _OpenTag:
    tag: str
    attrs: dict[str, str | None]
    start: int  # UTF-16 offset in the plain text
    language: str | None = None  # for <pre>: from a nested <code class="language-...">


class _TelegramHtml(HTMLParser):
    """Parses Telegram-flavoured HTML the way Telegram does.

    Raises ``_ApiError`` where Telegram would reject the text, and otherwise yields
    what Telegram stores: the plain text plus message entities (UTF-16 offsets), so
    the bot sees ``message.text`` / ``text_html`` exactly as in production.

    ``convert_charrefs=False`` so entities reach us individually and a bare ``&``
    shows up in the data, which is how we can reject what Telegram rejects.
    """

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._stack: list[_OpenTag] = []
        self._plain: list[str] = []
        self._utf16 = 0  # length so far of the text Telegram would display
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]], int]:
        """Return (plain text, entities, plain length in UTF-16 units)."""
        self.feed(self._text)
        self.close()
        if self._stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1].tag}"'
            )
        # Outer entities first, like Telegram.
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._plain), entities, self._utf16

    # Errors quote UTF-8 byte offsets, like Telegram's "... at byte offset N".
    def _index(self, extra_chars: int = 0) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col + extra_chars

    def _offset(self, extra_chars: int = 0) -> int:
        return len(self._text[: self._index(extra_chars)].encode("utf-8"))

    def _fail(self, what: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {what}")

    def _add_plain(self, text: str) -> None:
        self._plain.append(text)
        self._utf16 += _utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        allowed = _ALLOWED_ATTRS.get(tag)
        if allowed is None:
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        for name, _value in attrs:
            if name not in allowed:
                raise self._fail(
                    f'Unsupported attribute "{name}" of tag "{tag}" at byte offset {self._offset()}'
                )
        attr_map = dict(attrs)
        if tag == "span" and attr_map.get("class") != "tg-spoiler":
            raise self._fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            )
        self._stack.append(_OpenTag(tag, attr_map, self._utf16))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise self._fail(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        if self._stack[-1].tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self._stack[-1].tag}>", found "</{tag}>"'
            )
        opened = self._stack.pop()
        css_class = opened.attrs.get("class") or ""
        if (
            tag == "code"
            and self._stack
            and self._stack[-1].tag == "pre"
            and css_class.startswith("language-")
        ):
            # <pre><code class="language-x"> is one "pre" entity with a language.
            self._stack[-1].language = css_class.removeprefix("language-")
            return
        length = self._utf16 - opened.start
        if length == 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag],
            "offset": opened.start,
            "length": length,
        }
        if tag == "a":
            if not opened.attrs.get("href"):
                return  # a link without a target is just text
            entity["url"] = opened.attrs["href"]
        elif tag == "pre" and opened.language:
            entity["language"] = opened.language
        elif tag == "blockquote" and "expandable" in opened.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.attrs.get("emoji-id") or ""
        self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        for bad in ("&", "<"):
            pos = data.find(bad)
            if pos >= 0:
                raise self._fail(f'Unescaped "{bad}" at byte offset {self._offset(pos)}')
        self._add_plain(data)

    def handle_entityref(self, name: str) -> None:
        # html.parser also accepts "&amp" without the semicolon; Telegram does not.
        if name not in _NAMED_ENTITIES or not self._text.startswith(f"&{name};", self._index()):
            raise self._fail(
                f'Unsupported HTML entity "&{name}" at byte offset {self._offset()}; '
                "only &lt; &gt; &amp; &quot; and numeric entities are allowed"
            )
        self._add_plain(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            char = chr(code)
        except (ValueError, OverflowError):
            char = ""
        if not char or not self._text.startswith(f"&#{name};", self._index()):
            raise self._fail(f'Invalid numeric entity "&#{name}" at byte offset {self._offset()}')
        self._add_plain(char)

    def handle_comment(self, data: str) -> None:
        raise self._fail(f"Comments are not supported (byte offset {self._offset()})")

    def handle_decl(self, decl: str) -> None:
        raise self._fail(f"Declarations are not supported (byte offset {self._offset()})")

    def handle_pi(self, data: str) -> None:
        raise self._fail(f"Processing instructions are not supported ({self._offset()})")

    def unknown_decl(self, data: str) -> None:
        raise self._fail(f"Unsupported declaration at byte offset {self._offset()}")


def _checked_text(
    text: str, parse_mode: str | None, *, limit: int, too_long: str, allow_empty: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Apply Telegram's text validation (entities, emptiness, length after parsing).

    Returns the plain text and entities Telegram would store for the message.
    """
    if parse_mode is not None and parse_mode.upper() == "HTML":
        plain, entities, length = _TelegramHtml(text).parse()
    else:
        # Other parse modes (MarkdownV2) are passed through unparsed.
        plain, entities, length = text, [], _utf16_len(text)
    if not allow_empty and not plain.strip():
        raise _bad_request("message text is empty")
    if length > limit:
        raise _bad_request(too_long)
    return plain, entities


def check_message_text(text: str, parse_mode: str | None = "HTML") -> str:
    """What Telegram would show for a message text sent with `parse_mode`.

    Raises ValueError with Telegram's description where Telegram would refuse the text
    (unsupported or unbalanced HTML, a bad entity, empty, over 4096 UTF-16 units), so
    tests can check messages that are built but not sent yet.
    """
    try:
        plain, _ = _checked_text(
            text,
            parse_mode,
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
    except _ApiError as error:
        raise ValueError(error.description) from None
    return plain


def _check_markup(markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")


# ------------------------------------------------------------------ request decoding

# Parameters Telegram defines as strings. PTB sends them verbatim (not JSON-encoded), so
# they must not be JSON-decoded: a message whose text is "123" must stay a string.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "action",
        "language_code",
        "document",
        "photo",
        "business_connection_id",
        "message_effect_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "certificate",
        "thumbnail",
    }
)


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    # PTB JSON-encodes every non-string parameter (chat_id "123", reply_markup "{...}",
    # disable_notification "true"); a value that is not JSON is a plain string
    # (e.g. chat_id "@channel").
    try:
        return json.loads(value)
    except ValueError:
        return value


_HEADER_PARAM_RE = re.compile(r';\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')


def _header_params(header: str) -> dict[str, str]:
    """Parameters of a Content-Type / Content-Disposition header, unescaped like httpx
    escapes them (backslash-escapes, %22 for quotes, %XX for control characters)."""
    params: dict[str, str] = {}
    for match in _HEADER_PARAM_RE.finditer(header):
        name, quoted, bare = match.groups()
        if quoted is None:
            params[name.lower()] = bare.strip()
            continue
        value = re.sub(r"\\(.)", r"\1", quoted)
        value = re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m[1], 16)), value)
        params[name.lower()] = value
    return params


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Small byte-exact multipart/form-data parser (file content must survive intact)."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise _bad_request("multipart body without boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    params: dict[str, Any] = {}
    # Chunks between delimiters; the first is the preamble, the last starts with "--".
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        # Each part is "\r\n" headers "\r\n\r\n" content "\r\n" (the CRLF before the
        # next delimiter belongs to the delimiter, not to the content).
        chunk = chunk.removeprefix(b"\r\n")
        chunk = chunk.removesuffix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition or headers.get("content-type", "").startswith(
            "application/octet-stream"
        ):
            params[name] = UploadedFile(
                filename=disposition.get("filename"),
                content=content,
                content_type=headers.get("content-type"),
            )
        else:
            params[name] = _decode_form_value(name, content.decode("utf-8"))
    return params


def _parse_body(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        k: _decode_form_value(k, v) for k, v in urllib.parse.parse_qsl(query, True)
    }
    mime = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if mime == "multipart/form-data":
        params.update(_parse_multipart(body, content_type))
    elif mime == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise _bad_request(f"invalid JSON body: {exc}") from None
        if not isinstance(decoded, dict):
            raise _bad_request("JSON body must be an object")
        params.update(decoded)
    else:
        # PTB without files: application/x-www-form-urlencoded json_parameters.
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _decode_form_value(k, v) for k, v in pairs})
    return params


def _int_param(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise _bad_request(f"{name} is empty")
        return None
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name}")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    return value


def _markup_param(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = _json_param(params, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------ server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
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
        url = urllib.parse.urlsplit(self.path)
        status, payload = fake._dispatch(
            url.path, body, self.headers.get("Content-Type", ""), url.query
        )
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")


class FakeTelegram:
    """A fake Bot API server; see the module docstring. Use as a context manager."""

    BOT_ID = 7000000001
    BOT_USERNAME = "dutybot_test_bot"
    TOKEN = "7000000001:AAFakeTokenForTestsOnly_abcdefghijklmno"

    def __init__(self, *, rate_limits: RateLimits | None = None) -> None:
        self._cond = threading.Condition()  # RLock inside: predicates may call our getters
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._in_flight = 0
        self._connections: set[socket.socket] = set()

        self._rate_limits = rate_limits
        self._bucket_tokens = 0.0
        self._bucket_at = 0.0
        self._reset_bucket()

        # What the bot did.
        self.sent: list[SentMessage] = []
        self.edits: list[Edit] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # when each of `calls` arrived (time.monotonic())
        self.commands: list[dict[str, Any]] = []
        self.commands_by_scope: dict[str, list[dict[str, Any]]] = {}
        self.too_many_requests = 0
        # When each 429 was answered (time.monotonic()), comparable with SentMessage.at.
        self.too_many_requests_at: list[float] = []
        self.tokens_seen: set[str] = set()
        # The webhook set with setWebhook (url, secret_token, allowed_updates), if any.
        self.webhook: dict[str, Any] | None = None

        # Internal state.
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}  # per chat, shared by bot and user
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # bot messages, current
        self._raw_texts: dict[tuple[int, int], str] = {}  # their text as the bot sent it
        self._last_sent_at: dict[int, float] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._open_callbacks: set[str] = set()
        self._next_callback_id = 1
        self._next_file_id = 1
        self._fail_rules: list[_FailRule] = []
        self._slow_rules: dict[str, list[_SlowRule]] = {}
        self._outages: list[_Outage] = []
        self.outage_answers = 0  # calls answered with an error by fail_for()
        self._blocked: set[int] = set()
        self._forgotten: set[int] = set()

    # ----------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FakeTelegram is already running")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        with self._cond:
            self._stopping = False
        self._server = server
        # A short poll interval keeps stop() (server.shutdown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._cond:
            # Wakes long polls and slow() delays so in-flight requests finish promptly.
            self._stopping = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._in_flight == 0, timeout=2.0)
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections would otherwise keep their handler threads (and
        # the client's pooled sockets) alive after the server is gone.
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=2.0)
        self._server = None
        self._thread = None

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
        if self._server is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/bot"

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, value: RateLimits | None) -> None:
        with self._cond:
            self._rate_limits = value
            self._reset_bucket()
            self._cond.notify_all()

    def _reset_bucket(self) -> None:
        limits = self._rate_limits
        self._bucket_tokens = self._bucket_capacity(limits) if limits else 0.0
        self._bucket_at = time.monotonic()

    @staticmethod
    def _bucket_capacity(limits: RateLimits) -> float:
        # capacity == rate, but at least one message must fit or nothing could ever pass.
        return max(limits.global_per_second, 1.0)

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ----------------------------------------------------------- reading state

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        with self._cond:
            return [m for m in self.sent if m.chat_id == chat_id]

    def _stored(self, chat_id: int, message_id: int) -> dict[str, Any]:
        try:
            return self._messages[(chat_id, message_id)]
        except KeyError:
            known = sorted(mid for cid, mid in self._messages if cid == chat_id)
            raise KeyError(
                f"the bot sent no message {message_id} to chat {chat_id} (its messages there: "
                f"{known})"
            ) from None

    def current_text(self, chat_id: int, message_id: int) -> str:
        with self._cond:
            self._stored(chat_id, message_id)  # KeyError with context if unknown
            return self._raw_texts[(chat_id, message_id)]

    def current_markup(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        with self._cond:
            markup = self._stored(chat_id, message_id).get("reply_markup")
            return cast(dict[str, Any] | None, markup)

    # ----------------------------------------------------------- user activity

    def _user(self, user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "User"}
        user = self._users.get(chat_id)
        if user is not None:
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        if self.webhook is not None:
            return update  # Telegram pushes it to the webhook; getUpdates never serves it
        self._updates.append(update)
        self._cond.notify_all()
        return update

    def inject_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "User",
        username: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """Queue a private message from ``user_id``; returns the update dict.

        With a webhook set, nothing is queued: post the update to the webhook instead.
        """
        with self._cond:
            user = self._user(user_id, first_name, username)
            message: dict[str, Any] = {
                "message_id": self._new_message_id(user_id),
                "date": int(time.time()),
                "chat": self._chat(user_id),
                "from": dict(user),
            }
            if text:
                message["text"] = text
                if text.startswith("/"):
                    # PTB's CommandHandler only fires with a bot_command entity.
                    command = text.split(maxsplit=1)[0]
                    message["entities"] = [
                        {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                    ]
            if location is not None:
                message["location"] = {"latitude": location[0], "longitude": location[1]}
            return self._queue_update({"message": message})

    def inject_callback(
        self,
        user_id: int,
        *,
        chat_id: int,
        message_id: int,
        data: str,
        first_name: str = "User",
        username: str | None = None,
    ) -> str:
        """Queue a button press on a bot message; returns the callback query id."""
        with self._cond:
            message = json.loads(json.dumps(self._stored(chat_id, message_id)))  # deep copy
            query_id = str(4_000_000_000_000_000 + self._next_callback_id)
            self._next_callback_id += 1
            self._open_callbacks.add(query_id)
            self._queue_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": dict(self._user(user_id, first_name, username)),
                        "chat_instance": "ci",
                        "data": data,
                        "message": message,
                    }
                }
            )
            return query_id

    # ----------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (to ``chat_id``, if given) with an error.

        ``description`` is sent as is, so include Telegram's prefix ("Bad Request: ...").
        """
        with self._cond:
            self._fail_rules.append(
                _FailRule(method, status, description, retry_after, count, chat_id)
            )

    def slow(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Delay the next ``count`` responses of ``method`` by ``seconds``."""
        with self._cond:
            self._slow_rules.setdefault(method, []).append(_SlowRule(seconds, count))

    def fail_for(
        self,
        method: str,
        seconds: float,
        *,
        status: int = HTTPStatus.BAD_GATEWAY,
        description: str = "Bad Gateway",
        delay: float = 0.0,
    ) -> None:
        """An outage: every call of ``method`` for the next ``seconds`` fails with ``status``.

        Each answer is held back ``delay`` seconds first; a delay longer than the client's
        read timeout makes the calls time out instead. Nothing is delivered meanwhile.
        """
        with self._cond:
            self._outages.append(
                _Outage(method, time.monotonic() + seconds, int(status), description, delay)
            )

    def in_outage(self, method: str) -> bool:
        """Whether a ``fail_for`` window for ``method`` is still open."""
        with self._cond:
            now = time.monotonic()
            return any(o.method == method and o.until > now for o in self._outages)

    def block(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The person unblocked the bot (and typically writes to it again)."""
        with self._cond:
            self._blocked.discard(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        with self._cond:
            self._forgotten.add(chat_id)

    # ----------------------------------------------------------- waiting

    def _describe(self) -> str:
        recent_calls = [method for method, _ in self.calls[-10:]]
        recent_sent = [(m.chat_id, m.message_id, m.text[:60]) for m in self.sent[-5:]]
        return (
            f"{len(self.sent)} sent, {len(self.edits)} edits, "
            f"{len(self.callback_answers)} callback answers, {len(self.calls)} calls, "
            f"{len(self._updates)} updates not yet fetched; last calls: {recent_calls}; "
            f"last messages: {recent_sent}"
        )

    def wait_for(self, predicate: Callable[[FakeTelegram], bool], timeout: float = 10.0) -> None:
        """Block the calling thread until ``predicate(self)`` holds.

        Do not call this from the event loop the bot runs on (it would freeze the bot);
        use ``await_for`` there.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout=timeout):
                raise TimeoutError(f"condition not met within {timeout:.1f} s: {self._describe()}")

    async def await_for(
        self,
        predicate: Callable[[FakeTelegram], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as wait_for, by design
    ) -> None:
        """Like ``wait_for`` but yields to the event loop (10 ms polls) while waiting."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if predicate(self):
                    return
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"condition not met within {timeout:.1f} s: {self._describe()}"
                    )
            await asyncio.sleep(0.01)

    # ----------------------------------------------------------- dispatch

    def _dispatch(
        self, path: str, body: bytes, content_type: str, query: str
    ) -> tuple[int, dict[str, Any]]:
        match = _PATH_RE.match(path)
        with self._cond:
            self._in_flight += 1
            try:
                if match is None:
                    raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")
                method = match["method"]
                self.tokens_seen.add(match["token"])
                params = _parse_body(body, content_type, query)
                self.calls.append((method, params))
                self.call_times.append(time.monotonic())
                self._cond.notify_all()
                result = self._call(method, params)
                return HTTPStatus.OK, {"ok": True, "result": result}
            except _ApiError as err:
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
        chat_id = _int_param(params, "chat_id", required=False)
        self._apply_outages(method)
        self._apply_fail_rules(method, chat_id)
        self._apply_slow_rules(method)
        # Telegram matches method names case-insensitively.
        handler = self._METHODS.get(method.lower())
        if handler is None:
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
        return handler(self, params)

    def _apply_fail_rules(self, method: str, chat_id: int | None) -> None:
        for rule in self._fail_rules:
            if rule.method == method and rule.chat_id in (None, chat_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                raise _ApiError(rule.status, rule.description, rule.retry_after)

    def _apply_outages(self, method: str) -> None:
        now = time.monotonic()
        self._outages = [o for o in self._outages if o.until > now]
        for outage in self._outages:
            if outage.method == method:
                self.outage_answers += 1
                if outage.delay > 0:
                    # Releases the lock meanwhile, like slow(); stop() cuts it short.
                    self._cond.wait_for(lambda: self._stopping, timeout=outage.delay)
                raise _ApiError(outage.status, outage.description)

    def _apply_slow_rules(self, method: str) -> None:
        rules = self._slow_rules.get(method)
        if not rules:
            return
        rule = rules[0]
        rule.remaining -= 1
        if rule.remaining <= 0:
            rules.pop(0)
        # Waiting on the condition releases the lock, so other requests go on meanwhile,
        # and stop() cuts the delay short.
        self._cond.wait_for(lambda: self._stopping, timeout=rule.seconds)

    def _check_reachable(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise _ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if chat_id in self._forgotten:
            raise _bad_request("chat not found")

    def _target_chat(self, params: dict[str, Any]) -> int:
        chat_id = _int_param(params, "chat_id")
        if chat_id is None:
            # Usernames ("@channel") are not modelled: the bot only talks to private chats.
            raise _bad_request("chat not found")
        self._check_reachable(chat_id)
        return chat_id

    def _check_rate_limits(self, chat_id: int, now: float) -> None:
        limits = self._rate_limits
        if limits is None:
            return
        if limits.per_chat_per_second > 0:
            last = self._last_sent_at.get(chat_id)
            interval = 1.0 / limits.per_chat_per_second - limits.per_chat_tolerance
            if last is not None and now - last < interval:
                wait = last + interval - now
                raise _ApiError(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too Many Requests: retry after {max(1, math.ceil(wait))}",
                    max(1, math.ceil(wait)),
                )
        if limits.global_per_second > 0:
            capacity = self._bucket_capacity(limits)
            elapsed = now - self._bucket_at
            self._bucket_tokens = min(
                capacity, self._bucket_tokens + elapsed * limits.global_per_second
            )
            self._bucket_at = now
            if self._bucket_tokens < 1.0:
                wait = (1.0 - self._bucket_tokens) / limits.global_per_second
                raise _ApiError(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too Many Requests: retry after {max(1, math.ceil(wait))}",
                    max(1, math.ceil(wait)),
                )

    def _accept_send(self, chat_id: int, now: float) -> None:
        # Tokens are only spent by accepted messages, so rejected ones don't skew limits.
        self._last_sent_at[chat_id] = now
        if self._rate_limits is not None and self._rate_limits.global_per_second > 0:
            self._bucket_tokens -= 1.0

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.BOT_ID,
            "is_bot": True,
            "first_name": "Dutybot",
            "username": self.BOT_USERNAME,
        }

    # ----------------------------------------------------------- methods

    def _get_me(self, params: dict[str, Any]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise _ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", required=False) or 0
        limit = _int_param(params, "limit", required=False) or 100
        limit = min(max(limit, 1), 100)
        timeout = float(params.get("timeout") or 0)
        self._confirm_updates(offset)
        if not self._updates and timeout > 0 and not self._stopping:
            self._cond.wait_for(
                lambda: bool(self._updates) or self._stopping,
                timeout=min(timeout, _MAX_LONG_POLL),
            )
            # Another poller may have confirmed updates while we waited.
            self._confirm_updates(offset)
        return [json.loads(json.dumps(u)) for u in self._updates[:limit]]

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            # Like Telegram: a negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]

    def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)  # an empty URL removes the webhook
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        allowed = _json_param(params, "allowed_updates")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed if isinstance(allowed, list) else None,
        }
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None and self.webhook["allowed_updates"] is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        self.commands = commands
        self.commands_by_scope[_scope_key(_json_param(params, "scope"))] = commands
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        key = _scope_key(_json_param(params, "scope"))
        self.commands_by_scope.pop(key, None)
        if key == _scope_key(None):
            self.commands = []
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> Any:
        return self.commands_by_scope.get(_scope_key(_json_param(params, "scope")), [])

    def _send_chat_action(self, params: dict[str, Any]) -> Any:
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            # Also what Telegram says when a query is answered twice.
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(params))
        return True

    def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        now = time.monotonic()
        self._check_rate_limits(chat_id, now)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        parse_mode = params.get("parse_mode")
        plain, entities = _checked_text(
            text,
            parse_mode,
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
        markup = _markup_param(params)
        _check_markup(markup)

        message = self._new_bot_message(chat_id, text)
        self._set_text(message, "text", plain, entities)
        if markup is not None:
            message["reply_markup"] = markup
        self._accept_send(chat_id, now)
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                text=text,
                parse_mode=parse_mode,
                reply_markup=markup,
                at=now,
                method="sendMessage",
            )
        )
        return json.loads(json.dumps(message))

    def _send_document(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        now = time.monotonic()
        self._check_rate_limits(chat_id, now)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        content: bytes | None = None
        filename: str | None = None
        if isinstance(document, UploadedFile):
            content, filename = document.content, document.filename
        elif not isinstance(document, str) or not document:
            raise _bad_request("there is no document in the request")
        caption = params.get("caption")
        caption = "" if caption is None else str(caption)
        parse_mode = params.get("parse_mode")
        plain, entities = _checked_text(
            caption,
            parse_mode,
            limit=MAX_CAPTION_UTF16,
            too_long="message caption is too long",
            allow_empty=True,
        )
        markup = _markup_param(params)
        _check_markup(markup)

        file_no = self._next_file_id
        self._next_file_id += 1
        doc: dict[str, Any] = {
            # A file_id sent back by the bot is "re-sent" as is, like Telegram does.
            "file_id": document if isinstance(document, str) else f"BQACAgFake{file_no:08d}",
            "file_unique_id": f"AgADFake{file_no:08d}",
        }
        if filename is not None:
            doc["file_name"] = filename
        if content is not None:
            doc["file_size"] = len(content)
        message = self._new_bot_message(chat_id, caption)
        message["document"] = doc
        if plain:
            self._set_text(message, "caption", plain, entities)
        if markup is not None:
            message["reply_markup"] = markup
        self._accept_send(chat_id, now)
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                text=caption,
                parse_mode=parse_mode,
                reply_markup=markup,
                at=now,
                method="sendDocument",
                document=content,
                filename=filename,
            )
        )
        return json.loads(json.dumps(message))

    def _new_bot_message(self, chat_id: int, raw_text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
        }
        self._messages[(chat_id, message["message_id"])] = message
        self._raw_texts[(chat_id, message["message_id"])] = raw_text
        return message

    @staticmethod
    def _set_text(
        message: dict[str, Any], field: str, plain: str, entities: list[dict[str, Any]]
    ) -> None:
        # What Telegram stores and returns: the text without markup, formatting as
        # entities (so PTB's message.text_html round-trips).
        message[field] = plain
        entities_field = "entities" if field == "text" else "caption_entities"
        if entities:
            message[entities_field] = entities
        else:
            message.pop(entities_field, None)

    def _message_to_edit(self, params: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
        if params.get("inline_message_id") is not None:
            # The bot never sends inline messages; editing one would be a bug.
            raise _bad_request("message to edit not found")
        chat_id = self._target_chat(params)
        message_id = _int_param(params, "message_id")
        stored = self._messages.get((chat_id, message_id or 0))
        if message_id is None or stored is None:
            raise _bad_request("message to edit not found")
        return chat_id, message_id, stored

    _NOT_MODIFIED = (
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )

    def _edit_message_text(self, params: dict[str, Any]) -> Any:
        chat_id, message_id, stored = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        plain, entities = _checked_text(
            text,
            params.get("parse_mode"),
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
        if "text" not in stored:
            raise _bad_request("there is no text in the message to edit")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = _markup_param(params)
        _check_markup(markup)
        # Telegram compares the result (text and entities), not the markup sent.
        if (
            stored["text"] == plain
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise _bad_request(self._NOT_MODIFIED)
        self._set_text(stored, "text", plain, entities)
        self._raw_texts[(chat_id, message_id)] = text
        self._set_markup(stored, markup)
        return self._record_edit(
            chat_id, message_id, text, markup, stored, parse_mode=params.get("parse_mode")
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        chat_id, message_id, stored = self._message_to_edit(params)
        markup = _markup_param(params)
        _check_markup(markup)
        if stored.get("reply_markup") == markup:
            raise _bad_request(self._NOT_MODIFIED)
        self._set_markup(stored, markup)
        return self._record_edit(chat_id, message_id, None, markup, stored)

    @staticmethod
    def _set_markup(stored: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup is None:
            stored.pop("reply_markup", None)
        else:
            stored["reply_markup"] = markup

    def _record_edit(
        self,
        chat_id: int,
        message_id: int,
        text: str | None,
        markup: dict[str, Any] | None,
        stored: dict[str, Any],
        *,
        parse_mode: str | None = None,
    ) -> Any:
        stored["edit_date"] = int(time.time())
        self.edits.append(
            Edit(
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=parse_mode,
                text=text,
                reply_markup=markup,
                at=time.monotonic(),
            )
        )
        return json.loads(json.dumps(stored))

    _METHODS: ClassVar[dict[str, Callable[[FakeTelegram, dict[str, Any]], Any]]] = {
        "getme": _get_me,
        "getupdates": _get_updates,
        "setwebhook": _set_webhook,
        "getwebhookinfo": _get_webhook_info,
        "deletewebhook": _delete_webhook,
        "setmycommands": _set_my_commands,
        "deletemycommands": _delete_my_commands,
        "getmycommands": _get_my_commands,
        "sendchataction": _send_chat_action,
        "answercallbackquery": _answer_callback_query,
        "sendmessage": _send_message,
        "senddocument": _send_document,
        "editmessagetext": _edit_message_text,
        "editmessagereplymarkup": _edit_message_reply_markup,
    }
