"""Broadcast drafts, the one claim that sends or cancels them, the fan-out to the outbox
and the live reports, on the real database."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import broadcasts, staff, subscriptions
from db.engine import session_scope
from db.models import Alert, AlertKind, AlertStatus, Delivery, Priority, Role, Staff

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
_ids = itertools.count(8_100_000_000)


def _person(session: Session, name: str, *, countries: tuple[str, ...] = ()) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id + 1,
        display_name=name,
        username=None,
        role=Role.STAFF,
    )
    for country in countries:
        subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
    return person


def test_a_draft_is_a_normal_priority_broadcast_by_its_author(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena")
        draft = broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=lena.id or 0, now=NOW
        )
        draft_id = draft.id
    with session_scope(engine) as session:
        stored = session.get(Alert, draft_id)
        assert stored is not None
        assert (
            stored.kind,
            stored.status,
            stored.priority,
            stored.country,
            stored.body,
            stored.created_by_staff_id,
            stored.created_at,
            stored.sent_at,
        ) == ("broadcast", "draft", Priority.NORMAL, "KZ", "Stay in", lena.id, NOW, None)


def test_only_the_author_claims_a_draft_and_only_once(engine: Engine) -> None:
    later = NOW + timedelta(minutes=5)
    with session_scope(engine) as session:
        lena, lars = _person(session, "Lena"), _person(session, "Lars")
        sent = broadcasts.create_draft(
            session, country="KZ", text="a", author_staff_id=lena.id or 0, now=NOW
        )
        cancelled = broadcasts.create_draft(
            session, country="KZ", text="b", author_staff_id=lena.id or 0, now=NOW
        )
        feed = Alert(
            kind=AlertKind.SECURITY.value, country="KZ", created_by_staff_id=lena.id, created_at=NOW
        )
        session.add(feed)
        session.flush()

        def claim(alert: Alert, by: Staff, status: AlertStatus) -> bool:
            return broadcasts.claim_draft(
                session,
                alert_id=alert.id or 0,
                author_staff_id=by.id or 0,
                status=status,
                now=later,
            )

        assert not claim(sent, lars, AlertStatus.SENT)
        assert not claim(feed, lena, AlertStatus.SENT)
        assert claim(sent, lena, AlertStatus.SENT)
        assert not claim(sent, lena, AlertStatus.SENT)
        assert not claim(sent, lena, AlertStatus.CANCELLED)
        assert claim(cancelled, lena, AlertStatus.CANCELLED)
        assert not claim(cancelled, lena, AlertStatus.SENT)
        ids = (sent.id, cancelled.id, feed.id)
    with session_scope(engine) as session:
        rows = [session.get(Alert, alert_id) for alert_id in ids]
        assert [(a.status, a.sent_at) for a in rows if a is not None] == [
            ("sent", later),
            ("cancelled", None),
            ("draft", None),
        ]


@pytest.mark.parametrize("chunk", [500, 2, 1])
def test_fan_out_queues_every_follower_and_counts_the_unreachable(
    engine: Engine, chunk: int
) -> None:
    # However many people a step queues, the rows come out the same in the end.
    markup = {"inline_keyboard": [[{"text": "Got it", "callback_data": "ack:1"}]]}
    with session_scope(engine) as session:
        sam = _person(session, "Sam", countries=("KZ",))
        gus = _person(session, "Gus", countries=("KZ", "GE"))
        gus.reachable = False
        session.add(gus)
        kim = _person(session, "Kim", countries=("KZ",))
        _person(session, "Geo", countries=("GE",))
        alert = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", priority=Priority.HIGH)
        session.add(alert)
        session.flush()
        steps = [
            broadcasts.fan_out(
                session,
                alert=alert,
                parts=["one", "two"],
                now=NOW,
                reply_markup=markup,
                chunk=chunk,
            )
        ]
        alert_id = alert.id or 0
        assert broadcasts.fanning_out(session) == ([] if steps[0].done else [alert_id])
    while not steps[-1].done:
        with session_scope(engine) as session:
            steps.append(
                broadcasts.continue_fan_out(session, alert_id=alert_id, now=NOW, chunk=chunk)
            )
    assert sum(step.reachable for step in steps) == 2
    assert sum(step.unreachable for step in steps) == 1
    assert len(steps) == {500: 1, 2: 2, 1: 4}[chunk]  # a last step may find nobody left
    with session_scope(engine) as session:
        assert broadcasts.fanning_out(session) == []
        assert broadcasts.fan_out_done(session, alert_id=alert_id)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery).order_by(col(Delivery.staff_id), col(Delivery.part))
        ).all()
        assert [
            (
                r.staff_id,
                r.chat_id,
                r.part,
                r.text,
                r.status,
                r.priority,
                r.alert_id,
                r.dedupe_key,
                r.created_at,
                json.loads(r.reply_markup) if r.reply_markup else None,
            )
            for r in rows
        ] == [
            (person.id, person.chat_id, part, text, status, Priority.HIGH, alert_id,
             f"alert:{alert_id}", NOW, markup if part == 1 else None)
            for person, status in ((sam, "pending"), (gus, "unreachable"), (kim, "pending"))
            for part, text in ((0, "one"), (1, "two"))
        ]  # fmt: skip


def test_a_fan_out_step_repeated_after_a_crash_queues_nobody_twice(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = [_person(session, f"P{n}", countries=("KZ",)) for n in range(5)]
        alert = Alert(kind=AlertKind.BROADCAST.value, country="KZ", priority=Priority.NORMAL)
        session.add(alert)
        session.flush()
        first = broadcasts.fan_out(session, alert=alert, parts=["Stay in"], now=NOW, chunk=2)
        assert (first.reachable, first.done) == (2, False)
        alert_id = alert.id or 0
    with session_scope(engine) as session:
        broadcasts.continue_fan_out(session, alert_id=alert_id, now=NOW, chunk=2)
        # As if the cursor had not moved: the same people come up again.
        stale = session.get(Alert, alert_id)
        assert stale is not None
        stale.fan_out_after = people[1].id
        session.add(stale)
    while True:
        with session_scope(engine) as session:
            if broadcasts.continue_fan_out(session, alert_id=alert_id, now=NOW, chunk=2).done:
                break
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery).order_by(col(Delivery.staff_id))).all()
    assert [(r.staff_id, r.text) for r in rows] == [(p.id, "Stay in") for p in people]


def test_an_alert_nobody_follows_is_done_at_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        alert = Alert(kind=AlertKind.BROADCAST.value, country="KZ", priority=Priority.NORMAL)
        session.add(alert)
        session.flush()
        step = broadcasts.fan_out(session, alert=alert, parts=["x"], now=NOW, chunk=2)
        assert step == broadcasts.Queued(0, 0, done=True)
        assert broadcasts.fanning_out(session) == []


def test_a_report_is_open_from_send_until_closed(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena")
        first = broadcasts.create_draft(
            session, country="KZ", text="a", author_staff_id=lena.id or 0, now=NOW
        )
        second = broadcasts.create_draft(
            session, country="GE", text="b", author_staff_id=lena.id or 0, now=NOW
        )
        assert broadcasts.open_reports(session) == []
        for alert, message_id in ((first, 11), (second, 12)):
            broadcasts.set_report(
                session, alert_id=alert.id or 0, chat_id=lena.chat_id, message_id=message_id
            )
        ids = (first.id, second.id)
    with session_scope(engine) as session:
        reports = broadcasts.open_reports(session)
        assert [(a.id, a.report_chat_id, a.report_message_id, a.report_done) for a in reports] == [
            (ids[0], lena.chat_id, 11, False),
            (ids[1], lena.chat_id, 12, False),
        ]
        broadcasts.close_report(session, alert_id=ids[0] or 0)
    with session_scope(engine) as session:
        assert [a.id for a in broadcasts.open_reports(session)] == [ids[1]]
        closed = session.get(Alert, ids[0])
        assert closed is not None and (closed.report_done, closed.report_message_id) == (True, 11)
