"""The outbox's batch queries on the real database (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import cards, deliveries, incidents, staff
from db.deliveries import CardState, Confirmed, Recipient
from db.engine import session_scope
from db.models import (
    Alert,
    Channel,
    CountryCard,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    Role,
    Staff,
)

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
        kind=DeliveryKind.BROADCAST,
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
        # The first had failed once before: a success clears the error.
        deliveries.mark_retry(session, delivery_id=claimed[0].id, error="Bad Gateway", at=NOW)
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
        row_id: (row.status, row.telegram_message_id, row.sent_at, row.last_error)
        for row_id, row in rows.items()
    } == {
        row.id: (DeliveryStatus.SENT.value, 100 + n, NOW + timedelta(seconds=n), None)
        for n, row in enumerate(claimed)
    }


def _alert(session: Session) -> int:
    alert = Alert(kind="broadcast", title="t")
    session.add(alert)
    session.flush()
    assert alert.id is not None
    return alert.id


def test_queued_parts_carry_everything_to_send_and_buttons_only_on_the_last(
    engine: Engine,
) -> None:
    markup = {"inline_keyboard": [[{"text": "I am safe", "callback_data": "safe"}]]}
    with session_scope(engine) as session:
        people = _people(session, 2)
        alert_id = _alert(session)
        recipients = [Recipient(p.id or 0, p.chat_id) for p in people]
        queued = deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="alert:1",
            recipients=recipients,
            parts=["(1/3) a", "(2/3) b", "(3/3) c"],
            priority=Priority.HIGH,
            now=NOW,
            alert_id=alert_id,
            reply_markup=markup,
        )
        assert queued == 6
        # The same thing queued again, or to nobody, queues nothing.
        again = deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="alert:1",
            recipients=recipients,
            parts=["(1/3) a", "(2/3) b", "(3/3) c"],
            priority=Priority.HIGH,
            now=NOW,
        )
        assert again == 0
        nobody = deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="x",
            recipients=[],
            parts=["a"],
            priority=Priority.HIGH,
            now=NOW,
        )
        assert nobody == 0
    with session_scope(engine) as session:
        rows = list(_rows(session).values())
    expected_markup = json.dumps(markup)
    assert [
        (
            r.dedupe_key,
            r.staff_id,
            r.chat_id,
            r.part,
            r.alert_id,
            r.priority,
            r.text,
            r.reply_markup,
            r.status,
            r.attempts,
            r.next_attempt_at,
            r.created_at,
        )
        for r in rows
    ] == [
        (
            "alert:1",
            p.id,
            p.chat_id,
            part,
            alert_id,
            int(Priority.HIGH),
            text,
            expected_markup if part == 2 else None,
            DeliveryStatus.PENDING.value,
            0,
            NOW,
            NOW,
        )
        for p in people
        for part, text in enumerate(["(1/3) a", "(2/3) b", "(3/3) c"])
    ]


def test_a_row_carries_whom_it_is_about_and_what_it_belongs_to(engine: Engine) -> None:
    own = {"inline_keyboard": [[{"text": "Reply", "callback_data": "reply:1"}]]}
    shared = {"inline_keyboard": [[{"text": "I'm handling it", "callback_data": "own:1"}]]}
    with session_scope(engine) as session:
        lead, other, person = _people(session, 3)
        call, _ = incidents.open_call(session, staff_id=person.id or 0, now=NOW)
        card = CountryCard(staff_id=lead.id or 0, country="KZ", chat_id=lead.chat_id, text="KZ")
        session.add(card)
        session.flush()
        deliveries.enqueue(
            session,
            kind=DeliveryKind.HELP_MESSAGE,
            dedupe_key="call:1:photo",
            recipients=[
                Recipient(lead.id or 0, lead.chat_id),
                Recipient(other.id or 0, other.chat_id),
            ],
            parts=["Photo from Sam"],
            priority=Priority.CRITICAL,
            now=NOW,
            about_staff_id=person.id,
            call_id=call.id,
            copy_from=(person.chat_id, 77),
            card_id=card.id,
            reply_markup=shared,
            markups={lead.id or 0: own},
        )
        first = min(_rows(session).values(), key=lambda r: r.id or 0)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.HELP_MESSAGE,
            dedupe_key="call:1:photo:sms",
            recipients=[Recipient(lead.id or 0, lead.chat_id)],
            parts=["Photo from Sam"],
            priority=Priority.CRITICAL,
            now=NOW,
            channel=Channel.SMS,
            fallback_for_id=first.id,
        )
    with session_scope(engine) as session:
        rows = sorted(_rows(session).values(), key=lambda r: r.id or 0)
    assert [
        (
            r.staff_id,
            r.about_staff_id,
            r.call_id,
            r.copy_from_chat_id,
            r.copy_message_id,
            r.card_id,
            r.reply_markup,
            r.channel,
            r.fallback_for_id,
        )
        for r in rows
    ] == [
        (
            lead.id,
            person.id,
            call.id,
            person.chat_id,
            77,
            card.id,
            json.dumps(own),
            "telegram",
            None,
        ),
        (
            other.id,
            person.id,
            call.id,
            person.chat_id,
            77,
            card.id,
            json.dumps(shared),
            "telegram",
            None,
        ),
        (lead.id, None, None, None, None, None, None, "sms", first.id),
    ]


def test_a_claim_carries_a_cards_state_and_the_message_a_row_copies(engine: Engine) -> None:
    with session_scope(engine) as session:
        ann, bob = _people(session, 2)
        cards = [
            CountryCard(
                staff_id=p.id or 0,
                country="KZ",
                chat_id=p.chat_id,
                text=f"KZ card for {p.display_name}",
                following=p is ann,
                message_id=40 + n,
                shown_text=f"shown to {p.display_name}",
                pinned=p is bob,
                stale_message_id=30 + n if p is ann else None,
            )
            for n, p in enumerate((ann, bob))
        ]
        session.add_all(cards)
        session.flush()
        for card, p in zip(cards, (ann, bob), strict=True):
            deliveries.enqueue(
                session,
                kind=DeliveryKind.COUNTRY_CARD,
                dedupe_key=f"card:{card.id}",
                recipients=[Recipient(p.id or 0, p.chat_id)],
                parts=[card.text],
                priority=Priority.ROUTINE,
                now=NOW,
                card_id=card.id,
            )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.HELP_MESSAGE,
            dedupe_key="call:1:photo",
            recipients=[Recipient(ann.id or 0, ann.chat_id)],
            parts=["Photo from Bob"],
            priority=Priority.CRITICAL,
            now=NOW,
            copy_from=(bob.chat_id, 77),
        )
        # Its SMS stand-in waits for the fallback sender, not for Telegram's claims.
        deliveries.enqueue(
            session,
            kind=DeliveryKind.HELP_MESSAGE,
            dedupe_key="call:1:photo:sms",
            recipients=[Recipient(ann.id or 0, ann.chat_id)],
            parts=["Photo from Bob"],
            priority=Priority.CRITICAL,
            now=NOW,
            channel=Channel.SMS,
        )
        # One row a chat at a time: Ann's copy first (critical), then her card.
        claimed = deliveries.claim_due(session, now=NOW, limit=10)
        copy = claimed[0]
        deliveries.mark_sent_many(session, confirmed=[Confirmed(copy.id, 9, NOW)])
        claimed += deliveries.claim_due(session, now=NOW, limit=10)
        by_sms = deliveries.claim_due(session, now=NOW, limit=10, channels=(Channel.SMS,))

    def state(n: int, card: CountryCard, p: Staff) -> CardState:
        return CardState(
            card_id=card.id or 0,
            text=card.text,
            following=p is ann,
            message_id=40 + n,
            shown_text=f"shown to {p.display_name}",
            pinned=p is bob,
            stale_message_id=30 + n if p is ann else None,
        )

    assert [(r.chat_id, r.copy_from, r.card) for r in claimed] == [
        (ann.chat_id, (bob.chat_id, 77), None),
        (bob.chat_id, None, state(1, cards[1], bob)),
        (ann.chat_id, None, state(0, cards[0], ann)),
    ]
    assert [(r.chat_id, r.copy_from) for r in by_sms] == [(ann.chat_id, None)]


def test_rows_for_someone_known_unreachable_are_queued_as_such(engine: Engine) -> None:
    with session_scope(engine) as session:
        (person,) = _people(session, 1)
        queued = deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="k",
            recipients=[Recipient(person.id or 0, person.chat_id)],
            parts=["hello"],
            priority=Priority.NORMAL,
            now=NOW,
            status=DeliveryStatus.UNREACHABLE,
        )
        assert queued == 1
        assert deliveries.claim_due(session, now=NOW, limit=5) == []
    with session_scope(engine) as session:
        ((_, row),) = _rows(session).items()
    assert (row.status, row.reply_markup) == (DeliveryStatus.UNREACHABLE.value, None)


def test_a_broadcast_of_thousands_of_rows_is_queued_whole(engine: Engine) -> None:
    parts = [f"part {n}" for n in range(401)]
    with session_scope(engine) as session:
        people = _people(session, 3)
        queued = deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="big",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
            parts=parts,
            priority=Priority.NORMAL,
            now=NOW,
        )
        assert queued == 1203
    with session_scope(engine) as session:
        stored = {(r.staff_id, r.part, r.text) for r in _rows(session).values()}
    assert stored == {(p.id, n, text) for p in people for n, text in enumerate(parts)}


def test_a_busy_chat_does_not_use_up_the_claim(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 4)
        # The busy person's rows are the most urgent and the oldest.
        _queue(session, people[:1], key="urgent", parts=["a", "b", "c"], priority=Priority.CRITICAL)
        _queue(session, people[1:], key="routine", parts=["r"], priority=Priority.ROUTINE)
        claimed = deliveries.claim_due(
            session, now=NOW, limit=2, busy_chats=iter([people[0].chat_id])
        )
    assert [row.chat_id for row in claimed] == [people[1].chat_id, people[2].chat_id]


def test_a_claim_carries_what_to_send_and_never_takes_a_sent_row(engine: Engine) -> None:
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    with session_scope(engine) as session:
        people = _people(session, 2)
        alert_id = _alert(session)
        _queue(session, people[1:], key="routine", parts=["r"], priority=Priority.ROUTINE)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="urgent",
            recipients=[Recipient(people[0].id or 0, people[0].chat_id)],
            parts=["u"],
            priority=Priority.CRITICAL,
            now=NOW,
            alert_id=alert_id,
            reply_markup=markup,
        )
        # Already sent, and more urgent than anything: never due again.
        _queue(session, people[1:], key="done", parts=["d"], priority=Priority.CRITICAL)
        ids = {r.dedupe_key: r.id or 0 for r in _rows(session).values()}
        deliveries.mark_sent_many(
            session, confirmed=[Confirmed(delivery_id=ids["done"], message_id=9, at=NOW)]
        )
        claimed = deliveries.claim_due(session, now=NOW, limit=10)
    assert claimed == [
        deliveries.DueDelivery(
            id=ids["urgent"],
            staff_id=people[0].id or 0,
            chat_id=people[0].chat_id,
            text="u",
            reply_markup=markup,
            attempts=0,
            alert_id=alert_id,
            priority=Priority.CRITICAL,
        ),
        deliveries.DueDelivery(
            id=ids["routine"],
            staff_id=people[1].id or 0,
            chat_id=people[1].chat_id,
            text="r",
            reply_markup=None,
            attempts=0,
            alert_id=None,
            priority=Priority.ROUTINE,
        ),
    ]


def test_outcomes_are_recorded_on_the_row_they_belong_to(engine: Engine) -> None:
    long_error = "Bad Request: " + "x" * 600
    later = NOW + timedelta(minutes=5)
    with session_scope(engine) as session:
        people = _people(session, 5)
        _queue(session, people, key="k", parts=["hello"], priority=Priority.NORMAL)
        ids = [row.id for row in deliveries.claim_due(session, now=NOW, limit=5)]
        deliveries.mark_retry(session, delivery_id=ids[0], error="Bad Gateway", at=NOW)
        deliveries.mark_sent_many(
            session, confirmed=[Confirmed(delivery_id=ids[0], message_id=42, at=later)]
        )
        deliveries.mark_failed(session, delivery_id=ids[1], error=long_error)
        deliveries.mark_retry(session, delivery_id=ids[2], error=long_error, at=later)
        deliveries.mark_retry(session, delivery_id=ids[3], error="429", at=later, attempts=0)
        rows = _rows(session)
    assert [
        (
            rows[i].status,
            rows[i].telegram_message_id,
            rows[i].sent_at,
            rows[i].last_error,
            rows[i].attempts,
            rows[i].next_attempt_at,
        )
        for i in ids
    ] == [
        (DeliveryStatus.SENT.value, 42, later, None, 1, NOW),
        (DeliveryStatus.FAILED.value, None, None, long_error[:500], 1, NOW),
        (DeliveryStatus.PENDING.value, None, None, long_error[:500], 1, later),
        (DeliveryStatus.PENDING.value, None, None, "429", 0, later),
        (DeliveryStatus.SENDING.value, None, None, None, 1, NOW),
    ]


def test_an_unreachable_person_has_only_their_waiting_rows_stopped(engine: Engine) -> None:
    long_error = "Forbidden: " + "y" * 600
    with session_scope(engine) as session:
        gone, other = _people(session, 2)
        _queue(session, [gone, other], key="a", parts=["1", "2", "3"], priority=Priority.NORMAL)
        deliveries.claim_due(session, now=NOW, limit=5)  # part 1 of each is `sending`
        (sent,) = [r for r in _rows(session).values() if r.staff_id == gone.id and r.part == 2]
        deliveries.mark_sent_many(
            session, confirmed=[Confirmed(delivery_id=sent.id or 0, message_id=1, at=NOW)]
        )
        stopped = deliveries.mark_unreachable(session, staff_id=gone.id or 0, error=long_error)
        rows = _rows(session)
    assert stopped == 2
    assert {(r.staff_id, r.part): (r.status, r.last_error) for r in rows.values()} == {
        (gone.id, 0): (DeliveryStatus.UNREACHABLE.value, long_error[:500]),
        (gone.id, 1): (DeliveryStatus.UNREACHABLE.value, long_error[:500]),
        (gone.id, 2): (DeliveryStatus.SENT.value, None),
        (other.id, 0): (DeliveryStatus.SENDING.value, None),
        (other.id, 1): (DeliveryStatus.PENDING.value, None),
        (other.id, 2): (DeliveryStatus.PENDING.value, None),
    }


def test_rows_interrupted_by_a_crash_are_queued_again_at_start(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 3)
        _queue(session, people, key="k", parts=["1", "2"], priority=Priority.NORMAL)
        claimed = deliveries.claim_due(session, now=NOW, limit=4)
        assert len(claimed) == 2
        assert deliveries.requeue_interrupted(session) == 2
        assert deliveries.requeue_interrupted(session) == 0
        rows = _rows(session)
    assert {r.status for r in rows.values()} == {DeliveryStatus.PENDING.value}
    assert {rows[c.id].attempts for c in claimed} == {1}


def test_the_next_due_time_is_that_of_the_earliest_waiting_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert deliveries.next_due_at(session) is None
        people = _people(session, 3)
        for n, person in enumerate(people):
            deliveries.enqueue(
                session,
                kind=DeliveryKind.BROADCAST,
                dedupe_key="k",
                recipients=[Recipient(person.id or 0, person.chat_id)],
                parts=["hello"],
                priority=Priority.NORMAL,
                now=NOW + timedelta(minutes=n),
            )
        # The earliest one is on its way: it no longer counts.
        deliveries.claim_due(session, now=NOW, limit=1)
        assert deliveries.next_due_at(session) == NOW + timedelta(minutes=1)


def test_an_alerts_counts_are_per_person_whatever_the_number_of_parts(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _people(session, 6)
        alert_id = _alert(session)
        other_alert = _alert(session)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="a",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
            parts=["1", "2"],
            priority=Priority.NORMAL,
            now=NOW,
            alert_id=alert_id,
        )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="b",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
            parts=["other"],
            priority=Priority.NORMAL,
            now=NOW,
            alert_id=other_alert,
        )
        rows = {
            (r.staff_id, r.part): r.id or 0 for r in _rows(session).values() if r.dedupe_key == "a"
        }
        # people[0]: waiting; [1]: on its way; [2], [3]: sent; [4]: failed; [5]: unreachable.
        deliveries.claim_due(session, now=NOW, limit=2, busy_chats=[people[0].chat_id])
        deliveries.release(session, delivery_ids=[rows[(people[2].id or 0, 0)]])
        # people[3] as a paid broadcast.
        for person in people[2:4]:
            deliveries.mark_sent_many(
                session,
                confirmed=[Confirmed(rows[(person.id or 0, 0)], 1, NOW, paid=person is people[3])],
            )
        deliveries.mark_failed(session, delivery_id=rows[(people[4].id or 0, 0)], error="bad")
        deliveries.mark_unreachable(session, staff_id=people[5].id or 0, error="gone")
        # The same alert sent to people[3] a second time (paid again) still counts them once.
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="a-again",
            recipients=[Recipient(people[3].id or 0, people[3].chat_id)],
            parts=["1"],
            priority=Priority.NORMAL,
            now=NOW,
            alert_id=alert_id,
        )
        (again,) = [r for r in _rows(session).values() if r.dedupe_key == "a-again"]
        deliveries.mark_sent_many(
            session,
            confirmed=[Confirmed(delivery_id=again.id or 0, message_id=2, at=NOW, paid=True)],
        )
        counts = deliveries.counts_for_alert(session, alert_id=alert_id)
        others = deliveries.counts_for_alert(session, alert_id=other_alert)
        nothing = deliveries.counts_for_alert(session, alert_id=_alert(session))
    assert counts == deliveries.Counts(pending=2, sent=2, failed=1, unreachable=1, paid=1)
    assert counts.total == 6
    assert others == deliveries.Counts(pending=5, sent=0, failed=0, unreachable=1)
    assert nothing == deliveries.Counts(pending=0, sent=0, failed=0, unreachable=0)
    assert nothing.total == 0


def test_only_stored_people_become_recipients() -> None:
    stored = Staff(
        id=3, telegram_user_id=11, chat_id=12, display_name="A", username=None, role="staff"
    )
    unsaved = Staff(telegram_user_id=13, chat_id=14, display_name="B", username=None, role="staff")
    assert deliveries.recipients([stored, unsaved]) == [Recipient(staff_id=3, chat_id=12)]


def test_queueing_is_refused_on_a_database_the_bot_does_not_support() -> None:
    with pytest.raises(RuntimeError, match=r"^unsupported database: mysql$"):
        deliveries._insert_ignoring_duplicates(mysql.dialect())
    # On PostgreSQL, as on SQLite, a duplicate is skipped rather than an error.
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    statement = deliveries._insert_ignoring_duplicates(dialect)
    assert "ON CONFLICT DO NOTHING" in str(statement.compile(dialect=dialect))


def test_only_cards_kept_waiting_past_their_patience_go_up_to_routine(engine: Engine) -> None:
    """A card queued before the cut-off and still waiting is raised; a card queued at it
    or after it, a card already sent and any other message stay as they are."""
    with session_scope(engine) as session:
        kim, lee, max_, ada, eve = _people(session, 5)
        cut_off = NOW + timedelta(minutes=10)
        for person, at in (
            (kim, NOW),
            (lee, NOW + timedelta(minutes=15)),
            (max_, NOW),
            (eve, cut_off),  # queued at the cut-off itself: not before it
        ):
            cards.show(
                session,
                staff_id=person.id or 0,
                chat_id=person.chat_id,
                country="KZ",
                text="card",
                now=at,
            )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="broadcast:1",
            recipients=[Recipient(ada.id or 0, ada.chat_id)],
            parts=["stay indoors"],
            priority=Priority.NORMAL,
            now=NOW,
        )
        (sent,) = session.exec(select(Delivery).where(Delivery.staff_id == max_.id)).all()
        deliveries.mark_sent_many(session, confirmed=[Confirmed(sent.id or 0, 5, NOW)])

        assert deliveries.promote_waiting(session, queued_before=cut_off) == 1
        rows = session.exec(select(Delivery.staff_id, Delivery.priority)).all()
    assert sorted(rows) == sorted(
        [
            (kim.id, Priority.ROUTINE),
            (lee.id, Priority.CARD),
            (max_.id, Priority.CARD),
            (ada.id, Priority.NORMAL),
            (eve.id, Priority.CARD),
        ]
    )
