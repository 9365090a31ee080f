"""Hearing from Telegram: the bot keeps listening through outages and never goes deaf quietly.

python-telegram-bot maps both 401 and 404 to `InvalidToken`, and its polling loop gives
up for good on that error while the process stays up. Here the requests to the Bot API
go through `TelegramRequest`, which

- retries the calls the bot listens with (getMe, getUpdates and the webhook calls of
  start-up) for as long as Telegram does not answer them (network errors, timeouts, 5xx,
  and 404, which a proxy or a self-hosted Bot API server behind TELEGRAM_BASE_URL can
  answer for a while), with backoff, logged once when it starts and once when it ends;
- turns a 404 on any other call into a passing `NetworkError`;
- turns a 401 into `TokenRejected` and tells the `TelegramLink`, whose `on_rejected`
  (set by `dutybot run`) stops the bot, which then exits with one line.

`TelegramLink` remembers when the bot last heard from Telegram, for /healthz.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import httpx
from telegram import Update
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest, RequestData

from bot.context import Context, services

log = logging.getLogger(__name__)

# Retried until Telegram answers: without them the bot can neither start nor hear anyone.
LISTENING_METHODS = frozenset({"getMe", "getUpdates", "deleteWebhook", "setWebhook"})
# The first wait before asking again, and how much longer each next one is.
FIRST_RETRY_SECONDS = 1.0
RETRY_GROWTH = 1.5
# The bot's calls (all but getUpdates) share PTB's default of 256 connections, in pools of
# 16 (see TelegramRequest).
POOLS = 16
# Webhook mode: Telegram is asked this often how delivering updates to the bot goes.
WEBHOOK_CHECK_SECONDS = 60.0


class TokenRejected(NetworkError):
    """Telegram answered 401 Unauthorized: it no longer accepts the bot's token.

    A `NetworkError`, so that python-telegram-bot's loops and the dispatcher treat it as
    passing for the moment the process needs to stop; as `InvalidToken` it would make
    PTB's polling loop give up for good and leave a deaf bot running.
    """


def rejection_message() -> str:
    """The one line the operator reads when Telegram refuses the token."""
    return (
        "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token from "
        "BotFather (/mybots, API Token) and put it in the environment or in .env"
    )


@dataclass(frozen=True)
class WebhookStatus:
    """What getWebhookInfo last said about Telegram delivering updates to the bot."""

    checked_at: datetime
    pending_update_count: int
    last_error_date: datetime | None
    last_error_message: str | None


class TelegramLink:
    """When the bot last heard from Telegram, whether it is failing to, and whether
    Telegram still accepts the token. Times come from `clock` (UTC, injectable)."""

    def __init__(self, *, clock: Callable[[], datetime], retry_max_seconds: float) -> None:
        self.clock = clock
        self.retry_max_seconds = retry_max_seconds
        self.started_at = clock()
        self.last_heard_at: datetime | None = None
        self.heard_by: str | None = None  # the call (or "update") last heard by
        self.failing_since: datetime | None = None
        self.failed_attempts = 0
        self.last_error: str | None = None
        self.rejected = False
        # Called once, when Telegram first rejects the token: `dutybot run` stops the bot.
        self.on_rejected: Callable[[], None] | None = None
        self.webhook: WebhookStatus | None = None

    def heard(self, how: str) -> None:
        now = self.clock()
        if self.failing_since is not None:
            log.info(
                "hearing from Telegram again after %.0f s (%d attempts failed)",
                (now - self.failing_since).total_seconds(),
                self.failed_attempts,
            )
            self.failing_since = None
            self.failed_attempts = 0
        self.last_heard_at = now
        self.heard_by = how

    def failed(self, method: str, reason: str) -> None:
        """One failed attempt: logged as a warning only when a run of failures starts."""
        self.failed_attempts += 1
        self.last_error = f"{method}: {reason}"
        if self.failing_since is None:
            self.failing_since = self.clock()
            log.warning(
                "not hearing from Telegram: %s failed (%s); asking again until it answers",
                method,
                reason,
            )
        else:
            log.debug("%s failed again (%s), attempt %d", method, reason, self.failed_attempts)

    def reject(self) -> None:
        if self.rejected:
            return
        self.rejected = True
        self.last_error = "401 Unauthorized: the token was rejected"
        if self.on_rejected is not None:
            self.on_rejected()

    def retry_delay(self, attempt: int) -> float:
        """The wait before asking again after the `attempt`-th failure in a row (from 1)."""
        return min(self.retry_max_seconds, FIRST_RETRY_SECONDS * RETRY_GROWTH ** (attempt - 1))

    def silent_for(self) -> float:
        """Seconds since the bot last heard from Telegram (since start-up, if never)."""
        since = self.last_heard_at or self.started_at
        return max(0.0, (self.clock() - since).total_seconds())


def _api_method(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _describe(code: int, payload: bytes) -> str:
    """ "404 Not Found" from an error response, with Telegram's description when it has one."""
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "HTTP error"
    try:
        body: Any = json.loads(payload.decode("utf-8", "replace"))
        description = str(body.get("description") or "") if isinstance(body, dict) else ""
    except ValueError:
        description = ""
    if description and description != phrase:
        return f"{code} {phrase}: {description[:200]}"
    return f"{code} {phrase}"


class TelegramRequest(HTTPXRequest):
    """PTB's HTTPX request, reading Telegram's answers as described in the module docstring.

    With `pools` above 1 its connections are split into that many pools (of
    `connection_pool_size` each), and each request takes the pool with the fewest
    requests under way. httpcore's pool looks over all of its connections, several times,
    each time a request starts or ends: with a hundred requests under way (paid
    broadcasts) that cost more CPU than the requests themselves. Small pools keep it
    small; a quiet bot uses the first pool alone.
    """

    def __init__(self, link: TelegramLink, *, pools: int = 1, **kwargs: Any) -> None:
        if pools > 1:
            # The pools' clients share one TLS context: loading the certificates for each
            # costs 20 ms of CPU.
            given = kwargs.get("httpx_kwargs") or {}
            kwargs["httpx_kwargs"] = {"verify": httpx.create_ssl_context(), **given}
        super().__init__(**kwargs)
        self.link = link
        self._more_pools = [HTTPXRequest(**kwargs) for _ in range(pools - 1)]
        self._under_way = [0] * pools

    async def initialize(self) -> None:
        await super().initialize()
        for pool in self._more_pools:
            await pool.initialize()

    async def shutdown(self) -> None:
        await super().shutdown()
        for pool in self._more_pools:
            await pool.shutdown()

    async def _pooled(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        """One attempt, through the pool with the fewest requests under way."""
        index = min(range(len(self._under_way)), key=self._under_way.__getitem__)
        self._under_way[index] += 1
        try:
            if index == 0:
                return await super().do_request(url, method, request_data, **timeouts)
            return await self._more_pools[index - 1].do_request(
                url, method, request_data, **timeouts
            )
        finally:
            self._under_way[index] -= 1

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = _api_method(url)
        listening = api_method in LISTENING_METHODS
        attempt = 0
        while True:
            try:
                code, payload = await self._pooled(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except NetworkError as error:  # timeouts too
                if not listening or _own_pool_full(error):
                    # A full pool of our own is nothing Telegram does: the connection is
                    # still held by a request being let go of, as when polling stops.
                    # PTB's polling asks again; its last getUpdates at shutdown must not
                    # wait for ever.
                    raise
                reason = str(error) or type(error).__name__
            else:
                if code == HTTPStatus.UNAUTHORIZED:
                    self.link.reject()
                    raise TokenRejected(_describe(code, payload))
                if HTTPStatus.OK <= code < HTTPStatus.MULTIPLE_CHOICES:
                    if listening:
                        self.link.heard(api_method)
                    return code, payload
                passing = code == HTTPStatus.NOT_FOUND or code >= HTTPStatus.INTERNAL_SERVER_ERROR
                if not passing:
                    return code, payload  # 400, 403, 409, 429: PTB's own errors say it
                if not listening:
                    if code == HTTPStatus.NOT_FOUND:
                        raise NetworkError(_describe(code, payload))
                    return code, payload  # 5xx: PTB raises NetworkError
                reason = _describe(code, payload)
            attempt += 1
            self.link.failed(api_method, reason)
            await asyncio.sleep(self.link.retry_delay(attempt))


def _own_pool_full(error: NetworkError) -> bool:
    """PTB's TimedOut for a request that never left: every connection of its pool busy."""
    return isinstance(error, TimedOut) and error.message.startswith("Pool timeout")


def build_requests(link: TelegramLink) -> tuple[TelegramRequest, TelegramRequest]:
    """The request for every call and the one for getUpdates, sized as PTB's defaults."""
    return TelegramRequest(link, pools=POOLS, connection_pool_size=256 // POOLS), TelegramRequest(
        link, connection_pool_size=1
    )


def _link(context: Context) -> TelegramLink:
    link = services(context).link
    assert link is not None, "build_application gives every bot its link"
    return link


async def record_update(update: Update, context: Context) -> None:
    """Webhook mode: an update that arrived is word from Telegram."""
    _link(context).heard("update")


async def job_check_webhook(context: Context) -> None:
    """Webhook mode: ask Telegram how delivering updates goes; an answer is word from it."""
    link = _link(context)
    try:
        info = await context.bot.get_webhook_info()
    except TokenRejected:
        return  # the link knows; the bot is stopping
    except TelegramError as error:
        link.failed("getWebhookInfo", str(error) or type(error).__name__)
        return
    link.heard("getWebhookInfo")
    error_at = None if info.last_error_date is None else info.last_error_date.astimezone(UTC)
    before = link.webhook
    link.webhook = WebhookStatus(
        checked_at=link.clock(),
        pending_update_count=info.pending_update_count,
        last_error_date=error_at,
        last_error_message=info.last_error_message,
    )
    if error_at is not None and (before is None or before.last_error_date != error_at):
        # Once per error Telegram reports: it could not deliver updates to the webhook.
        log.warning(
            "Telegram could not deliver an update to the webhook at %s: %s (%d waiting)",
            error_at.isoformat(),
            info.last_error_message,
            info.pending_update_count,
        )
