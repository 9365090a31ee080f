"""Country subscriptions: /subscribe, /unsubscribe, /subscriptions, /countries."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode

from bot import render
from bot.access import command_argument, requires
from bot.context import Context, services
from bot.countries import change_country
from bot.curfews.jobs import plan_curfew_jobs
from db import leads, subscriptions
from db.engine import session_scope
from db.models import Role, Staff
from schedules.countries import country_name


@requires(Role.STAFF)
async def cmd_subscribe(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/subscribe <country>"""
    with session_scope(services(context).engine) as session:
        found, added = change_country(
            session, person=person, text=command_argument(update), change=subscriptions.subscribe
        )
        answers = leads.answers_for(session, person=person, country=found.code)
    if not added:
        await message.reply_text(f"You already follow {found.label()}.")
        return
    plan_curfew_jobs(context.application)  # they may now need reminders
    reply = f"You will now get alerts for {found.label()}."
    if Role(person.role) is Role.LEAD and not answers:
        # Said once, when a lead starts following a country someone else answers for.
        reply += (
            f"\nYou follow it; you do not answer for it: its calls for help, roll calls and "
            f"curfew proposals go to the leads who do. /lead {found.code} takes it on."
        )
    await message.reply_text(reply)


@requires(Role.STAFF)
async def cmd_unsubscribe(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """/unsubscribe <country>"""
    with session_scope(services(context).engine) as session:
        found, removed = change_country(
            session, person=person, text=command_argument(update), change=subscriptions.unsubscribe
        )
    if removed:
        plan_curfew_jobs(context.application)
        await message.reply_text(f"You will no longer get alerts for {found.label()}.")
    else:
        await message.reply_text(f"You were not following {found.label()}.")


@requires(Role.STAFF)
async def cmd_subscriptions(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """/subscriptions"""
    with session_scope(services(context).engine) as session:
        codes = subscriptions.countries_of(session, staff_id=person.id or 0)
    if not codes:
        await message.reply_text("You follow no countries yet. Try /subscribe Kazakhstan.")
        return
    names = "\n".join(f"• {country_name(code)} ({code})" for code in codes)
    await message.reply_text(f"You get alerts for:\n{names}")


@requires(Role.LEAD)
async def cmd_countries(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/countries: where subscribers are (leads only)."""
    with session_scope(services(context).engine) as session:
        rows = subscriptions.countries_with_subscribers(session)
    if not rows:
        await message.reply_text("Nobody follows any country yet.")
        return
    body = "\n".join(f"• {country_name(code)} ({code}): {n}" for code, n in rows)
    for part in render.split_html("<b>Countries with subscribers</b>", body):
        await message.reply_text(part, parse_mode=ParseMode.HTML)
