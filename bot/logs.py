"""Logging: one line per event, as text for people or JSON for collectors.

Event lines name what they are about with `extra=` ids (`alert_id`, `round_id`,
`delivery_id`, `staff_id`, `source_id`); the JSON format turns them into fields, so a
collector can follow one alert or delivery through the log. The text format shows the
same ids in the message itself.

Secrets stay out: the libraries that would log request URLs (which hold the bot token)
are kept at WARNING, nothing here logs message texts at INFO, and as a last guard the
token and the webhook secret are masked in every formatted line. Whatever else would
reach standard error on its own (an uncaught exception, in the main thread or another,
an exception Python can only ignore, a warning, an error the event loop caught) is
routed through the same logging, so it is masked and, with `LOG_FORMAT=json`, a JSON line.
What people write stays out too: python-telegram-bot logs a whole update it could not
process (at CRITICAL, with the person's words in it); such a line names the update by id
and kind instead.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import IO, Any, Literal

from pythonjsonlogger.json import JsonFormatter

MASK = "[redacted]"

# Loggers that would say too much at INFO: httpx logs every request URL (with the bot
# token in it); tornado logs every request to /healthz; APScheduler every job run.
_QUIET = ("httpx", "httpcore", "apscheduler", "tornado.access")

_installed: logging.Handler | None = None
# Everything `redact` was told about, for text that does not go through a formatter.
_secrets: set[str] = set()
# Exceptions the bot explains itself in one line (a token Telegram rejected): what the
# libraries log about them, tracebacks included, would only bury that line.
_explained: tuple[type[BaseException], ...] = ()

log = logging.getLogger("bot")


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret `redact` was told about (and `secrets`) replaced by MASK."""
    # Longest first: the whole token before the part of it after the colon.
    for secret in sorted({*_secrets, *secrets}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then masks every secret it has been told about."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner
        self.secrets: set[str] = set()

    def format(self, record: logging.LogRecord) -> str:
        return mask(self.inner.format(record), self.secrets)


def _update_summary(value: object) -> object:
    """An update (or the JSON it came as) as `update 17 (message)`; anything else as it is."""
    if isinstance(value, Mapping) and "update_id" in value:
        kinds = [str(k) for k in value if k != "update_id"]
        return f"update {value['update_id']} ({', '.join(kinds) or 'empty'})"
    update_id = getattr(value, "update_id", None)
    if isinstance(update_id, int):
        kinds = [k for k in _UPDATE_KINDS if getattr(value, k, None) is not None]
        return f"update {update_id} ({', '.join(kinds) or 'other'})"
    return value


_UPDATE_KINDS = ("message", "edited_message", "callback_query", "channel_post", "my_chat_member")


class _WithoutUpdateContents(logging.Filter):
    """Replace updates in python-telegram-bot's log arguments by their id and kind."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram") and record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(_update_summary(a) for a in record.args)
            elif isinstance(record.args, Mapping) and "update_id" in record.args:
                # logging unwraps a lone mapping argument: it is the update itself
                record.args = (_update_summary(record.args),)
        return True


def explained_elsewhere(kind: type[BaseException]) -> None:
    """Leave out of the log every record about a `kind` exception: the bot says it once."""
    global _explained
    if kind not in _explained:
        _explained = (*_explained, kind)


def _not_explained(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    return not (error is not None and isinstance(error, _explained))


def _formatter(log_format: Literal["text", "json"]) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
            json_ensure_ascii=False,
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time, like logging's own last resort."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr


def configure_logging(
    log_format: Literal["text", "json"], *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send INFO and above to `stream` (stderr) in `log_format`; returns the handler.

    Called again, it replaces the handler it installed before.
    """
    global _installed
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(_formatter(log_format)))
    handler.addFilter(_WithoutUpdateContents())
    handler.addFilter(_not_explained)
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    _installed = handler
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    _route_stderr_through_logging()
    return handler


def redact(secrets: Iterable[str]) -> None:
    """Mask these strings in everything logged from now on (the token, the webhook secret)."""
    wanted = {s for s in secrets if len(s) >= 8}  # a short string would mask innocent text
    _secrets.update(wanted)
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.secrets |= wanted


def _excepthook(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    log.critical("uncaught exception", exc_info=(kind, error, traceback))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if issubclass(args.exc_type, SystemExit):
        return  # as Python's own hook: a thread that exits is no error
    name = args.thread.name if args.thread is not None else "a thread"
    error = args.exc_value or args.exc_type()
    log.error("uncaught exception in %s", name, exc_info=(args.exc_type, error, args.exc_traceback))


def _unraisablehook(unraisable: Any) -> None:
    error = unraisable.exc_value or unraisable.exc_type()
    where = unraisable.err_msg or "Exception ignored in"
    exc_info = (unraisable.exc_type, error, error.__traceback__)
    log.error("%s: %r", where, unraisable.object, exc_info=exc_info)


def log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: what it caught, as one logged (masked) event."""
    error = context.get("exception")
    message = str(context.get("message") or "unhandled error in the event loop")
    source = context.get("task") or context.get("future") or context.get("handle")
    where = f" ({source!r:.200})" if source is not None else ""
    if isinstance(error, BaseException):
        log.error("%s%s", message, where, exc_info=(type(error), error, error.__traceback__))
    else:
        log.error("%s%s", message, where)


def _route_stderr_through_logging() -> None:
    """Send what Python would print to stderr by itself through the (masking) log."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook
    logging.captureWarnings(True)
