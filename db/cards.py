"""Pinned country cards: each person's card per followed country, and the contacts the
country's leads put on it.

A card row holds what the card should say (`text`) and what Telegram has confirmed (the
message, the text shown, whether it is pinned). Every change queues one outbox row for
the card, unless one is still waiting: that one is brought up to the new text instead,
so changes close together make one edit of the latest text. The dispatcher then takes
the one step the card needs next (`next_step`) and records it (`record_step`); the row
stays queued until the card shows what it should.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from db import deliveries
from db.deliveries import CardState, Recipient
from db.models import (
    Alert,
    CountryCard,
    CountryContacts,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    SeenItem,
    Staff,
)


class Step(StrEnum):
    """One request to Telegram that brings a card closer to what it should show."""

    SEND = "send"  # a new card message
    EDIT = "edit"  # the text changed
    PIN = "pin"
    UNPIN = "unpin"  # no longer followed
    UNPIN_STALE = "unpin stale"  # an older copy replaced by a fresh one
    GONE = "gone"  # not a request: Telegram says the message is gone (deleted by them)


def next_step(card: CardState) -> Step | None:
    """What the card needs next; None when it shows what it should."""
    if card.message_id is None:
        # A card for a country no longer followed is not sent anew just to say so.
        return Step.SEND if card.following else None
    if card.shown_text != card.text:
        return Step.EDIT
    if card.following and not card.pinned:
        return Step.PIN
    if not card.following and card.pinned:
        return Step.UNPIN
    if card.stale_message_id is not None:
        return Step.UNPIN_STALE  # last: the person is never left without a pinned card
    return None


def state_of(card: CountryCard) -> CardState:
    return CardState(
        card_id=card.id or 0,
        text=card.text,
        following=card.following,
        message_id=card.message_id,
        shown_text=card.shown_text,
        pinned=card.pinned,
        stale_message_id=card.stale_message_id,
    )


def card_of(session: Session, *, staff_id: int, country: str) -> CountryCard | None:
    return session.exec(
        select(CountryCard).where(CountryCard.staff_id == staff_id, CountryCard.country == country)
    ).first()


def cards_of(session: Session, *, staff_id: int) -> Sequence[CountryCard]:
    return session.exec(
        select(CountryCard)
        .where(CountryCard.staff_id == staff_id)
        .order_by(col(CountryCard.country))
    ).all()


def followed_cards(session: Session, *, country: str) -> Sequence[CountryCard]:
    """The cards of `country` kept up to date: those of the people who follow it and whom
    Telegram still reaches (a person who writes again gets theirs with the next change)."""
    return session.exec(
        select(CountryCard)
        .join(Staff, col(Staff.id) == CountryCard.staff_id)
        .where(
            CountryCard.country == country,
            col(CountryCard.following).is_(True),
            col(Staff.reachable).is_(True),
        )
        .order_by(col(CountryCard.id))
    ).all()


def show(
    session: Session,
    *,
    staff_id: int,
    chat_id: int,
    country: str,
    text: str,
    now: datetime,
    following: bool = True,
    fresh: bool = False,
    not_before: datetime | None = None,
) -> CountryCard | None:
    """Make a person's card of `country` say `text`; queue what that takes.

    `fresh`: send it as a new message (and unpin the old one once the new one is
    pinned), as `/card` and a new subscription do; otherwise the message is edited.
    A card that already says `text` queues nothing. Returns the card, or None when there
    is no card to tell that the country is no longer followed.
    """
    card = card_of(session, staff_id=staff_id, country=country)
    if card is None:
        if not following:
            return None
        card = CountryCard(staff_id=staff_id, country=country, chat_id=chat_id, text=text)
    elif not fresh and card.text == text and card.following == following:
        return card
    if fresh and card.message_id is not None:
        if card.pinned and card.stale_message_id is None:
            card.stale_message_id = card.message_id
        card.message_id, card.shown_text, card.pinned = None, None, False
    card.chat_id = chat_id
    card.text = text
    card.following = following
    card.version += 1
    card.updated_at = now
    session.add(card)
    session.flush()
    _queue(session, card=card, now=now, not_before=not_before)
    return card


def _queue(
    session: Session, *, card: CountryCard, now: datetime, not_before: datetime | None
) -> None:
    """One outbox row waiting per card: a waiting one takes the new text (the dispatcher
    reads the card's text when it sends anyway); otherwise a new row is queued."""
    assert card.id is not None
    waiting = session.execute(
        update(Delivery)
        .where(
            col(Delivery.card_id) == card.id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(text=card.text)
    ).rowcount  # type: ignore[attr-defined]
    if waiting:
        return
    deliveries.enqueue(
        session,
        kind=DeliveryKind.COUNTRY_CARD,
        dedupe_key=f"card:{card.id}:{card.version}",
        recipients=[Recipient(staff_id=card.staff_id, chat_id=card.chat_id)],
        parts=[card.text],
        priority=Priority.CARD,
        now=now,
        card_id=card.id,
        not_before=not_before,
    )


def show_many(session: Session, *, card_ids: Sequence[int], text: str, now: datetime) -> None:
    """`show` for many cards at once, in a few statements whatever their number: each
    card is to say `text`, and is edited (its waiting row brought up to the new text,
    or a new row queued)."""
    for start in range(0, len(card_ids), 500):
        chunk = list(card_ids[start : start + 500])
        session.execute(
            update(CountryCard)
            .where(col(CountryCard.id).in_(chunk))
            .values(text=text, version=CountryCard.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        waiting = set(
            session.exec(
                select(Delivery.card_id).where(
                    col(Delivery.card_id).in_(chunk),
                    Delivery.status == DeliveryStatus.PENDING.value,
                )
            ).all()
        )
        if waiting:
            session.execute(
                update(Delivery)
                .where(
                    col(Delivery.card_id).in_(waiting),
                    col(Delivery.status) == DeliveryStatus.PENDING.value,
                )
                .values(text=text)
                .execution_options(synchronize_session=False)
            )
        fresh = session.exec(
            select(
                CountryCard.id, CountryCard.staff_id, CountryCard.chat_id, CountryCard.version
            ).where(col(CountryCard.id).in_([i for i in chunk if i not in waiting]))
        ).all()
        deliveries.insert_rows(
            session,
            [
                {
                    "dedupe_key": f"card:{card_id}:{version}",
                    "kind": DeliveryKind.COUNTRY_CARD.value,
                    "card_id": card_id,
                    "staff_id": staff_id,
                    "chat_id": chat_id,
                    "part": 0,
                    "priority": int(Priority.CARD),
                    "text": text,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for card_id, staff_id, chat_id, version in fresh
            ],
        )
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, CountryCard):
            session.expire(loaded)  # loaded before these statements: out of date now


def record_step(
    session: Session,
    *,
    delivery_id: int,
    card_id: int,
    step: Step | None,
    attempts: int,
    now: datetime,
    text: str | None = None,
    message_id: int | None = None,
    next_at: datetime | None = None,
) -> Step | None:
    """Record a step Telegram confirmed (`text` is what SEND or EDIT put there, and SEND
    gives the `message_id`; None: there was nothing to do). The row is done when the
    card needs nothing more, else it stays queued for the next step, which is returned."""
    card = session.get(CountryCard, card_id)
    if card is None:  # the person was forgotten meanwhile; the row went with them
        return None
    if step is Step.SEND:
        card.message_id, card.shown_text, card.pinned = message_id, text, False
    elif step is Step.EDIT:
        card.shown_text = text
    elif step is Step.PIN:
        card.pinned = True
    elif step is Step.UNPIN:
        card.pinned = False
    elif step is Step.UNPIN_STALE:
        card.stale_message_id = None
    elif step is Step.GONE:
        card.message_id, card.shown_text, card.pinned = None, None, False
    session.add(card)
    session.flush()
    following = next_step(state_of(card))
    values: dict[str, object]
    if following is None:
        values = {
            "status": DeliveryStatus.SENT.value,
            "telegram_message_id": card.message_id,
            "sent_at": now,
            "last_error": None,
        }
    else:
        # Not an attempt that failed: the claim is undone, and the next step is due
        # `next_at` (when the chat's own interval allows it), else now.
        values = {
            "status": DeliveryStatus.PENDING.value,
            "attempts": attempts,
            "next_attempt_at": next_at or now,
        }
    session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))
    return following


# -- what a card shows ---------------------------------------------------------------------
@dataclass(frozen=True)
class Advisory:
    """A country's latest advisory level and departure advisory, as official feeds said."""

    level: int | None = None
    level_at: datetime | None = None  # when the feed published it (else: when it was read)
    departure: bool = False
    departure_at: datetime | None = None
    departure_alert_id: int | None = None


def advisory_of(session: Session, *, country: str) -> Advisory:
    """The newest level any feed gave for `country`, and whether a departure advisory is in
    force: the newest feed alert that gives a level or calls for departure decides (a
    later level without the call means it was lifted)."""
    newest = (
        col(Alert.published_at).desc().nulls_last(),
        col(Alert.created_at).desc(),
        col(Alert.id).desc(),
    )
    leveled = session.exec(
        select(Alert)
        .where(
            Alert.country == country,
            col(Alert.source_id).is_not(None),
            col(Alert.level).is_not(None),
        )
        .order_by(*newest)
    ).first()
    deciding = session.exec(
        select(Alert)
        .where(
            Alert.country == country,
            col(Alert.source_id).is_not(None),
            or_(col(Alert.level).is_not(None), col(Alert.departure).is_(True)),
        )
        .order_by(*newest)
    ).first()
    departure = deciding is not None and deciding.departure
    level, level_at = (
        (leveled.level, leveled.published_at or leveled.created_at) if leveled else (None, None)
    )
    if leveled is None:
        # No change to the level has been news yet: what the sources show now.
        shown = session.exec(
            select(SeenItem)
            .where(SeenItem.country == country, col(SeenItem.level).is_not(None))
            .order_by(
                col(SeenItem.published_at).desc().nulls_last(), col(SeenItem.updated_at).desc()
            )
        ).first()
        if shown is not None:
            level, level_at = shown.level, shown.published_at or shown.updated_at
    return Advisory(
        level=level,
        level_at=level_at,
        departure=departure,
        departure_at=(deciding.published_at or deciding.created_at)
        if deciding and departure
        else None,
        departure_alert_id=deciding.id if deciding and departure else None,
    )


# -- the leads' part -----------------------------------------------------------------------
def contacts_of(session: Session, *, country: str) -> list[str]:
    """The emergency numbers and embassy contacts a lead set for `country`, in order."""
    row = session.exec(select(CountryContacts).where(CountryContacts.country == country)).first()
    return [line for line in (row.entries.splitlines() if row else []) if line]


def set_contacts(
    session: Session, *, country: str, entries: Sequence[str], by_staff_id: int, now: datetime
) -> None:
    """Replace `country`'s contacts; no entries clears them."""
    row = session.exec(select(CountryContacts).where(CountryContacts.country == country)).first()
    if not entries:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if row is None:
        row = CountryContacts(country=country)
    row.entries = "\n".join(entries)
    row.set_by_staff_id = by_staff_id
    row.updated_at = now
    session.add(row)
    session.flush()


def forget_cards(session: Session, *, staff_id: int) -> int:
    """Delete a person's cards (their outbox rows go with them)."""
    result = session.execute(delete(CountryCard).where(col(CountryCard.staff_id) == staff_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
