"""Which country cards to bring up to date, and when; without Telegram.

Every follower of a country sees the same card, made once per change
(`refresh_country_cards`) and queued for each of them; the outbox collapses changes close
together into one edit. A card is sent and pinned when a person starts following a
country or asks for it (`give_card`), and says so and is unpinned when they stop
(`drop_card`). Followers from before cards existed get theirs the same way: `/card`, or
following the country again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.access import require_answers_for
from bot.cards.texts import card_text, parse_contacts, unfollowed_text, without_stamp
from db import audit, cards, curfews, subscriptions
from db import leads as lead_rules
from db.models import Staff

# A card sent in answer to a command goes after the answer, a chat's interval later, so
# that the answer comes first and the card is the newest message in the chat.
AFTER_THE_ANSWER = timedelta(seconds=1)


def render_card(session: Session, *, country: str, now: datetime) -> str:
    """The card of `country` as it stands now."""
    return card_text(
        code=country,
        advisory=cards.advisory_of(session, country=country),
        curfews=curfews.active(session, countries=[country]),
        leads=lead_rules.leads_for_country(session, country=country),
        contacts=cards.contacts_of(session, country=country),
        now=now,
    )


def refresh_country_cards(session: Session, *, countries: Iterable[str], now: datetime) -> int:
    """Bring every follower's card of `countries` up to date; how many cards changed."""
    changed = 0
    for country in sorted(set(countries)):
        followed = cards.followed_cards(session, country=country)
        if not followed:
            continue
        text = render_card(session, country=country, now=now)
        # A card is not edited just to show a newer "Updated" time.
        outdated = [
            card.id or 0 for card in followed if without_stamp(card.text) != without_stamp(text)
        ]
        cards.show_many(session, card_ids=outdated, text=text, now=now)
        changed += len(outdated)
    return changed


def give_card(session: Session, *, person: Staff, country: str, now: datetime) -> None:
    """Send a person a fresh card of `country` and pin it (the old copy is unpinned)."""
    cards.show(
        session,
        staff_id=person.id or 0,
        chat_id=person.chat_id,
        country=country,
        text=render_card(session, country=country, now=now),
        now=now,
        fresh=True,
        not_before=now + AFTER_THE_ANSWER,
    )


def drop_card(session: Session, *, person: Staff, country: str, now: datetime) -> None:
    """A person stopped following `country`: their card says so and is unpinned."""
    cards.show(
        session,
        staff_id=person.id or 0,
        chat_id=person.chat_id,
        country=country,
        text=unfollowed_text(code=country, now=now),
        now=now,
        following=False,
    )


def follows(session: Session, *, person: Staff, country: str) -> bool:
    return country in subscriptions.countries_of(session, staff_id=person.id or 0)


@dataclass(frozen=True)
class ContactsChange:
    entries: list[str]  # what the card lists now
    changed: bool  # False: it listed exactly these already
    cards: int  # followers' cards being updated


def set_card_contacts(
    session: Session, *, person: Staff, country: str, raw: str, now: datetime
) -> ContactsChange:
    """A lead who answers for `country` replaces its emergency numbers and embassy
    contacts (none: clears them); every follower's card is updated. A `Refusal`, with
    nothing changed, for someone else or for entries that are no contacts."""
    require_answers_for(session, person=person, country=country)
    entries = parse_contacts(raw)
    if entries == cards.contacts_of(session, country=country):
        return ContactsChange(entries=entries, changed=False, cards=0)
    cards.set_contacts(
        session, country=country, entries=entries, by_staff_id=person.id or 0, now=now
    )
    audit.by(session, person, action="card_set", country=country, entries=len(entries))
    count = refresh_country_cards(session, countries=[country], now=now)
    return ContactsChange(entries=entries, changed=True, cards=count)
