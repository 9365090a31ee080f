"""Country cards in the database: what step a card needs next, one waiting outbox row per
card whatever the number of changes, card rows after every alert but never starved, and
a person's cards gone with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import cards, deliveries, privacy, staff
from db.cards import Step
from db.deliveries import CardState, Recipient
from db.engine import session_scope
from db.models import CountryCard, Delivery, DeliveryKind, Priority, Role, Staff

NOW = datetime(2022, 1, 6, 4, 0, tzinfo=UTC)


def _person(session: Session, user_id: int = 7_300_000_001) -> Staff:
    return staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name="Kim",
        username=None,
        role=Role.STAFF,
    )


def _state(**changes: object) -> CardState:
    base: dict[str, object] = {
        "card_id": 1,
        "text": "new",
        "following": True,
        "message_id": 5,
        "shown_text": "new",
        "pinned": True,
        "stale_message_id": None,
    }
    base.update(changes)
    return CardState(**base)  # type: ignore[arg-type]


def test_the_next_step_sends_then_pins_edits_unpins_and_clears_old_copies() -> None:
    assert cards.next_step(_state(message_id=None, shown_text=None, pinned=False)) is Step.SEND
    assert cards.next_step(_state(pinned=False)) is Step.PIN
    assert cards.next_step(_state(shown_text="old")) is Step.EDIT
    assert cards.next_step(_state(following=False, shown_text="old")) is Step.EDIT
    assert cards.next_step(_state(following=False)) is Step.UNPIN
    assert cards.next_step(_state(following=False, pinned=False)) is None
    assert cards.next_step(_state(following=False, message_id=None, pinned=False)) is None
    assert cards.next_step(_state(stale_message_id=3)) is Step.UNPIN_STALE
    # The old copy is unpinned only once the new one is pinned.
    assert cards.next_step(_state(stale_message_id=3, pinned=False)) is Step.PIN
    assert cards.next_step(_state()) is None


def _card_rows(session: Session) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery)
            .where(Delivery.kind == DeliveryKind.COUNTRY_CARD.value)
            .order_by(col(Delivery.id))
        )
    )


def test_changes_close_together_leave_one_waiting_row_with_the_latest_text(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        kim = _person(session)
        for n in range(5):
            cards.show(
                session,
                staff_id=kim.id or 0,
                chat_id=kim.chat_id,
                country="KZ",
                text=f"card {n}",
                now=NOW,
            )
        rows = _card_rows(session)
        assert [(r.text, r.status, r.priority) for r in rows] == [
            ("card 4", "pending", Priority.CARD)
        ]
        # The same text again queues nothing.
        card = cards.show(
            session, staff_id=kim.id or 0, chat_id=kim.chat_id, country="KZ", text="card 4", now=NOW
        )
        assert card is not None and card.version == 5
        assert len(_card_rows(session)) == 1
        # Claimed (on its way to Telegram), a change waits in a row of its own.
        (claimed,) = deliveries.claim_due(session, now=NOW, limit=10)
        assert claimed.card is not None and claimed.card.text == "card 4"
        cards.show(
            session, staff_id=kim.id or 0, chat_id=kim.chat_id, country="KZ", text="card 5", now=NOW
        )
        assert [(r.text, r.status) for r in _card_rows(session)] == [
            ("card 4", "sending"),
            ("card 5", "pending"),
        ]
        # The sent card needs pinning: the row stays queued, its claim undone.
        following = cards.record_step(
            session,
            delivery_id=claimed.id,
            card_id=claimed.card.card_id,
            step=Step.SEND,
            attempts=claimed.attempts,
            now=NOW,
            text="card 4",
            message_id=11,
        )
        assert following is Step.EDIT  # to "card 5"
        first = session.get(Delivery, claimed.id)
        assert first is not None and first.status == "pending" and first.attempts == 0


def test_a_card_row_waits_behind_every_alert_but_is_raised_when_kept_waiting(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        kim = _person(session)
        cards.show(
            session, staff_id=kim.id or 0, chat_id=kim.chat_id, country="KZ", text="card", now=NOW
        )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.FEED_ALERT,
            dedupe_key="alert:1",
            recipients=[Recipient(kim.id or 0, kim.chat_id)],
            parts=["routine advisory"],
            priority=Priority.ROUTINE,
            now=NOW + timedelta(minutes=20),
        )
        later = NOW + timedelta(minutes=20)
        (first,) = deliveries.claim_due(session, now=later, limit=1)
        assert first.text == "routine advisory" and first.card is None
        deliveries.release(session, delivery_ids=[first.id])
        # Waiting longer than its patience, it goes up to routine: now first in line.
        assert deliveries.promote_waiting(session, queued_before=NOW + timedelta(minutes=10)) == 1
        assert deliveries.promote_waiting(session, queued_before=NOW + timedelta(minutes=10)) == 0
        (first,) = deliveries.claim_due(session, now=later, limit=1)
        assert first.card is not None and first.priority == Priority.ROUTINE


def test_a_card_no_longer_followed_and_never_sent_is_not_sent_to_say_so(engine: Engine) -> None:
    with session_scope(engine) as session:
        kim = _person(session)
        card = cards.show(
            session,
            staff_id=kim.id or 0,
            chat_id=kim.chat_id,
            country="KZ",
            text="no longer",
            now=NOW,
            following=False,
        )
        assert card is None and _card_rows(session) == []


def test_a_copy_of_their_data_lists_their_cards_and_forgetting_them_drops_them(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        kim = _person(session)
        cards.show(
            session, staff_id=kim.id or 0, chat_id=kim.chat_id, country="KZ", text="card", now=NOW
        )
        (claimed,) = deliveries.claim_due(session, now=NOW, limit=1)
        cards.record_step(
            session,
            delivery_id=claimed.id,
            card_id=claimed.card.card_id if claimed.card else 0,
            step=Step.SEND,
            attempts=claimed.attempts,
            now=NOW,
            text="card",
            message_id=11,
        )
        exported = privacy.export(session, person=kim, now=NOW)
        assert exported["country_cards"] == [
            {
                "country": "KZ",
                "chat_id": kim.chat_id,
                "message_id": 11,
                "pinned": False,
                "following": True,
                "text": "card",
                "updated_at": "2022-01-06T04:00:00+00:00",
            }
        ]
        assert privacy.holdings(session, person=kim).cards == 1
        privacy.forget(session, staff_id=kim.id or 0, configured_admin_ids=(), now=NOW)
        assert session.exec(select(CountryCard)).all() == []
        assert _card_rows(session) == []


def test_many_cards_change_at_once_each_with_one_waiting_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        kim, sam = _person(session), _person(session, 7_300_000_002)
        for person in (kim, sam):
            cards.show(
                session,
                staff_id=person.id or 0,
                chat_id=person.chat_id,
                country="KZ",
                text="first",
                now=NOW,
            )
        # Kim's card is sent and pinned (its row done); Sam's still waits.
        for step in (Step.SEND, Step.PIN):
            (row,) = deliveries.claim_due(session, now=NOW, limit=10, busy_chats=[sam.chat_id])
            assert row.card is not None
            cards.record_step(
                session,
                delivery_id=row.id,
                card_id=row.card.card_id,
                step=step,
                attempts=row.attempts,
                now=NOW,
                text="first",
                message_id=3,
            )
        assert [r.status for r in _card_rows(session)] == ["sent", "pending"]
        ids = [c.id or 0 for c in cards.followed_cards(session, country="KZ")]
        cards.show_many(session, card_ids=ids, text="second", now=NOW)
        assert [(r.staff_id, r.text, r.status) for r in _card_rows(session)] == [
            (kim.id, "first", "sent"),
            (sam.id, "second", "pending"),
            (kim.id, "second", "pending"),
        ]
        assert [(c.text, c.version) for c in cards.followed_cards(session, country="KZ")] == [
            ("second", 2),
            ("second", 2),
        ]
