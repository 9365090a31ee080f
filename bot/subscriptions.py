"""Country subscriptions: /subscribe, /unsubscribe (several countries or cities at once,
with a "did you mean" button for a near miss), /subscriptions, /countries."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import render
from bot.access import command_argument, requires
from bot.cards.rules import drop_card, give_card
from bot.context import Context, services
from bot.countries import CountriesChange, change_countries
from bot.curfews.jobs import plan_curfew_jobs
from db import leads, subscriptions, whereabouts
from db.engine import session_scope
from db.models import Role, Staff
from schedules.countries import Country, country_name

# A "did you mean" button: follow (f) or stop following (u) a country, for one person.
CALLBACK = re.compile(r"^sub:([fu]):(\d{1,10}):([A-Z]{2})$")


def _join(countries: Sequence[Country]) -> str:
    labels = [c.label() for c in countries]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def change_text(outcome: CountriesChange, *, follow: bool, person: Staff, leads: set[str]) -> str:
    """What /subscribe or /unsubscribe did, name by name: nothing read is left unsaid."""
    lines = [f"{named.city} is in {named.country.name}." for named in outcome.cities]
    if outcome.changed:
        done = "You will now get alerts for" if follow else "You will no longer get alerts for"
        lines.append(f"{done} {_join(outcome.changed)}.")
    if outcome.unchanged:
        already = "You already follow" if follow else "You were not following"
        lines.append(f"{already} {_join(outcome.unchanged)}.")
    followed_only = [c for c in outcome.changed if c.code not in leads]
    if follow and Role(person.role) is Role.LEAD and followed_only:
        # Said once, when a lead starts following a country someone else answers for.
        one = len(followed_only) == 1
        lines.append(
            f"You follow {'it' if one else 'them'}; you do not answer for "
            f"{'it' if one else 'them'}: {'its' if one else 'their'} calls for help, roll "
            f"calls and curfew proposals go to the leads who do. /lead "
            f"{followed_only[0].code} takes {'it' if one else 'one'} on."
        )
    for unknown in outcome.unknown:
        hint = (
            f"Did you mean {unknown.suggestion.label()}?"
            if unknown.suggestion is not None
            else "Use its English name or ISO code, e.g. KZ."
        )
        lines.append(f"I don't know the country “{unknown.text}”. {hint}")
    if (outcome.changed or outcome.unchanged) and outcome.unknown:
        lines.append("Nothing else was changed.")
    return "\n".join(lines)


def suggestion_buttons(
    outcome: CountriesChange, *, follow: bool, person: Staff
) -> InlineKeyboardMarkup | None:
    """One button per "did you mean", doing what the person asked, for them alone."""
    verb, words = ("f", "Follow") if follow else ("u", "Stop following")
    rows = [
        [
            InlineKeyboardButton(
                f"{words} {u.suggestion.label()}",
                callback_data=f"sub:{verb}:{person.id}:{u.suggestion.code}",
            )
        ]
        for u in outcome.unknown
        if u.suggestion is not None
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _apply(
    context: Context, person: Staff, text: str, *, follow: bool
) -> tuple[CountriesChange, set[str]]:
    """Follow or stop following what `text` names: what changed, and which of the
    countries changed the person answers for."""
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        outcome = change_countries(
            session,
            person=person,
            text=text,
            change=subscriptions.subscribe if follow else subscriptions.unsubscribe,
        )
        # Each country now followed gets its card pinned; one no longer followed, unpinned.
        for changed in outcome.changed:
            if follow:
                give_card(session, person=person, country=changed.code, now=now)
            else:
                drop_card(session, person=person, country=changed.code, now=now)
        led = {
            c.code
            for c in outcome.changed
            if leads.answers_for(session, person=person, country=c.code)
        }
    if outcome.changed:
        plan_curfew_jobs(context.application)  # they may now need reminders, or no longer
        svc.wake_dispatcher()
    return outcome, led


async def _change(
    update: Update, context: Context, person: Staff, message: Message, *, follow: bool
) -> None:
    outcome, led = _apply(context, person, command_argument(update), follow=follow)
    await message.reply_text(
        change_text(outcome, follow=follow, person=person, leads=led),
        reply_markup=suggestion_buttons(outcome, follow=follow, person=person),
    )


@requires(Role.STAFF)
async def cmd_subscribe(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/subscribe <countries or cities>"""
    await _change(update, context, person, message, follow=True)


@requires(Role.STAFF)
async def cmd_unsubscribe(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """/unsubscribe <countries or cities>"""
    await _change(update, context, person, message, follow=False)


@requires(Role.STAFF, action="subscribe_button")
async def cb_subscription(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """A press on a "did you mean" button: does what was offered, for whom it was offered."""
    query = update.callback_query
    if query is None:
        return
    match = CALLBACK.match(query.data or "")
    if match is None or int(match[2]) != person.id:
        await query.answer("That button is not yours.", show_alert=True)
        return
    follow = match[1] == "f"
    outcome, led = _apply(context, person, match[3], follow=follow)
    await query.answer()
    await message.reply_text(change_text(outcome, follow=follow, person=person, leads=led))


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
    """/countries: where subscribers are, and people there now who do not follow the
    country (leads only)."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        following = dict(subscriptions.countries_with_subscribers(session))
        there = {
            code: len(subscriptions.audience(session, country=code, now=svc.clock()).present)
            for code in whereabouts.countries_with_people(session, now=svc.clock())
        }
        codes = sorted(set(following) | {code for code, n in there.items() if n})
        leaderless = leads.countries_without_lead(session, countries=codes)
    if not codes:
        await message.reply_text("Nobody follows any country yet.")
        return
    body = "\n".join(
        f"• {country_name(code)} ({code}): {following.get(code, 0)}"
        + (f", and {there[code]} there now" if there.get(code) else "")
        + (" ⚠️ no lead: only admins answer for it" if code in leaderless else "")
        for code in codes
    )
    for part in render.split_html("<b>Countries with subscribers</b>", body):
        await message.reply_text(part, parse_mode=ParseMode.HTML)
