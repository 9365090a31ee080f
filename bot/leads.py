"""`/lead` and `/unlead`: the countries a lead answers for (see `db.leads` for what that
brings). Leads organise themselves; each change is audited and the admins are told."""

from __future__ import annotations

from telegram import Message, Update

from bot import render
from bot.access import command_argument, requires
from bot.cards.rules import refresh_country_cards
from bot.context import Context, services
from bot.countries import change_country
from db import audit, deliveries, leads
from db.engine import session_scope
from db.models import DeliveryKind, Priority, Role, Staff
from schedules.countries import Country, country_name


@requires(Role.LEAD, action="lead")
async def cmd_lead(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/lead [country]: answer for a country's roll calls and calls for help; alone, list them."""
    argument = command_argument(update)
    if not argument:
        with session_scope(services(context).engine) as session:
            codes = leads.countries_led(session, staff_id=person.id or 0)
        if not codes:
            await message.reply_text("You lead no countries yet. Pick one with /lead <country>.")
        else:
            names = "\n".join(f"• {country_name(c)} ({c})" for c in codes)
            await message.reply_text(f"You lead:\n{names}")
        return
    found, added = _change(context, person, argument, take=True)
    if added:
        await message.reply_text(
            f"You now lead {found.label()}: you answer for it. Its calls for help, roll-call "
            "reports, curfew proposals and unreachable notices come to you, and you may "
            "broadcast, run roll calls and set curfews there."
        )
    else:
        await message.reply_text(f"You already lead {found.label()}.")


@requires(Role.LEAD, action="unlead")
async def cmd_unlead(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/unlead <country>"""
    found, removed = _change(context, person, command_argument(update), take=False)
    await message.reply_text(
        f"You no longer lead {found.label()}." if removed else f"You did not lead {found.label()}."
    )


def _change(context: Context, person: Staff, text: str, *, take: bool) -> tuple[Country, bool]:
    """Take or give up the country `text` names, audited with the change; the admins are
    told when it changed anything. A name that is no country is refused, changing nothing."""
    with session_scope(services(context).engine) as session:
        found, changed = change_country(
            session, person=person, text=text, change=leads.lead if take else leads.unlead
        )
        audit.by(
            session,
            person,
            action="lead" if take else "unlead",
            country=found.code,
            changed=changed,
        )
        if changed:
            # The country's cards name the leads who answer for it.
            refresh_country_cards(session, countries=[found.code], now=services(context).clock())
    if changed:
        _tell_admins(
            context, person, f"{'now' if take else 'no longer'} answers for {found.label()}"
        )
    return found, changed


def _tell_admins(context: Context, person: Staff, change: str) -> None:
    """One message to each admin (but the person) about a change to who answers for what."""
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        # Answering for no country in particular: the admins (db.leads, the one rule).
        admins = leads.leads_for_countries(session, countries=(), exclude=person.id)
        who = (
            f"{person.display_name} (@{person.username})"
            if person.username
            else person.display_name
        )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.LEAD_CHANGE,
            dedupe_key=f"lead-change:{person.id}:{now.isoformat()}",
            about_staff_id=person.id,
            recipients=deliveries.recipients(admins),
            parts=[render.esc(f"👤 {who} {change}.")],
            priority=Priority.NORMAL,
            now=now,
        )
    svc.wake_dispatcher()
