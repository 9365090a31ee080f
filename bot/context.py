"""What handlers and jobs share: the settings, the database engine, the clock, the dispatcher,
and what the bot last heard from Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()


SERVICES_KEY = "services"


def services(context: Context) -> Services:
    return cast(Services, context.application.bot_data[SERVICES_KEY])
