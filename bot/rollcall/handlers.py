"""Roll calls on Telegram: the commands and the answer buttons.

Staff: `/safe [note]` and `/help_me [note]` at any time (a location shared with them, or
on its own, is recorded); "I need help" alerts the leads of every country the person
follows at once, through the outbox at the highest priority.

Leads (for the countries they picked with `/lead`; admins for all): `/checkin <country>
[message] [deadline]` asks every subscriber "are you safe?" with two buttons and answers
with a live roll (bot.rollcall.live); `/roll` shows names, `/roll_csv` a spreadsheet,
`/checkin_end` closes a round early. Non-responders are reminded every
CHECKIN_REMINDER_MINUTES until the deadline; at the deadline the leads get the list of
those who never answered. What counts is decided in bot.rollcall.rules.

The jobs that remind, escalate and refresh live rolls are in bot.rollcall.jobs.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot import render
from bot.access import command_argument, requires
from bot.context import Context, services
from bot.fanout import continue_fan_outs
from bot.incidents.texts import LOCATION_PASSED_ON, TYPE_WHAT
from bot.messages import IN_TROUBLE, LatestEdits, answer_in_trouble, shown_as
from bot.rollcall.jobs import ROLLS_JOB, job_update_rolls, plan_round_jobs
from bot.rollcall.live import refresh_roll, rolls, services_of
from bot.rollcall.rules import (
    CheckInOutcome,
    PressOutcome,
    answer_press,
    check_in,
    share_location,
    start_checkin,
)
from bot.rollcall.texts import live_roll_text, roll_csv, roll_details
from bot.rollcall.views import end_checkin, find_round, roll_view, running_summary
from bot.whereabouts import rules as whereabouts
from bot.whereabouts import texts as whereabouts_texts
from db import checkins as db
from db.checkins import Answer, RollCall
from db.engine import session_scope
from db.models import Role, Staff
from schedules.countries import country_name

log = logging.getLogger(__name__)

MAX_NOTE = 500


def _note(update: Update) -> str | None:
    note = command_argument(update)[:MAX_NOTE]
    return note or None


def _location(message: Message) -> tuple[float, float] | None:
    if message.location is None:
        return None
    return (message.location.latitude, message.location.longitude)


def _markup(keyboard: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """The answer buttons (built as JSON by the rules) for python-telegram-bot."""
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in keyboard["inline_keyboard"]
        ]
    )


# -- handlers ------------------------------------------------------------------------------
async def _check_in(
    update: Update, context: Context, person: Staff, message: Message, answer: Answer
) -> CheckInOutcome:
    """Record a /safe or /help_me with its note and location, and wake the dispatcher."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        outcome = check_in(
            session,
            person=person,
            answer=answer,
            note=_note(update),
            location=_location(message),
            now=svc.clock(),
        )
    svc.wake_dispatcher()
    return outcome


@requires(Role.STAFF)
async def cmd_safe(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/safe [note]: I am safe (a location sent with it is recorded too)."""
    outcome = await _check_in(update, context, person, message, Answer.SAFE)
    lines = [f"✅ Recorded: you are safe, at {outcome.when}."]
    if outcome.location:
        lines.append("Your location was recorded with it.")
    for round_id, country in outcome.rounds:
        lines.append(f"This answers roll call #{round_id} for {country_name(country)}.")
    await message.reply_text("\n".join(lines))
    for round_id, _ in outcome.rounds:
        await refresh_roll(context.application, round_id)


@requires(Role.STAFF)
async def cmd_help_me(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/help_me [note]: alert my leads now."""
    outcome = await _check_in(update, context, person, message, Answer.HELP)
    if outcome.leads_told == 0:
        await answer_in_trouble(
            message,
            "🆘 Recorded, but there is no security lead I can alert. Call your local "
            "emergency number or your organisation's emergency line now.",
        )
    else:
        shared = ["your name"]
        if person.username:
            shared.append("username")
        if outcome.note:
            shared.append("note")
        if outcome.located:
            shared.append("last shared location")
        with_what = ", ".join(shared[:-1]) + " and " + shared[-1] if len(shared) > 1 else shared[0]
        people = render.plural(outcome.leads_told, "person", "people")
        await answer_in_trouble(
            message,
            f"🆘 Your security leads are being alerted now ({people}) with {with_what}. "
            f"Keep your phone on and send /safe when you are safe.\n\n{TYPE_WHAT}",
        )
    for round_id, _ in outcome.rounds:
        await refresh_roll(context.application, round_id)


@requires(Role.STAFF)
async def cmd_share_location(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """A location sent on its own: recorded (and passed on after a recent call for help)."""
    location = _location(message)
    if location is None:
        return
    svc = services(context)
    now = svc.clock()
    live = message.location.live_period if message.location is not None else None
    with session_scope(svc.engine) as session:
        told = share_location(session, person=person, location=location, now=now)
        # The place it is in becomes their last known place (and, live, follows them).
        located = whereabouts.record_location(
            session,
            person=person,
            latitude=location[0],
            longitude=location[1],
            now=now,
            live_seconds=_seconds(live) if live else None,
            message_id=message.message_id,
        )
    spot = located.spot
    place, offer = whereabouts_texts.location_reply(
        staff_id=person.id or 0,
        offer=located.offer,
        city=spot.city,
        country=spot.country,
        zone=spot.zone,
    )
    if told:
        svc.wake_dispatcher()
        text = LOCATION_PASSED_ON
    else:
        text = "📍 Location recorded. Your leads see it with /help_me and in roll calls."
    await message.reply_text(
        f"{text}\n{place}" if place else text, reply_markup=offer, parse_mode=ParseMode.HTML
    )


def _seconds(period: int | timedelta) -> int:
    return int(period.total_seconds()) if isinstance(period, timedelta) else int(period)


@requires(Role.LEAD, action="checkin")
async def cmd_checkin(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/checkin <country> [message] [deadline]: ask everyone there; reply with a live roll."""
    raw = command_argument(update)
    svc = services(context)
    now = svc.clock()

    def start() -> RollCall:
        with session_scope(svc.engine) as session:
            return start_checkin(session, raw=raw, person=person, now=now, settings=svc.settings)

    def roll(round_id: int) -> str:
        with session_scope(svc.engine) as session:
            started = db.by_id(session, round_id=round_id)
            assert started is not None
            return live_roll_text(started, db.roll_entries(session, rollcall=started))

    # Asking thousands of people is thousands of rows: written off the event loop, so that
    # presses and replies go on meanwhile. The first of them are asked at once; the rest
    # are queued a chunk at a time (bot.fanout), and the lead's live roll follows.
    started = await asyncio.to_thread(start)
    svc.wake_dispatcher()
    continue_fan_outs(svc)
    plan_round_jobs(context.application)
    text = await asyncio.to_thread(roll, started.id or 0)
    reply = await message.reply_text(text, parse_mode=ParseMode.HTML)
    with session_scope(svc.engine) as session:
        db.set_report(
            session,
            round_id=started.id or 0,
            chat_id=reply.chat_id,
            message_id=reply.message_id,
        )
    rolls(context.application).shown[(reply.chat_id, reply.message_id)] = text


@requires(Role.LEAD, action="checkin_end")
async def cmd_checkin_end(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """/checkin_end <round or country>: close a round now."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        ended = end_checkin(
            session, reference=command_argument(update), person=person, now=svc.clock()
        )
    plan_round_jobs(context.application)
    rolls(context.application).last_edit.pop(ended.rollcall.id or 0, None)
    await refresh_roll(context.application, ended.rollcall.id or 0)
    for part in roll_details(ended.rollcall, ended.entries):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="roll")
async def cmd_roll(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/roll [round or country]: the roll with names; alone, the running rounds."""
    reference = command_argument(update)
    engine = services(context).engine
    if not reference:
        with session_scope(engine) as session:
            summary = running_summary(session, person=person)
        await message.reply_text(summary)
        return
    with session_scope(engine) as session:
        view = roll_view(session, reference=reference, person=person)
    for part in roll_details(view.rollcall, view.entries):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="roll_csv")
async def cmd_roll_csv(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/roll_csv <round or country>: the roll as a CSV file."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        rollcall = find_round(
            session, reference=command_argument(update), person=person, action="roll_csv"
        )
        entries = db.roll_entries(session, rollcall=rollcall)
    await message.reply_document(
        document=io.BytesIO(roll_csv(entries)),
        filename=f"rollcall-{rollcall.id}-{rollcall.country}.csv",
        caption=f"Roll call #{rollcall.id}, {country_name(rollcall.country)}, as of "
        f"{render.utc_stamp(svc.clock())}",
    )


@requires(Role.STAFF, action="rollcall_answer")
async def cb_rollcall(update: Update, context: Context, person: Staff, message: Message) -> None:
    """A press on "I'm safe" or "I need help"."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    showing = query.message.text if isinstance(query.message, Message) else None

    def press() -> PressOutcome:
        with session_scope(svc.engine) as session:
            return answer_press(
                session, data=query.data or "", presser=person, now=svc.clock(), showing=showing
            )

    # Its database work goes on in a thread, one press at a time (two quick taps are a
    # first and a second): a crowd pressing must not hold the loop the alerts go out on.
    async with svc.presses:
        outcome = await asyncio.to_thread(press)
    if outcome.refusal is not None:
        await query.answer(outcome.refusal, show_alert=True)
        return
    if outcome.queued:
        svc.wake_dispatcher()
    await query.answer(outcome.toast)
    # The answer is recorded and acknowledged. Showing it in the question and on the live
    # rolls waits for the flood budget, behind every alert going out: it goes on in a
    # task of its own, so that a crowd pressing during a broadcast never holds the bot's
    # update slots (every later press would go unanswered until the broadcast ended).
    svc.later(
        _show_answer(context, query.message, outcome), name=f"rollcall-press:{outcome.round_id}"
    )


async def _show_answer(
    context: Context, question: MaybeInaccessibleMessage | None, outcome: PressOutcome
) -> None:
    # A second tap on a question already showing the answer needs no edit: in a crisis
    # people press again and again, and each edit would take a slot from the alerts.
    showing = question.text if isinstance(question, Message) else None
    if (
        outcome.text is not None
        and question is not None
        and (showing or "").strip() != shown_as(outcome.text)
    ):
        edits = context.application.bot_data.setdefault("rollcall_answer_edits", LatestEdits())
        await edits.show(
            context.bot,
            chat_id=question.chat.id,
            message_id=question.message_id,
            text=outcome.text,
            what=f"roll call {outcome.round_id}: answer",
            reply_markup=_markup(outcome.keyboard),
            extra={"round_id": outcome.round_id},
        )
    if outcome.asked_help and question is not None:
        await context.bot.send_message(question.chat.id, TYPE_WHAT, rate_limit_args=IN_TROUBLE)
    if outcome.recorded:
        await refresh_roll(context.application, outcome.round_id)


# -- wiring ----------------------------------------------------------------------------------
def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the check-in handlers and jobs to the application."""
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            MessageHandler(
                private & filters.LOCATION & filters.UpdateType.MESSAGE, cmd_share_location
            ),
            CallbackQueryHandler(cb_rollcall, pattern=r"^rc:"),
        ]
    )
    jobs = application.job_queue
    assert jobs is not None, "python-telegram-bot[job-queue] is required"
    tick = services_of(application).settings.roll_update_seconds
    jobs.run_repeating(job_update_rolls, interval=tick, first=tick, name=ROLLS_JOB)


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Plan the open rounds' reminder and deadline jobs from the database."""
    plan_round_jobs(application)
