"""`/card` and `/card_set`: a person asks for a fresh copy of a country's pinned card; a
lead sets the emergency numbers and embassy contacts on the cards of a country they
answer for. Each reads the update, calls one rule, replies."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode

from bot import render
from bot.access import command_argument, requires
from bot.cards.rules import follows, give_card, render_card, set_card_contacts
from bot.cards.texts import CARD_SET_USAGE
from bot.context import Context, services
from db import subscriptions
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal
from schedules.countries import Country, leading_country

CARD_USAGE = "Usage: /card <country>, e.g. /card KZ."


def _country(raw: str, usage: str) -> tuple[Country, str]:
    if not raw.strip():
        raise Refusal(usage)
    try:
        return leading_country(raw)
    except ValueError as error:
        raise Refusal(f"{error}\n{usage}") from None


@requires(Role.STAFF)
async def cmd_card(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/card <country>: a fresh copy of the card, pinned and kept up to date."""
    raw = command_argument(update)
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        if not raw:
            followed = subscriptions.countries_of(session, staff_id=person.id or 0)
            if len(followed) != 1:
                mine = f" You follow {', '.join(followed)}." if followed else ""
                raise Refusal(f"{CARD_USAGE}{mine}")
            raw = followed[0]
        found, _ = _country(raw, CARD_USAGE)
        if follows(session, person=person, country=found.code):
            give_card(session, person=person, country=found.code, now=now)
            reply = None
        else:
            reply = (
                f"{render_card(session, country=found.code, now=now)}\n\n"
                f"You don't follow {render.esc(found.name)}, so this copy is not pinned or "
                f"kept up to date. /subscribe {found.code} does both."
            )
    if reply is not None:
        await message.reply_text(reply, parse_mode=ParseMode.HTML)
        return
    await message.reply_text(
        f"Here is your card of {found.label()}: pinned in this chat and kept up to date, "
        "so it stays readable without a connection."
    )
    svc.wake_dispatcher()


@requires(Role.LEAD, action="card_set")
async def cmd_card_set(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/card_set <country> [entries separated by ;]: the card's emergency numbers and
    embassy contacts; nothing after the country clears them."""
    found, rest = _country(command_argument(update), CARD_SET_USAGE)
    svc = services(context)
    with session_scope(svc.engine) as session:
        change = set_card_contacts(
            session, person=person, country=found.code, raw=rest, now=svc.clock()
        )
    if not change.changed:
        reply = (
            f"{found.name}'s card already lists exactly that; nothing changed."
            if change.entries
            else f"{found.name}'s card lists no emergency numbers or embassy contacts; "
            f"nothing changed. {CARD_SET_USAGE}"
        )
        await message.reply_text(reply)
        return
    svc.wake_dispatcher()
    if change.cards == 0:
        updating = "No follower has a card of it yet; every new card will show this."
    elif change.cards == 1:
        updating = "The card of 1 follower is being updated."
    else:
        updating = f"The cards of {change.cards} followers are being updated."
    if change.entries:
        listed = "\n".join(f"• {entry}" for entry in change.entries)
        await message.reply_text(f"{found.name}'s card now lists:\n{listed}\n{updating}")
    else:
        await message.reply_text(
            f"{found.name}'s card no longer lists emergency numbers or embassy contacts. {updating}"
        )
