"""Curfew commands and buttons: leads set, confirm and end curfews; staff see theirs and
choose how early they are reminded. Each reads the update, calls one rule, replies."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import render
from bot.access import command_argument, message_text, requires, row_id
from bot.context import Context, services
from bot.curfews.jobs import plan_curfew_jobs
from bot.curfews.parsing import parse_curfew_request, parse_reminder
from bot.curfews.rules import (
    curfews_lifted,
    decide,
    draft_curfew,
    end_curfew,
    propose_curfews,
)
from bot.curfews.texts import describe, draft_text, keyboard, local_today, status_line
from db import curfews, subscriptions
from db.engine import session_scope
from db.models import Role, Staff
from schedules import zones
from schedules.countries import countries_named_in, resolve_country
from schedules.curfew_text import find_curfews, read_alert


@requires(Role.LEAD, action="curfew_set")
async def cmd_curfew_set(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/curfew_set <country or city> [area] <start>-<end> [from <date>] [until <date>]
    [without a break]"""
    svc = services(context)
    now = svc.clock()
    # The gazetteer and the zones' offsets over the curfew's dates take a while to read.
    request = await asyncio.to_thread(
        parse_curfew_request, command_argument(update), today=now.date()
    )
    with session_scope(svc.engine) as session:
        curfew, today = draft_curfew(session, request=request, person=person, now=now)
    await message.reply_text(
        draft_text(
            curfew,
            today=today,
            now=now,
            until_typed=request.until_typed,
            place_note=request.place_note,
        ),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup.de_json(keyboard(curfew.id or 0, proposal=False), None),
    )


@requires(Role.LEAD, action="curfew_button")
async def cb_curfew(update: Update, context: Context, person: Staff, message: Message) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    verb, _, raw_id = query.data.removeprefix("cf:").partition(":")
    curfew_id = row_id(raw_id)
    if verb not in ("ok", "no", "edit") or curfew_id is None:
        await query.answer("That button is not valid.", show_alert=True)
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        decision = decide(session, verb=verb, curfew_id=curfew_id, person=person, now=svc.clock())
    await query.answer(decision.answer)
    if decision.edit_to is not None:
        await query.edit_message_text(render.esc(decision.edit_to))
    if decision.reply is not None and query.message is not None:
        await context.bot.send_message(query.message.chat.id, decision.reply)
    if decision.changed:
        svc.wake_dispatcher()
        plan_curfew_jobs(context.application)


@requires(Role.LEAD, action="curfew_end")
async def cmd_curfew_end(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/curfew_end <id>"""
    args = context.args or []
    curfew_id = row_id(args[0]) if len(args) == 1 else None
    if curfew_id is None:
        await message.reply_text("Usage: /curfew_end <id>; /curfews lists the ids.")
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        count = end_curfew(session, curfew_id=curfew_id, person=person, now=svc.clock())
    svc.wake_dispatcher()
    plan_curfew_jobs(context.application)
    await message.reply_text(
        f"Curfew #{curfew_id} ended; {render.plural(count, 'person', 'people')} "
        f"{'is' if count == 1 else 'are'} being told."
    )


@requires(Role.LEAD)
async def cmd_curfews(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/curfews [country]: active curfews, with ids."""
    countries: Sequence[str] | None = None
    if context.args:
        found = resolve_country(" ".join(context.args))
        if found is None:
            await message.reply_text(f"I don't know the country “{' '.join(context.args)[:40]}”.")
            return
        countries = [found.code]
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        lines = [
            f"#{c.id} {describe(c, now=now)}. {status_line(c, now=now)}"
            for c in curfews.active(session, countries=countries)
        ]
    # Many curfews with long area names run past one message.
    for part in render.split_html("", "\n".join(lines) or "No active curfews."):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.STAFF)
async def cmd_curfew(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/curfew: the curfews where you are, in local time and UTC, and when they next change."""
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        mine = subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now)
        lines = [
            f"🌙 {describe(c, now=now)}.\n{status_line(c, now=now)}"
            for c in curfews.active(session, countries=mine)
        ]
    if not lines:
        await message.reply_text("No curfew is in force in the countries you follow.")
        return
    reminder = (
        f"You are reminded {render.plural(person.curfew_reminder_minutes, 'minute')} "
        "before each start."
        if person.curfew_reminder_minutes is not None
        else "Reminders are off (/remind 60 turns them on)."
    )
    for part in render.split_html("", "\n\n".join([*lines, reminder])):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.STAFF)
async def cmd_remind(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/remind <minutes> | <hours>h[<minutes>] | off"""
    minutes = parse_reminder(command_argument(update))
    with session_scope(services(context).engine) as session:
        curfews.set_reminder_minutes(session, staff=person, minutes=minutes)
    plan_curfew_jobs(context.application)
    if minutes is None:
        await message.reply_text("Curfew reminders are off. /remind 60 turns them back on.")
    else:
        await message.reply_text(
            f"You will be reminded {render.plural(minutes, 'minute')} before each curfew starts."
        )


@requires(Role.STAFF)
async def msg_text(update: Update, context: Context, person: Staff, message: Message) -> None:
    """Text a lead pasted or forwarded: any curfew in it is offered back for confirmation."""
    if message.text is None:
        return
    if Role(person.role) is Role.STAFF:
        await message.reply_text("I don't know that one. /help lists what you can do.")
        return
    text = message_text(update)
    svc = services(context)
    now = svc.clock()
    named = countries_named_in(text)
    reading = read_alert(
        text, reference=now.date(), country=named[0].code if len(named) == 1 else None
    )
    if not reading.curfews and reading.lifts and len(named) == 1:
        with session_scope(svc.engine) as session:
            ending = [
                f"#{c.id} {describe(c, now=now)}"
                for c in curfews_lifted(session, country=named[0].code, lifts=reading.lifts)
            ]
        await message.reply_text(
            "That text says a curfew is lifted. "
            + (
                "Active curfews it may end:\n" + "\n".join(ending) + "\n/curfew_end <id> ends one."
                if ending
                else f"No curfew is active in {named[0].name}."
            )
        )
        return
    if not reading.curfews:
        await message.reply_text(
            "I found no curfew times in that text. Paste or forward an official alert and I "
            "offer you the curfews in it; /broadcast KZ <text> sends your words to a "
            "country's staff; /help_me alerts your own security team; /help lists the rest."
        )
        return
    if len(named) != 1:
        await message.reply_text(
            "Which country is that about? Send it again starting with the country, "
            "e.g. “Kazakhstan: …”."
            if not named
            else "That text names several countries; send it again starting with the one "
            "the curfew is in, e.g. “Kazakhstan: …”."
        )
        return
    published = local_today(zones.zones_for_country(named[0].code)[0], now)
    with session_scope(svc.engine) as session:
        ids = propose_curfews(
            session,
            country=named[0].code,
            windows=find_curfews(text, reference=published, country=named[0].code),
            published=published,
            now=now,
            leads=[person],
        )
    svc.wake_dispatcher()
    if not ids:
        await message.reply_text("I found curfew times but could not tell which time zone.")
