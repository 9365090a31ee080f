"""Wiring: `build_application(settings)` registers every handler and job in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import httpx
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine
from telegram import BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import broadcasts, enrolment, feeds, leads, privacy, subscriptions
from bot.access import requires
from bot.commands import menu_for
from bot.context import SERVICES_KEY, Context, Services
from bot.curfews import handlers as curfews
from bot.curfews.jobs import job_replan_curfews, plan_curfew_jobs
from bot.curfews.rules import queue_due_curfew_messages
from bot.dispatcher import DATABASE_UNAVAILABLE, Dispatcher
from bot.health import serve_health
from bot.rollcall import handlers as rollcall
from bot.settings import BotSettings
from db import migrations, staff
from db.engine import make_engine, session_scope
from db.models import Role, Staff
from db.types import utcnow

log = logging.getLogger(__name__)

REPORT_INTERVAL_SECONDS = 2.0
# The updates the bot handles, in both polling and webhook mode.
ALLOWED_UPDATES = ["message", "callback_query"]
# A one-off job (a reminder, a deadline) that met a database outage runs again this much
# later; repeating jobs just run at their next tick.
JOB_RETRY_SECONDS = 30.0


@requires(Role.STAFF)
async def cmd_unknown(update: Update, context: Context, person: Staff) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            "I don't know that one. /help lists what you can do."
        )


@requires(Role.STAFF)
async def cb_unknown(update: Update, context: Context, person: Staff) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer("That button is no longer valid.", show_alert=True)


async def on_error(update: object, context: Context) -> None:
    """Log first, then tell the person something went wrong (never the details)."""
    if isinstance(context.error, DATABASE_UNAVAILABLE):
        # One line per failure during an outage, not a traceback for every tick and update.
        reason = str(getattr(context.error, "orig", None) or context.error).strip()
        what = f"job {context.job.name}" if context.job is not None else "an update"
        log.error("database unavailable while handling %s: %s", what, reason.splitlines()[0])
        _retry_one_off_job(context)
    else:
        log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                "Sorry, something went wrong on our side. The operators have the details."
            )
        except TelegramError:
            log.warning("could not tell the user about the error")


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
    if svc.settings.health_port:
        svc.health = serve_health(svc)  # first: a port in use stops start-up before any work
    await application.bot.set_my_commands(
        menu_for(Role.STAFF), scope=BotCommandScopeAllPrivateChats()
    )
    with session_scope(svc.engine) as session:
        privileged = [p for p in staff.everyone(session) if p.role != Role.STAFF.value]
    for person in privileged:
        try:
            await application.bot.set_my_commands(
                menu_for(Role(person.role)), scope=BotCommandScopeChat(person.chat_id)
            )
        except TelegramError as error:
            log.warning("could not set the menu for staff %s: %s", person.id, error)
    svc.dispatcher = Dispatcher(
        bot=application.bot, engine=svc.engine, settings=svc.settings, clock=svc.clock
    )
    svc.dispatcher.start()
    svc.http = httpx.AsyncClient(proxy=svc.settings.feed_proxy)
    feeds.plan_source_polls(application)
    # Reminders missed while the bot was down, if still within grace, then the next day's.
    queue_due_curfew_messages(svc)
    plan_curfew_jobs(application)
    await rollcall.on_startup(application)
    log.info("Dutybot is up as @%s", application.bot.username)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    svc: Services = application.bot_data[SERVICES_KEY]
    if svc.health is not None:
        await svc.health.stop()
    if svc.dispatcher is not None:
        await svc.dispatcher.stop()
    if svc.http is not None:
        await svc.http.aclose()


def build_application(
    settings: BotSettings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Application:  # type: ignore[type-arg]
    engine = engine or make_engine(settings.database_url)
    migrations.prepare(engine, auto_migrate=settings.auto_migrate)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .concurrent_updates(True)
        .build()
    )
    application.bot_data[SERVICES_KEY] = Services(settings=settings, engine=engine, clock=clock)

    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            # Enrolment and roles
            CommandHandler("start", enrolment.cmd_start),
            CommandHandler("help", enrolment.cmd_help),
            CommandHandler("invite", enrolment.cmd_invite),
            CommandHandler("promote", enrolment.cmd_promote),
            CommandHandler("demote", enrolment.cmd_demote),
            CommandHandler("staff", enrolment.cmd_staff),
            # Subscriptions
            CommandHandler("subscribe", subscriptions.cmd_subscribe),
            CommandHandler("unsubscribe", subscriptions.cmd_unsubscribe),
            CommandHandler("subscriptions", subscriptions.cmd_subscriptions),
            CommandHandler("countries", subscriptions.cmd_countries),
            # Lead broadcasts
            CommandHandler("broadcast", broadcasts.cmd_broadcast),
            CallbackQueryHandler(broadcasts.cb_broadcast, pattern=r"^bc:"),
            # Official feeds
            CommandHandler("sources", feeds.cmd_sources),
            CommandHandler("source_add", feeds.cmd_source_add),
            CommandHandler("source_remove", feeds.cmd_source_remove),
            CommandHandler("acks", feeds.cmd_acks),
            CallbackQueryHandler(feeds.cb_acknowledge, pattern=r"^ack:"),
            # Curfews
            CommandHandler("curfew_set", curfews.cmd_curfew_set),
            CommandHandler("curfew_end", curfews.cmd_curfew_end),
            CommandHandler("curfews", curfews.cmd_curfews),
            CommandHandler("curfew", curfews.cmd_curfew),
            CommandHandler("remind", curfews.cmd_remind),
            CallbackQueryHandler(curfews.cb_curfew, pattern=r"^cf:"),
            # Text a lead pastes or forwards: curfews in it are offered for confirmation
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, curfews.msg_text),
        ]
    )
    # Safety check-ins and roll calls
    rollcall.register(application)
    leads.register(application)
    # Privacy: a person's copy of their data, and erasure at their request
    application.add_handlers(
        [
            CommandHandler("export_me", privacy.cmd_export_me),
            CommandHandler("forget_me", privacy.cmd_forget_me),
            CallbackQueryHandler(privacy.cb_privacy, pattern=r"^pv:"),
        ]
    )
    # Anything else, so strangers and typos get an answer; these must come last.
    application.add_handlers(
        [
            MessageHandler(private & (filters.COMMAND | filters.TEXT), cmd_unknown),
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
    return application
