"""The outbox's batch queries on the real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import deliveries, staff
from db.deliveries import Confirmed, Recipient
from db.engine import session_scope
from db.models import Delivery, DeliveryStatus, Priority, Role, Staff

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_ids = itertools.count(7_100_000_000)


def _people(session: Session, n: int) -> list[Staff]:
    people = []
    for _ in range(n):
        user_id = next(_ids)
        people.append(
            staff.enrol(
                session,
                telegram_user_id=user_id,
                chat_id=user_id,
                display_name=f"P{user_id}",
                username=None,
                role=Role.STAFF,
            )
        )
    return people


def _queue(
    session: Session, people: list[Staff], *, key: str, parts: list[str], priority: Priority
) -> None:
    deliveries.enqueue(
        session,
        dedupe_key=key,
        recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
        parts=parts,
        priority=priority,
        now=NOW,
    )


def _rows(session: Session) -> dict[int, Delivery]:
    return {r.id or 0: r for r in session.exec(select(Delivery).order_by(col(Delivery.id)))}


def test_a_claim_takes_the_most_urgent_one_row_per_chat_and_marks_it_sending(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        people = _people(session, 4)
        # Two parts each: the second part of a chat must wait for that chat's own limit.
        _queue(session, people, key="routine", parts=["one", "two"], priority=Priority.ROUTINE)
        _queue(session, people[3:], key="urgent", parts=["now"], priority=Priority.CRITICAL)
        busy = {people[0].chat_id}
        claimed = deliveries.claim_due(session, now=NOW, limit=20, busy_chats=busy)
    chats = [row.chat_id for row in claimed]
    assert chats == [people[3].chat_id, people[1].chat_id, people[2].chat_id]
    assert claimed[0].text == "now" and {row.text for row in claimed[1:]} == {"one"}
    with session_scope(engine) as session:
        rows = _rows(session)
        taken = {row.id for row in claimed}
        for row_id, row in rows.items():
            expected = DeliveryStatus.SENDING if row_id in taken else DeliveryStatus.PENDING
            assert row.status == expected.value
            assert row.attempts == (1 if row_id in taken else 0)
        # Claimed rows are not due any more; the next claim takes the next part of each.
        again = deliveries.claim_due(session, now=NOW, limit=20)
        assert {(row.chat_id, row.text) for row in again} == {
            (people[0].chat_id, "one"),
            (people[1].chat_id, "two"),
            (people[2].chat_id, "two"),
            (people[3].chat_id, "one"),
        }
        # Nothing is due before its time.
        assert deliveries.claim_due(session, now=NOW - timedelta(seconds=1), limit=20) == []


def test_released_rows_are_due_again_with_their_claim_undone(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 3)
        _queue(session, people, key="k", parts=["hello"], priority=Priority.NORMAL)
        claimed = deliveries.claim_due(session, now=NOW, limit=3)
        deliveries.mark_sent_many(
            session, confirmed=[Confirmed(delivery_id=claimed[0].id, message_id=7, at=NOW)]
        )
        # The sent one is not touched by a release that names it.
        deliveries.release(session, delivery_ids=[row.id for row in claimed])
    with session_scope(engine) as session:
        rows = _rows(session)
        assert rows[claimed[0].id].status == DeliveryStatus.SENT.value
        for row in claimed[1:]:
            assert rows[row.id].status == DeliveryStatus.PENDING.value
            assert rows[row.id].attempts == 0
        again = deliveries.claim_due(session, now=NOW, limit=3)
    assert [row.id for row in again] == [row.id for row in claimed[1:]]


def test_mark_sent_many_records_each_rows_own_message_id(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 5)
        _queue(session, people, key="k", parts=["hello"], priority=Priority.NORMAL)
        claimed = deliveries.claim_due(session, now=NOW, limit=5)
        deliveries.mark_sent_many(
            session,
            confirmed=[
                Confirmed(delivery_id=row.id, message_id=100 + n, at=NOW + timedelta(seconds=n))
                for n, row in enumerate(claimed)
            ],
        )
    with session_scope(engine) as session:
        rows = _rows(session)
    assert len(claimed) == 5
    assert {
        row_id: (row.status, row.telegram_message_id, row.sent_at) for row_id, row in rows.items()
    } == {
        row.id: (DeliveryStatus.SENT.value, 100 + n, NOW + timedelta(seconds=n))
        for n, row in enumerate(claimed)
    }
