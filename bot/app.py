"""Wiring: `build_application(settings)` registers every handler and job in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import httpx
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine
from telegram import Message, Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import broadcasts, contacts, enrolment, feeds, leads, menus, privacy, subscriptions
from bot.access import requires
from bot.commands import Command
from bot.context import SERVICES_KEY, Context, Services, services
from bot.curfews import handlers as curfews
from bot.curfews.jobs import job_replan_curfews, plan_curfew_jobs
from bot.curfews.rules import queue_due_curfew_messages
from bot.dispatcher import DATABASE_UNAVAILABLE, Dispatcher
from bot.fanout import continue_fan_outs
from bot.health import serve_health
from bot.incidents import handlers as incidents
from bot.listening import (
    WEBHOOK_CHECK_SECONDS,
    TelegramLink,
    build_requests,
    job_check_webhook,
    record_update,
)
from bot.looplag import LoopLag
from bot.ratelimit import ReplyAllowance, SendBudget
from bot.rollcall import handlers as rollcall
from bot.settings import BotSettings
from db import migrations
from db.engine import make_engine
from db.models import Role, Staff
from db.types import utcnow

log = logging.getLogger(__name__)

REPORT_INTERVAL_SECONDS = 2.0
ERROR_TEXT = "Sorry, something went wrong on our side. The operators have the details."
# The updates the bot handles, in both polling and webhook mode.
ALLOWED_UPDATES = ["message", "callback_query"]
# A one-off job (a reminder, a deadline) that met a database outage runs again this much
# later; repeating jobs just run at their next tick.
JOB_RETRY_SECONDS = 30.0


@requires(Role.STAFF)
async def cmd_unknown(update: Update, context: Context, person: Staff, message: Message) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            "I don't know that one. /help lists what you can do."
        )


@requires(Role.STAFF)
async def cb_unknown(update: Update, context: Context, person: Staff, message: Message) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer("That button is no longer valid.", show_alert=True)


async def on_error(update: object, context: Context) -> None:
    """Log first, then tell the person something went wrong (never the details).

    When the failure was Telegram refusing or flooding a send, nothing more is sent: a
    reply would meet the same refusal, and under a flood each failure would add one more.
    Apologies are limited like answers to strangers: during an outage nobody can be
    looked up, and whoever floods the bot must not be answered for every message.
    """
    what = f"job {context.job.name}" if context.job is not None else "an update"
    if isinstance(context.error, RetryAfter):
        # One line, no traceback: a flood may bring many of them.
        log.warning("Telegram flood control (429) while handling %s: %s", what, context.error)
        return
    if isinstance(context.error, TelegramError):
        log.error("Telegram refused a request while handling %s", what, exc_info=context.error)
        return
    if isinstance(context.error, DATABASE_UNAVAILABLE):
        # One line per failure during an outage, not a traceback for every tick and update.
        reason = str(getattr(context.error, "orig", None) or context.error).strip()
        log.error("database unavailable while handling %s: %s", what, reason.splitlines()[0])
        _retry_one_off_job(context)
    else:
        log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        user = update.effective_user
        apologies = services(context).error_replies
        if user is None or not apologies.take(user.id):
            return
        try:
            await update.effective_message.reply_text(ERROR_TEXT)
        except TelegramError:
            log.warning("could not tell the user about the error")
        finally:
            apologies.done()


def _retry_one_off_job(context: Context) -> None:
    """Plan a failed one-off job again; every job is safe to run twice (dedupe keys, claims)."""
    job, jobs = context.job, context.job_queue
    if job is None or jobs is None or not isinstance(job.job.trigger, DateTrigger):
        return
    log.warning("job %s will run again in %.0f s", job.name, JOB_RETRY_SECONDS)
    jobs.run_once(
        job.callback,
        when=JOB_RETRY_SECONDS,
        name=job.name,
        data=job.data,
        job_kwargs={"misfire_grace_time": None},
    )


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    svc: Services = application.bot_data[SERVICES_KEY]
    svc.loop_lag = LoopLag()
    svc.loop_lag.start()
    if svc.settings.health_port:
        svc.health = serve_health(svc)  # first: a port in use stops start-up before any work
    await menus.give_stranger_menu(application.bot, svc.commands)
    # In the background: alerts must not wait for menus.
    svc.menu_task = asyncio.create_task(
        menus.bring_menus_up_to_date(application.bot, svc.engine, svc.commands), name="menus"
    )
    svc.dispatcher = Dispatcher(
        bot=application.bot, engine=svc.engine, settings=svc.settings, clock=svc.clock
    )
    svc.dispatcher.start()
    continue_fan_outs(svc)  # what a crash or a stop left half queued
    svc.http = httpx.AsyncClient(proxy=svc.settings.feed_proxy)
    feeds.plan_source_polls(application)
    # Reminders missed while the bot was down, if still within grace, then the next day's.
    queue_due_curfew_messages(svc)
    plan_curfew_jobs(application)
    await rollcall.on_startup(application)
    log.info("Dutybot is up as @%s", application.bot.username)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    svc: Services = application.bot_data[SERVICES_KEY]
    if svc.menu_task is not None:
        svc.menu_task.cancel()  # what it did not reach, the next start-up does
    if svc.health is not None:
        await svc.health.stop()
    if svc.fan_out_task is not None:
        svc.fan_out_task.cancel()  # between chunks: the next start-up carries on
        with contextlib.suppress(asyncio.CancelledError):
            await svc.fan_out_task
    if svc.dispatcher is not None:
        await svc.dispatcher.stop()
    if svc.http is not None:
        await svc.http.aclose()
    if svc.loop_lag is not None:
        await svc.loop_lag.stop()


# Every command: name, arguments and line shown in /help, the least role that may use
# it, and its handler. Registration, the command menus and /help are built from this
# one table (in this order); tests/bot/test_commands.py checks each handler"s gate
# asks for the role given here.
COMMANDS: tuple[Command, ...] = (
    Command("start", "[invite]", "enrol with an invite", None, enrolment.cmd_start, listed=False),
    Command("help", "", "what you can do here", Role.STAFF, enrolment.cmd_help),
    Command(
        "subscribe",
        "<countries|cities>",
        "get alerts for countries, e.g. /subscribe Kazakhstan, Kyrgyzstan or /subscribe Almaty",
        Role.STAFF,
        subscriptions.cmd_subscribe,
    ),
    Command(
        "unsubscribe",
        "<countries>",
        "stop alerts for countries",
        Role.STAFF,
        subscriptions.cmd_unsubscribe,
    ),
    Command(
        "subscriptions", "", "the countries you follow", Role.STAFF, subscriptions.cmd_subscriptions
    ),
    Command(
        "safe", "[note]", "tell your security team you are safe", Role.STAFF, rollcall.cmd_safe
    ),
    Command("help_me", "[note]", "alert your security leads now", Role.STAFF, rollcall.cmd_help_me),
    Command(
        "curfew", "", "curfews where you are, in local time and UTC", Role.STAFF, curfews.cmd_curfew
    ),
    Command(
        "remind",
        "<30|1h|1h30|off>",
        "when to remind you before a curfew starts",
        Role.STAFF,
        curfews.cmd_remind,
    ),
    Command(
        "contact",
        "[<phone> [; emergency contact]|off]",
        "the phone number and emergency contact your leads see when you ask for help",
        Role.STAFF,
        contacts.cmd_contact,
    ),
    Command(
        "export_me",
        "",
        "everything Dutybot stores about you, as a file",
        Role.STAFF,
        privacy.cmd_export_me,
    ),
    Command(
        "forget_me",
        "",
        "delete your data from Dutybot (asks first)",
        Role.STAFF,
        privacy.cmd_forget_me,
    ),
    Command(
        "broadcast",
        "<country> <text>",
        "send a message to a country's staff",
        Role.LEAD,
        broadcasts.cmd_broadcast,
    ),
    Command(
        "countries",
        "",
        "countries with subscribers and how many",
        Role.LEAD,
        subscriptions.cmd_countries,
    ),
    Command(
        "lead", "[country]", "the countries you lead; /lead KZ adds one", Role.LEAD, leads.cmd_lead
    ),
    Command("unlead", "<country>", "stop leading a country", Role.LEAD, leads.cmd_unlead),
    Command(
        "checkin",
        "<country> [message] [deadline]",
        "start a safety roll call, e.g. /checkin KZ Are you safe? 2h",
        Role.LEAD,
        rollcall.cmd_checkin,
    ),
    Command(
        "roll",
        "[round|country]",
        "who is safe, needs help or has not answered",
        Role.LEAD,
        rollcall.cmd_roll,
    ),
    Command(
        "roll_csv", "<round|country>", "a roll call as a CSV file", Role.LEAD, rollcall.cmd_roll_csv
    ),
    Command(
        "checkin_end",
        "<round|country>",
        "close a roll call now",
        Role.LEAD,
        rollcall.cmd_checkin_end,
    ),
    Command(
        "incidents",
        "",
        "open calls for help: age, who handles each, last message",
        Role.LEAD,
        incidents.cmd_incidents,
    ),
    Command("resolve", "<id>", "close a call for help", Role.LEAD, incidents.cmd_resolve),
    Command(
        "acks", "<alert id>", "who acknowledged a departure advisory", Role.LEAD, feeds.cmd_acks
    ),
    Command(
        "curfew_set",
        "<country or city> [area] <start>-<end> [until <date>]",
        "set a curfew, e.g. /curfew_set Almaty 23:00-07:00",
        Role.LEAD,
        curfews.cmd_curfew_set,
    ),
    Command("curfew_end", "<id>", "lift a curfew early", Role.LEAD, curfews.cmd_curfew_end),
    Command(
        "curfews", "[country]", "active curfews with their ids", Role.LEAD, curfews.cmd_curfews
    ),
    Command(
        "invite", "[lead]", "create a single-use invite link", Role.ADMIN, enrolment.cmd_invite
    ),
    Command(
        "promote",
        "<@user|id> [lead|admin]",
        "raise someone's role",
        Role.ADMIN,
        enrolment.cmd_promote,
    ),
    Command("demote", "<@user|id>", "lower someone's role", Role.ADMIN, enrolment.cmd_demote),
    Command(
        "staff", "", "everyone enrolled, with role and countries", Role.ADMIN, enrolment.cmd_staff
    ),
    Command(
        "sources", "", "official feeds polled, with their health", Role.ADMIN, feeds.cmd_sources
    ),
    Command(
        "source_add",
        "<kind> <url> [country]",
        "poll another feed",
        Role.ADMIN,
        feeds.cmd_source_add,
    ),
    Command("source_remove", "<id>", "stop polling a feed", Role.ADMIN, feeds.cmd_source_remove),
)


def build_application(
    settings: BotSettings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Application:  # type: ignore[type-arg]
    engine = engine or make_engine(settings.database_url, timeout=settings.database_timeout_seconds)
    migrations.prepare(engine, auto_migrate=settings.auto_migrate)
    # Every call to Telegram goes through the link's requests: outages of getUpdates are
    # ridden out and logged once, a rejected token stops the bot (bot/listening.py). Its
    # clock is the real one: a test that moves the bot's clock on has not made Telegram
    # fall silent.
    link = TelegramLink(clock=utcnow, retry_max_seconds=settings.telegram_retry_max_seconds)
    request, get_updates_request = build_requests(link)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .request(request)
        .get_updates_request(get_updates_request)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .concurrent_updates(True)
        # Every message the bot sends, replies included, spends this one budget.
        .rate_limiter(SendBudget(settings.send_rate_per_second))
        .build()
    )

    def allowance() -> ReplyAllowance:
        """Answers to strangers, and apologies, each limited the same way."""
        return ReplyAllowance(
            per_person_seconds=settings.stranger_reply_seconds,
            per_second=settings.stranger_replies_per_second,
            clock=lambda: clock().timestamp(),
        )

    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        engine=engine,
        clock=clock,
        commands=COMMANDS,
        link=link,
        stranger_replies=allowance(),
        error_replies=allowance(),
    )
    webhook_mode = settings.telegram_webhook_url is not None
    if webhook_mode:
        # Before every other handler: an update that arrived is word from Telegram.
        application.add_handler(TypeHandler(Update, record_update), group=-1)

    private = filters.ChatType.PRIVATE
    # New messages only: PTB hands edited messages to command and message handlers too,
    # and an edited "/help_me" must not call for help a second time.
    new = filters.UpdateType.MESSAGE
    application.add_handlers([CommandHandler(c.name, c.handler, filters=new) for c in COMMANDS])
    # Calls for help: whatever a person sends goes here first, in a group of its own, so
    # that nothing typed in trouble is lost; what it leaves goes on to the handlers below.
    application.add_handler(
        MessageHandler(
            private & ~filters.COMMAND & filters.UpdateType.MESSAGE & incidents.SENDABLE,
            incidents.msg_from_person,
        ),
        group=-1,
    )
    application.add_handlers(
        [
            # Enrolment and roles
            # Subscriptions: the "did you mean" buttons
            CallbackQueryHandler(subscriptions.cb_subscription, pattern=r"^sub:"),
            # Lead broadcasts
            CallbackQueryHandler(broadcasts.cb_broadcast, pattern=r"^bc:"),
            # Official feeds
            CallbackQueryHandler(feeds.cb_acknowledge, pattern=r"^ack:"),
            # Curfews
            CallbackQueryHandler(curfews.cb_curfew, pattern=r"^cf:"),
            # Text a lead pastes or forwards: curfews in it are offered for confirmation
            MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, curfews.msg_text),
        ]
    )
    # Safety check-ins and roll calls
    rollcall.register(application)
    # Calls for help: the leads' buttons, and the buttons offered for typed words
    application.add_handlers(
        [
            CallbackQueryHandler(incidents.cb_call, pattern=r"^hc:"),
            CallbackQueryHandler(incidents.cb_offer, pattern=r"^hx:"),
        ]
    )
    # Privacy: a person's copy of their data, and erasure at their request
    application.add_handlers(
        [
            CallbackQueryHandler(privacy.cb_privacy, pattern=r"^pv:"),
        ]
    )
    # Anything else, so strangers and typos get an answer; these must come last.
    application.add_handlers(
        [
            MessageHandler(new & private & (filters.COMMAND | filters.TEXT), cmd_unknown),
            CallbackQueryHandler(cb_unknown),
        ]
    )
    application.add_error_handler(on_error)

    jobs = application.job_queue
    assert jobs is not None, "python-telegram-bot[job-queue] is required"
    jobs.run_repeating(
        broadcasts.job_update_broadcast_reports,
        interval=REPORT_INTERVAL_SECONDS,
        first=REPORT_INTERVAL_SECONDS,
        name="broadcast-reports",
    )
    jobs.run_repeating(job_replan_curfews, interval=3600, first=3600, name="curfew-replan")
    jobs.run_repeating(
        privacy.job_retention,
        interval=privacy.RETENTION_INTERVAL_SECONDS,
        first=privacy.RETENTION_FIRST_SECONDS,
        name=privacy.RETENTION_JOB,
    )
    if webhook_mode:
        jobs.run_repeating(
            job_check_webhook,
            interval=WEBHOOK_CHECK_SECONDS,
            first=0,
            name="webhook-check",
        )
    return application
