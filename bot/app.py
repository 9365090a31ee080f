"""Wiring: `build_application(settings)` registers every handler and job in one place."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache

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
from bot.cards import handlers as cards
from bot.commands import (
    ALERTS,
    CALLS,
    COVERAGE,
    CURFEWS,
    EMERGENCY,
    PEOPLE,
    REACH,
    SOURCES,
    TRAVEL,
    YOURSELF,
    Command,
)
from bot.context import SERVICES_KEY, Context, Services, services
from bot.curfews import handlers as curfews
from bot.curfews.jobs import job_replan_curfews, plan_curfew_jobs
from bot.curfews.rules import queue_due_curfew_messages
from bot.dispatcher import DATABASE_UNAVAILABLE, Dispatcher
from bot.fallback.inbound import PATH as INBOUND_PATH
from bot.fallback.inbound import InboundSmsHandler, SmsInbound
from bot.fallback.sender import FallbackSender
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
from bot.ratelimit import PAID_RATE, ReplyAllowance, SendBudget
from bot.replicas import LEADERSHIP_SECONDS, Leadership, OnceJobQueue, SenderSeat
from bot.rollcall import handlers as rollcall
from bot.rollcall import live as rollcall_live
from bot.rollcall.jobs import plan_round_jobs
from bot.settings import BotSettings
from bot.whereabouts import handlers as whereabouts
from db import migrations
from db.engine import make_engine
from db.models import Role, Staff
from db.types import utcnow
from schedules import locate
from schedules.curfew_text import places

log = logging.getLogger(__name__)

REPORT_INTERVAL_SECONDS = 2.0
ERROR_TEXT = "Sorry, something went wrong on our side. The operators have the details."
# The updates the bot handles, in both polling and webhook mode.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
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


def file_base_url(api_base_url: str) -> str:
    """Where Telegram serves files for an API address: ".../bot" -> ".../file/bot"."""
    head, bot_, tail = api_base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if bot_ else api_base_url.rstrip("/") + "/file/bot"


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


def _warm_places() -> None:
    started = time.monotonic()
    places.warm()
    locate.warm()
    _freeze_what_is_loaded()
    log.info("places and time-zone boundaries loaded in %.1f s", time.monotonic() - started)


@cache
def _freeze_what_is_loaded() -> None:
    """What is loaded by now stays for the life of the process: it is kept out of the
    garbage collector's full passes, which would otherwise walk all of it every time
    (about 100 ms with the gazetteer loaded, holding up every thread, the event loop's).
    Once per process: a second bot in the same process (the tests) finds it done."""
    gc.collect()
    gc.freeze()


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    svc: Services = application.bot_data[SERVICES_KEY]

    async def refresh_rolls(round_ids: list[int]) -> None:
        """An answer by SMS, or a roll-call message sent by SMS or e-mail, shows in the
        live rolls at once."""
        for round_id in round_ids:
            await rollcall_live.refresh_roll(application, round_id)
        svc.wake_dispatcher()

    svc.loop_lag = LoopLag()
    svc.loop_lag.start()
    if svc.settings.health_port:
        # First: a port in use stops start-up before any work. Answers by SMS arrive on
        # the same server.
        routes = []
        if svc.settings.sms_enabled and svc.settings.sms_auth_token is not None:
            inbound = SmsInbound(
                engine=svc.engine,
                token=svc.settings.sms_auth_token.get_secret_value(),
                url=svc.settings.sms_inbound_url,
                clock=svc.clock,
                after=refresh_rolls,
            )
            routes.append((INBOUND_PATH, InboundSmsHandler, {"inbound": inbound}))
        svc.health = serve_health(svc, routes)
    # In the background: alerts must not wait for menus, nor for the city gazetteer and
    # the zone boundaries that `/subscribe Almaty`, the curfew reader and shared
    # locations read (seconds to load, in a thread).
    svc.menu_task = asyncio.create_task(
        menus.on_startup(application.bot, svc.engine, svc.commands), name="menus"
    )
    svc.warm_task = asyncio.create_task(asyncio.to_thread(_warm_places), name="gazetteer")
    # With other processes on the same PostgreSQL: this one's share of the sending, and
    # whether it runs the scheduled jobs (bot.replicas).
    svc.seat = SenderSeat(svc.engine)
    await svc.seat.start()
    svc.dispatcher = Dispatcher(
        bot=application.bot,
        engine=svc.engine,
        settings=svc.settings,
        clock=svc.clock,
        seat=svc.seat,
    )
    svc.dispatcher.start()
    if svc.settings.fallback_enabled:
        svc.fallback = FallbackSender(
            engine=svc.engine,
            settings=svc.settings,
            clock=svc.clock,
            on_sent=refresh_rolls,
            seat=svc.seat,
        )
        svc.fallback.start()
    continue_fan_outs(svc)  # what a crash or a stop left half queued
    svc.http = httpx.AsyncClient(proxy=svc.settings.feed_proxy)
    feeds.plan_source_polls(application)
    # Reminders missed while the bot was down, if still within grace, then the next day's.
    queue_due_curfew_messages(svc)
    plan_curfew_jobs(application)
    await rollcall.on_startup(application)
    jobs = application.job_queue
    if isinstance(jobs, OnceJobQueue) and jobs.leadership is not None:
        svc.leadership = jobs.leadership
        svc.leadership.try_lead()
        if not svc.leadership.solo:
            jobs.run_repeating(
                job_leadership,
                interval=LEADERSHIP_SECONDS,
                first=LEADERSHIP_SECONDS,
                name="leadership",
            )
    log.info("Dutybot is up as @%s", application.bot.username)


async def job_leadership(context: Context) -> None:
    """Several processes on one PostgreSQL: take the lead when nobody has it (the leader
    died), and, leading, plan again from the database the jobs the others planned (rounds
    started and curfews set there), and the fan-outs they left unfinished."""
    svc = services(context)
    assert svc.leadership is not None
    # In a thread: a database host that froze must not hold the loop.
    took_over = await asyncio.to_thread(svc.leadership.try_lead)
    if not svc.leadership.due_to_plan(took_over):
        return
    if took_over:
        queue_due_curfew_messages(svc)  # reminders the last leader was to send
    plan_curfew_jobs(context.application)
    plan_round_jobs(context.application)
    continue_fan_outs(svc)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    svc: Services = application.bot_data[SERVICES_KEY]
    await svc.stop_background()  # answers already recorded: only their display is lost
    if svc.menu_task is not None:
        svc.menu_task.cancel()  # what it did not reach, the next start-up does
    if svc.warm_task is not None:
        svc.warm_task.cancel()
    if svc.health is not None:
        await svc.health.stop()
    if svc.fallback is not None:
        await svc.fallback.stop()
    if svc.fan_out_task is not None:
        svc.fan_out_task.cancel()  # between chunks: the next start-up carries on
        with contextlib.suppress(asyncio.CancelledError):
            await svc.fan_out_task
    if svc.dispatcher is not None:
        await svc.dispatcher.stop()
    if svc.seat is not None:
        await svc.seat.stop()
    if svc.leadership is not None:
        svc.leadership.release()
    if svc.http is not None:
        await svc.http.aclose()
    if svc.loop_lag is not None:
        await svc.loop_lag.stop()


# Every command: name, arguments and line shown in /help, the least role that may use
# it, its handler and the task /help groups it under. Registration, the command menus
# and /help are built from this one table (in this order);
# tests/bot/test_commands.py checks each handler's gate asks for the role given here.
COMMANDS: tuple[Command, ...] = (
    Command("start", "[invite]", "enrol with an invite", None, enrolment.cmd_start, listed=False),
    # Staff, the urgent first.
    Command(
        "safe",
        "[note]",
        "tell your security team you are safe",
        Role.STAFF,
        rollcall.cmd_safe,
        task=EMERGENCY,
    ),
    Command(
        "help_me",
        "[note]",
        "alert your security team now",
        Role.STAFF,
        rollcall.cmd_help_me,
        task=EMERGENCY,
    ),
    Command(
        "curfew",
        "",
        "curfews in the countries you follow",
        Role.STAFF,
        curfews.cmd_curfew,
        task=EMERGENCY,
    ),
    Command(
        "subscribe",
        "<countries|cities>",
        "get their alerts",
        Role.STAFF,
        subscriptions.cmd_subscribe,
        task=ALERTS,
    ),
    Command(
        "unsubscribe",
        "<countries>",
        "stop their alerts",
        Role.STAFF,
        subscriptions.cmd_unsubscribe,
        task=ALERTS,
    ),
    Command(
        "subscriptions",
        "",
        "the countries you follow",
        Role.STAFF,
        subscriptions.cmd_subscriptions,
        task=ALERTS,
    ),
    Command(
        "card",
        "KZ",
        "its card, pinned, readable offline",
        Role.STAFF,
        cards.cmd_card,
        task=ALERTS,
    ),
    Command(
        "remind",
        "<30|1h|off>",
        "when to remind of curfews",
        Role.STAFF,
        curfews.cmd_remind,
        task=ALERTS,
    ),
    Command(
        "trip",
        "KZ [Almaty] 3 Jan - 20 Jan",
        "its alerts while you are there",
        Role.STAFF,
        whereabouts.cmd_trip,
        task=TRAVEL,
    ),
    Command(
        "trips", "", "your trips, with their ids", Role.STAFF, whereabouts.cmd_trips, task=TRAVEL
    ),
    Command(
        "trip_end", "<id>", "end a trip early", Role.STAFF, whereabouts.cmd_trip_end, task=TRAVEL
    ),
    Command(
        "where",
        "[city]",
        "the time zone your times are in",
        Role.STAFF,
        whereabouts.cmd_where,
        task=TRAVEL,
    ),
    Command(
        "contact",
        "[<phone>; <contact>|off|sms <mobile>|email <address>]",
        "your leads see it; SMS and e-mail if Telegram fails",
        Role.STAFF,
        contacts.cmd_contact,
        task=YOURSELF,
    ),
    Command(
        "export_me",
        "",
        "everything Dutybot stores about you, as a file",
        Role.STAFF,
        privacy.cmd_export_me,
        task=YOURSELF,
    ),
    Command(
        "forget_me",
        "",
        "delete your data (asks first)",
        Role.STAFF,
        privacy.cmd_forget_me,
        task=YOURSELF,
    ),
    Command(
        "help",
        "",
        "what you can do here",
        Role.STAFF,
        enrolment.cmd_help,
        task=YOURSELF,
    ),
    # Leads.
    Command(
        "checkin",
        "KZ [question] [2h]",
        "a safety roll call",
        Role.LEAD,
        rollcall.cmd_checkin,
        task=REACH,
    ),
    Command(
        "roll",
        "[id|KZ]",
        "who is safe, in need, silent",
        Role.LEAD,
        rollcall.cmd_roll,
        task=REACH,
    ),
    Command(
        "broadcast",
        "KZ <text>",
        "message a country's staff",
        Role.LEAD,
        broadcasts.cmd_broadcast,
        task=REACH,
    ),
    Command(
        "whois",
        "KZ",
        "who is there now, who arrives",
        Role.LEAD,
        whereabouts.cmd_whois,
        task=REACH,
    ),
    Command(
        "roll_csv",
        "<id|KZ>",
        "the roll as a spreadsheet",
        Role.LEAD,
        rollcall.cmd_roll_csv,
        task=REACH,
    ),
    Command(
        "checkin_end",
        "<id|KZ>",
        "close a roll call",
        Role.LEAD,
        rollcall.cmd_checkin_end,
        task=REACH,
    ),
    Command(
        "incidents",
        "",
        "open calls for help, owners",
        Role.LEAD,
        incidents.cmd_incidents,
        task=CALLS,
    ),
    Command(
        "resolve", "<id>", "close a call for help", Role.LEAD, incidents.cmd_resolve, task=CALLS
    ),
    Command(
        "curfew_set",
        "<city|KZ> 23:00-07:00",
        "set a curfew",
        Role.LEAD,
        curfews.cmd_curfew_set,
        task=CURFEWS,
    ),
    Command(
        "curfews",
        "[KZ]",
        "active curfews, with ids",
        Role.LEAD,
        curfews.cmd_curfews,
        task=CURFEWS,
    ),
    Command("curfew_end", "<id>", "lift a curfew", Role.LEAD, curfews.cmd_curfew_end, task=CURFEWS),
    Command(
        "acks",
        "<alert id>",
        "who acknowledged it",
        Role.LEAD,
        feeds.cmd_acks,
        task=COVERAGE,
    ),
    Command(
        "countries",
        "",
        "followers, people there, any with no lead",
        Role.LEAD,
        subscriptions.cmd_countries,
        task=COVERAGE,
    ),
    Command(
        "lead",
        "[KZ]",
        "the countries you answer for",
        Role.LEAD,
        leads.cmd_lead,
        task=COVERAGE,
    ),
    Command("unlead", "KZ", "stop answering for it", Role.LEAD, leads.cmd_unlead, task=COVERAGE),
    Command(
        "trips_csv",
        "",
        "caption of a CSV of trips to import",
        Role.LEAD,
        whereabouts.cmd_trips_csv,
        task=COVERAGE,
    ),
    Command(
        "card_set",
        "KZ <entries>",
        "emergency numbers on its cards",
        Role.LEAD,
        cards.cmd_card_set,
        task=COVERAGE,
    ),
    # Admins.
    Command(
        "invite",
        "[lead]",
        "a single-use invite link",
        Role.ADMIN,
        enrolment.cmd_invite,
        task=PEOPLE,
    ),
    Command(
        "staff",
        "",
        "everyone enrolled, role and countries",
        Role.ADMIN,
        enrolment.cmd_staff,
        task=PEOPLE,
    ),
    Command(
        "promote",
        "<@user|id> [lead|admin]",
        "raise someone's role",
        Role.ADMIN,
        enrolment.cmd_promote,
        task=PEOPLE,
    ),
    Command(
        "demote",
        "<@user|id>",
        "lower someone's role",
        Role.ADMIN,
        enrolment.cmd_demote,
        task=PEOPLE,
    ),
    Command(
        "sources",
        "",
        "official feeds polled, and their health",
        Role.ADMIN,
        feeds.cmd_sources,
        task=SOURCES,
    ),
    Command(
        "source_add",
        "<kind> <url> [country]",
        "poll another feed",
        Role.ADMIN,
        feeds.cmd_source_add,
        task=SOURCES,
    ),
    Command(
        "source_remove",
        "<id>",
        "stop polling a feed",
        Role.ADMIN,
        feeds.cmd_source_remove,
        task=SOURCES,
    ),
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
    job_queue = OnceJobQueue()
    job_queue.leadership = Leadership(engine)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(file_base_url(settings.telegram_base_url))
        .request(request)
        .get_updates_request(get_updates_request)
        .post_init(_post_init)
        .post_stop(_post_stop)
        # Scheduled jobs run in one process only, however many share the database.
        .job_queue(job_queue)
        .concurrent_updates(True)
        # Every message the bot sends, replies included, spends this one budget.
        .rate_limiter(
            SendBudget(
                settings.send_rate_per_second,
                paid_rate=PAID_RATE if settings.paid_broadcast else None,
            )
        )
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
            private
            & ~filters.COMMAND
            & filters.UpdateType.MESSAGE
            & incidents.SENDABLE
            & ~whereabouts.TRIP_FILES,
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
    # Whereabouts: trip files, and the new positions of live locations (edited messages,
    # which nothing else reads: an edited text is never answered again)
    application.add_handlers(
        [
            MessageHandler(new & private & whereabouts.CSV_CAPTION, whereabouts.cmd_trips_csv),
            MessageHandler(new & private & whereabouts.CALENDAR, whereabouts.msg_calendar),
            MessageHandler(
                filters.UpdateType.EDITED_MESSAGE & private & filters.LOCATION,
                whereabouts.msg_location_moved,
            ),
        ]
    )
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
    jobs.run_repeating(
        whereabouts.job_trip_briefings,
        interval=whereabouts.BRIEFINGS_INTERVAL_SECONDS,
        first=5,
        name=whereabouts.BRIEFINGS_JOB,
    )
    if webhook_mode:
        jobs.run_repeating(
            job_check_webhook,
            interval=WEBHOOK_CHECK_SECONDS,
            first=0,
            name="webhook-check",
        )
    return application
