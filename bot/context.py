"""What handlers and jobs share: the settings, the database engine, the clock, the dispatcher,
and what the bot last heard from Telegram."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
from sqlalchemy.engine import Engine
from telegram.ext import CallbackContext

from bot.commands import Command
from bot.looplag import LoopLag
from bot.ratelimit import ReplyAllowance
from bot.settings import BotSettings
from db.types import utcnow

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.fallback.sender import FallbackSender
    from bot.health import HealthServer
    from bot.listening import TelegramLink
    from bot.replicas import Leadership, SenderSeat

Context = CallbackContext[Any, Any, Any, Any]

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: BotSettings
    engine: Engine
    # Injected so tests can move time; everything that asks "what time is it" asks this.
    clock: Callable[[], datetime] = field(default=utcnow)
    dispatcher: Dispatcher | None = None
    # SMS and e-mail for what Telegram does not deliver in time; None when neither is set.
    fallback: FallbackSender | None = None
    http: httpx.AsyncClient | None = None  # for feeds; opened at start-up
    health: HealthServer | None = None  # GET /healthz; started at start-up unless turned off
    commands: tuple[Command, ...] = ()  # the command table (bot.app.COMMANDS)
    menu_task: asyncio.Task[int] | None = None  # bringing people's menus up to date
    warm_task: asyncio.Task[None] | None = None  # loading the city gazetteer at start-up
    link: TelegramLink | None = None  # when the bot last heard from Telegram (/healthz)
    loop_lag: LoopLag | None = None  # how late the event loop runs (/healthz); at start-up
    fan_out_task: asyncio.Task[None] | None = None  # queueing alerts for the rest of a country
    # With several processes on one PostgreSQL (bot.replicas): this one's seat among the
    # senders, and whether it runs the scheduled jobs. Set at start-up.
    seat: SenderSeat | None = None
    leadership: Leadership | None = None
    # Whether a stranger, or someone whose update failed, is answered at all.
    stranger_replies: ReplyAllowance = field(default_factory=ReplyAllowance)
    error_replies: ReplyAllowance = field(default_factory=ReplyAllowance)
    # What a handler left to finish after it returned (`later`); cancelled at a stop.
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # Roll-call presses are worked out in a thread, one at a time (bot.rollcall.handlers),
    # and so are what feed polls found (bot.feeds: two sources announcing one departure
    # must not both start its roll call).
    presses: asyncio.Lock = field(default_factory=asyncio.Lock)
    poll_records: asyncio.Lock = field(default_factory=asyncio.Lock)

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def later(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Finish `work` after the handler returns: what only shows a result (an edit
        waiting for the flood budget behind every alert going out) must not hold one of
        the bot's update slots, nor its stop. A stop cancels what is left of it."""
        task = asyncio.create_task(work, name=name)
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def stop_background(self) -> None:
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)


SERVICES_KEY = "services"


def services(context: Context) -> Services:
    return cast(Services, context.application.bot_data[SERVICES_KEY])
