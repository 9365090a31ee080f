"""How an alert's fan-out is continued: a chunk at a time, copying the message its first
people got, and what a step reports when there is nothing (left) to queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import broadcasts, deliveries, subscriptions
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Alert, AlertKind, Delivery, DeliveryKind, Priority, Staff
from tests.harness import person

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
MARKUP = {"inline_keyboard": [[{"text": "Got it", "callback_data": "ack:1"}]]}


def _followers(session: Session, count: int, country: str = "KZ") -> list[Staff]:
    people = [person(session, f"P{n}") for n in range(count)]
    for someone in people:
        subscriptions.subscribe(session, staff_id=someone.id or 0, country=country)
    return people


def _alert(session: Session, kind: AlertKind = AlertKind.BROADCAST) -> Alert:
    alert = Alert(kind=kind.value, country="KZ", priority=Priority.HIGH)
    session.add(alert)
    session.flush()
    return alert


def _finish(engine: Engine, alert_id: int, chunk: int) -> list[broadcasts.Queued]:
    """Continue a fan-out step by step, one transaction each, until it is done."""
    steps = []
    while True:
        with session_scope(engine) as session:
            step = broadcasts.continue_fan_out(session, alert_id=alert_id, now=NOW, chunk=chunk)
        steps.append(step)
        if step.done:
            return steps


def _rows(engine: Engine, alert_id: int) -> list[tuple[int, int, str, str, object]]:
    """(staff id, part, text, kind, reply markup) of the alert's own fan-out rows."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery)
            .where(col(Delivery.dedupe_key) == f"alert:{alert_id}")
            .order_by(col(Delivery.staff_id), col(Delivery.part))
        ).all()
        return [
            (
                r.staff_id,
                r.part,
                r.text,
                r.kind,
                json.loads(r.reply_markup) if r.reply_markup else None,
            )
            for r in rows
        ]


def test_continuing_an_unknown_or_finished_fan_out_queues_nobody(engine: Engine) -> None:
    with session_scope(engine) as session:
        _followers(session, 2)
        alert = _alert(session)
        first = broadcasts.fan_out(session, alert=alert, parts=["Stay in"], now=NOW, chunk=5)
        assert first == broadcasts.Queued(2, 0, done=True)
        alert_id = alert.id or 0
    with session_scope(engine) as session:
        assert broadcasts.continue_fan_out(
            session, alert_id=alert_id, now=NOW, chunk=5
        ) == broadcasts.Queued(0, 0, done=True)
        assert broadcasts.continue_fan_out(
            session, alert_id=alert_id + 1, now=NOW, chunk=5
        ) == broadcasts.Queued(0, 0, done=True)
    assert len(_rows(engine, alert_id)) == 2


def test_a_fan_out_with_no_rows_to_copy_ends_without_queueing(engine: Engine) -> None:
    # An alert marked as fanning out whose first people got nothing: there is no message
    # to copy, so the step ends the fan-out rather than queueing something made up.
    with session_scope(engine) as session:
        _followers(session, 3)
        alert = _alert(session)
        alert.fan_out_after = 0
        session.add(alert)
        alert_id = alert.id or 0
    with session_scope(engine) as session:
        assert broadcasts.fanning_out(session) == [alert_id]
        assert broadcasts.continue_fan_out(
            session, alert_id=alert_id, now=NOW, chunk=1
        ) == broadcasts.Queued(0, 0, done=True)
    with session_scope(engine) as session:
        assert broadcasts.fanning_out(session) == []
        assert broadcasts.fan_out_done(session, alert_id=alert_id)
        assert session.exec(select(Delivery)).all() == []


def test_one_person_a_chunk_with_a_one_part_message(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = _followers(session, 3)
        alert = _alert(session, AlertKind.SECURITY)
        first = broadcasts.fan_out(
            session, alert=alert, parts=["Stay in"], now=NOW, reply_markup=MARKUP, chunk=1
        )
        assert first == broadcasts.Queued(1, 0, done=False)
        alert_id = alert.id or 0
        assert not broadcasts.fan_out_done(session, alert_id=alert_id)
    steps = _finish(engine, alert_id, chunk=1)
    with session_scope(engine) as session:
        assert broadcasts.fan_out_done(session, alert_id=alert_id)
    assert steps == [
        broadcasts.Queued(1, 0, done=False),
        broadcasts.Queued(1, 0, done=False),
        broadcasts.Queued(0, 0, done=True),
    ]
    assert _rows(engine, alert_id) == [
        (p.id, 0, "Stay in", DeliveryKind.FEED_ALERT.value, MARKUP) for p in people
    ]


def test_a_first_chunk_of_many_people_hands_the_whole_message_on(engine: Engine) -> None:
    # 50 people of a two-part message fill more than one screenful of template rows: the
    # next chunk still gets both parts, in order, the buttons on the last.
    with session_scope(engine) as session:
        people = _followers(session, 52)
        alert = _alert(session)
        first = broadcasts.fan_out(
            session, alert=alert, parts=["one", "two"], now=NOW, reply_markup=MARKUP, chunk=50
        )
        assert first == broadcasts.Queued(50, 0, done=False)
        alert_id = alert.id or 0
    assert _finish(engine, alert_id, chunk=50) == [broadcasts.Queued(2, 0, done=True)]
    assert _rows(engine, alert_id)[-4:] == [
        (p.id, part, text, DeliveryKind.BROADCAST.value, markup)
        for p in people[-2:]
        for part, text, markup in ((0, "one", None), (1, "two", MARKUP))
    ]


def test_other_messages_about_the_alert_are_not_copied(engine: Engine) -> None:
    # A lead who does not follow the country gets another message about the same alert
    # (who is there); the rest of the followers still get the alert itself.
    with session_scope(engine) as session:
        lead = person(session, "Lead")
        people = _followers(session, 3)
        alert = _alert(session, AlertKind.DEPARTURE)
        alert_id = alert.id or 0
        deliveries.enqueue(
            session,
            kind=DeliveryKind.WHO_IS_THERE,
            dedupe_key=f"alert:{alert_id}:who-is-there",
            recipients=[Recipient(lead.id or 0, lead.chat_id)],
            parts=["Who is there"],
            priority=Priority.HIGH,
            now=NOW,
            alert_id=alert_id,
        )
        first = broadcasts.fan_out(session, alert=alert, parts=["Leave"], now=NOW, chunk=1)
        assert first == broadcasts.Queued(1, 0, done=False)
    _finish(engine, alert_id, chunk=1)
    assert _rows(engine, alert_id) == [
        (p.id, 0, "Leave", DeliveryKind.FEED_ALERT.value, None) for p in people
    ]


def test_the_first_step_queues_at_most_first_chunk_and_the_next_whole_chunks(
    engine: Engine,
) -> None:
    # The first message waits for the first transaction only: it stays small whatever the
    # chunk, and the rest go a whole chunk at a time.
    count = broadcasts.FIRST_CHUNK + 30
    with session_scope(engine) as session:
        _followers(session, count)
        alert = _alert(session)
        first = broadcasts.fan_out(session, alert=alert, parts=["Stay in"], now=NOW, chunk=500)
        alert_id = alert.id or 0
    assert first == broadcasts.Queued(broadcasts.FIRST_CHUNK, 0, done=False)
    assert _finish(engine, alert_id, chunk=500) == [broadcasts.Queued(30, 0, done=True)]
    assert len(_rows(engine, alert_id)) == count


def test_everyone_is_queued_in_the_first_step_when_asked_to(engine: Engine) -> None:
    count = broadcasts.FIRST_CHUNK + 1
    with session_scope(engine) as session:
        _followers(session, count)
        alert = _alert(session)
        first = broadcasts.fan_out(
            session, alert=alert, parts=["Leave now"], now=NOW, chunk=broadcasts.EVERYONE
        )
    assert first == broadcasts.Queued(count, 0, done=True)
