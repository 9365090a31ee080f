"""GET /healthz: is the bot able to do its job? Served from the bot's own event loop.

200 with a JSON report when all is well; 503 with the same report when the database
cannot be reached, the outbox is stuck (a message has been due for longer than
HEALTH_OUTBOX_STUCK_SECONDS while the dispatcher is not waiting out a 429), or the bot has
not heard from Telegram for longer than HEALTH_TELEGRAM_SILENCE_SECONDS. The event loop's
lag over the last minute (median, 99th percentile, worst) is shown beside. Feeds that fail
are shown but do not make the bot unhealthy: they are reported to the admins. Feed URLs
are shown without their user info and query string, which can hold credentials.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import tornado.httpserver
import tornado.netutil
import tornado.web
from sqlalchemy.engine import Engine

from bot.context import Services
from bot.listening import TelegramLink
from bot.looplag import LagSummary
from bot.settings import BotSettings, ConfigError
from db import health
from db.engine import session_scope
from db.health import OutboxState, SourcePoll

log = logging.getLogger(__name__)

# A database that does not answer within this is as good as gone for a health check.
DATABASE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    body: dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


_MASK = "[redacted]"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def mask_url(url: str) -> str:
    """`url` without what may be a credential: the user info and the query string."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{_MASK}@{host}" + (f":{port}" if port is not None else "")
    query = _MASK if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def mask_urls(text: str | None) -> str | None:
    """Every URL in `text` (an error message can quote one) masked as `mask_url` does."""
    return None if text is None else _URL.sub(lambda m: mask_url(m.group(0)), text)


def _telegram(
    link: TelegramLink, *, mode: str, silence_after: float
) -> tuple[str | None, dict[str, Any]]:
    """A problem, if the bot has not heard from Telegram for too long, and the report.

    The silence is measured on the link's own clock, the real one."""
    silent = link.silent_for()
    problem = None
    if link.rejected:
        problem = "Telegram rejected the bot's token (401 Unauthorized)"
    elif silent > silence_after:
        problem = f"not heard from Telegram for {silent:.0f} s"
        if link.last_error is not None:
            problem += f" (last error: {link.last_error})"
    body: dict[str, Any] = {
        "last_heard_at": _iso(link.last_heard_at),
        "heard_by": link.heard_by,
        "silent_seconds": round(silent, 1),
        "silent_after_seconds": silence_after,
        "failing_since": _iso(link.failing_since),
        "failed_attempts": link.failed_attempts,
        "last_error": link.last_error,
        "token_rejected": link.rejected,
    }
    if mode == "webhook":
        hook = link.webhook
        body["webhook"] = (
            None
            if hook is None
            else {
                "checked_at": _iso(hook.checked_at),
                "pending_update_count": hook.pending_update_count,
                "last_error_date": _iso(hook.last_error_date),
                "last_error_message": hook.last_error_message,
            }
        )
    return problem, body


def assess(
    *,
    mode: str,
    now: datetime,
    database_error: str | None,
    sources: list[SourcePoll],
    outbox: OutboxState | None,
    paused_for: float,
    stuck_after: float,
    link: TelegramLink | None = None,
    silence_after: float = 90.0,
    loop_lag: LagSummary | None = None,
) -> HealthReport:
    """The report for what was read; pure, so every rule is tested without a server."""
    problems: list[str] = []
    if database_error is not None:
        problems.append(f"database unreachable ({database_error})")
    telegram_body: dict[str, Any] | None = None
    if link is not None:
        telegram_problem, telegram_body = _telegram(link, mode=mode, silence_after=silence_after)
        if telegram_problem is not None:
            problems.append(telegram_problem)
    outbox_body: dict[str, Any] | None = None
    if outbox is not None:
        overdue = _age(outbox.oldest_due_at, now)
        stuck = overdue is not None and overdue > stuck_after and paused_for <= 0
        if stuck:
            problems.append(f"outbox stuck: a message has been due for {overdue:.0f} s")
        outbox_body = {
            "depth": outbox.depth,
            "oldest_undelivered_age_seconds": _age(outbox.oldest_undelivered_at, now),
            "oldest_due_waiting_seconds": overdue,
            "paused_by_telegram_seconds": round(paused_for, 1),
            "stuck": stuck,
            "stuck_after_seconds": stuck_after,
        }
    body = {
        "status": "failing" if problems else "ok",
        "problems": problems,
        "mode": mode,
        "time": now.isoformat(),
        "database": {"reachable": database_error is None},
        "telegram": telegram_body,
        "sources": None
        if database_error is not None
        else [
            {
                "id": s.id,
                "kind": s.kind,
                "url": mask_url(s.url),
                "country": s.country,
                "last_success_at": _iso(s.last_success_at),
                "last_error": mask_urls(s.last_error),
                "failing_since": _iso(s.failing_since),
            }
            for s in sources
        ],
        "outbox": outbox_body,
        # Shown, not judged: a lag is a symptom; what it delays is judged above.
        "loop_lag": None if loop_lag is None else loop_lag.as_dict(),
    }
    return HealthReport(healthy=not problems, body=body)


def _read(engine: Engine, now: datetime) -> tuple[list[SourcePoll], OutboxState]:
    with session_scope(engine) as session:
        health.ping(session)
        return health.source_polls(session), health.outbox_state(session, now=now)


async def check(
    *,
    engine: Engine,
    now: datetime,
    mode: str,
    paused_for: float,
    stuck_after: float,
    link: TelegramLink | None = None,
    silence_after: float = 90.0,
    loop_lag: LagSummary | None = None,
) -> HealthReport:
    """Read the database off the event loop, so a hanging database cannot stall the bot."""
    database_error: str | None = None
    sources: list[SourcePoll] = []
    outbox: OutboxState | None = None
    try:
        sources, outbox = await asyncio.wait_for(
            asyncio.to_thread(_read, engine, now), timeout=DATABASE_TIMEOUT_SECONDS
        )
    except TimeoutError:
        database_error = f"no answer within {DATABASE_TIMEOUT_SECONDS:.0f} s"
    except Exception as error:
        # The type is enough for the report; the details (never the URL) go to the log.
        database_error = type(error).__name__
        log.debug("health check: database error", exc_info=error)
    return assess(
        mode=mode,
        now=now,
        database_error=database_error,
        sources=sources,
        outbox=outbox,
        paused_for=paused_for,
        stuck_after=stuck_after,
        link=link,
        silence_after=silence_after,
        loop_lag=loop_lag,
    )


Probe = Callable[[], Awaitable[HealthReport]]


class _HealthzHandler(tornado.web.RequestHandler):
    def initialize(self, server: HealthServer) -> None:
        self.server = server

    async def get(self) -> None:
        report = await self.server.probe()
        self.server.note(report)
        self.set_status(200 if report.healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(report.body))


class HealthServer:
    """A tornado server with one route, GET /healthz, on the running event loop."""

    def __init__(self, probe: Probe, routes: list[Any] | None = None) -> None:
        self.probe = probe
        # More routes on the same server: POST /sms/inbound when SMS is on.
        self.routes = routes or []
        self._server: tornado.httpserver.HTTPServer | None = None
        self._healthy = True  # only changes are logged
        self.port = 0

    def start(self, *, listen: str, port: int) -> None:
        """Bind now (raising OSError when the port is taken), then serve on this loop."""
        application = tornado.web.Application(
            [(r"/healthz", _HealthzHandler, {"server": self}), *self.routes],
            log_function=lambda _handler: None,  # a request line per probe is noise
        )
        sockets = tornado.netutil.bind_sockets(port, listen, family=socket.AF_UNSPEC)
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(application)
        self._server.add_sockets(sockets)
        log.info("health endpoint: http://%s:%d/healthz", listen, self.port)

    def note(self, report: HealthReport) -> None:
        """Log when health changes, once, rather than on every probe."""
        if report.healthy == self._healthy:
            return
        if report.healthy:
            log.info("health: ok")
        else:
            log.warning("health: failing: %s", "; ".join(report.body["problems"]))
        self._healthy = report.healthy

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None


def fallback_state(settings: BotSettings) -> dict[str, Any]:
    """What /healthz says of SMS and e-mail: on or off, and after how long (no secrets)."""
    return {
        "status": "on" if settings.fallback_enabled else "off",
        "sms": settings.sms_enabled,
        "email": settings.email_enabled,
        "after_seconds": settings.fallback_after_seconds,
    }


def serve_health(svc: Services, routes: list[Any] | None = None) -> HealthServer:
    """Start /healthz (and `routes`) for the running bot on HEALTH_LISTEN:HEALTH_PORT."""
    settings = svc.settings
    mode = "polling" if settings.telegram_webhook_url is None else "webhook"

    async def probe() -> HealthReport:
        report = await _probe()
        report.body["fallback"] = fallback_state(settings)
        return report

    async def _probe() -> HealthReport:
        dispatcher = svc.dispatcher
        return await check(
            engine=svc.engine,
            now=svc.clock(),
            mode=mode,
            paused_for=dispatcher.pacer.paused_for() if dispatcher is not None else 0.0,
            stuck_after=settings.health_outbox_stuck_seconds,
            link=svc.link,
            silence_after=settings.health_telegram_silence_seconds,
            loop_lag=svc.loop_lag.summary() if svc.loop_lag is not None else None,
        )

    server = HealthServer(probe, routes)
    try:
        server.start(listen=settings.health_listen, port=settings.health_port)
    except OSError as error:
        raise ConfigError(
            f"HEALTH_PORT {settings.health_port} on {settings.health_listen} cannot be used "
            f"({error.strerror or error}): choose a free port, or 0 to turn /healthz off"
        ) from None
    return server
