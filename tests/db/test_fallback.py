"""Which outbox rows get an SMS or e-mail, on the real database: only critical kinds, only
once, only after the window or for someone Telegram cannot reach, never older than a
day, never a roll-call message the person answered, a departure advisory but no other
feed alert; Telegram's own queries do not see fallback rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.fallback import plan
from db import checkins, deliveries, staff
from db.checkins import Answer
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import (
    Alert,
    AlertKind,
    Channel,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    Role,
    Staff,
)

NOW = datetime(2022, 1, 6, 16, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
_ids = itertools.count(7_300_000_000)


def _person(session: Session, *, mobile: str | None = None, email: str | None = None) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=f"P{user_id}",
        username=None,
        role=Role.STAFF,
    )
    staff.set_fallback(session, person=person, mobile=mobile, email=email)
    session.flush()
    return person


def _queue(
    session: Session,
    person: Staff,
    kind: DeliveryKind,
    *,
    key: str,
    at: datetime = NOW,
    alert_id: int | None = None,
    round_id: int | None = None,
    status: DeliveryStatus = DeliveryStatus.PENDING,
) -> None:
    deliveries.enqueue(
        session,
        kind=kind,
        dedupe_key=key,
        recipients=[Recipient(person.id or 0, person.chat_id)],
        parts=[f"<b>{kind.value}</b>"],
        priority=Priority.CRITICAL,
        now=at,
        alert_id=alert_id,
        round_id=round_id,
        status=status,
    )


def _queue_fallbacks(session: Session, *, now: datetime) -> list[tuple[int, str]]:
    queued = plan.queue_fallbacks(session, now=now, after=WINDOW, sms=True, email=True)
    return [(c.staff_id, c.kind.value) for c in queued]


def test_only_critical_rows_past_the_window_get_one_fallback_each(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, mobile="+77012345678")
        eve = _person(session, email="eve@example.org")
        nobody = _person(session)
        for person in (sam, eve, nobody):
            _queue(session, person, DeliveryKind.CURFEW_REMINDER, key="curfew:1")
            _queue(session, person, DeliveryKind.BROADCAST, key="broadcast:1")
        # Within the window: Telegram still has time.
        assert _queue_fallbacks(session, now=NOW + WINDOW - timedelta(seconds=1)) == []
        later = NOW + WINDOW
        assert sorted(_queue_fallbacks(session, now=later)) == sorted(
            [(sam.id, "curfew reminder"), (eve.id, "curfew reminder")]
        )
        # Never twice, however often it is asked.
        assert _queue_fallbacks(session, now=later) == []
        rows = session.exec(
            select(Delivery).where(col(Delivery.channel) != Channel.TELEGRAM.value)
        ).all()
        channels = {r.staff_id: r.channel for r in rows}
        assert channels == {sam.id: "sms", eve.id: "email"}
        sms = next(r for r in rows if r.channel == "sms")
        assert sms.text == "Dutybot: curfew reminder" and sms.fallback_for_id is not None
        # The Telegram dispatcher neither claims nor waits for them.
        claimed = deliveries.claim_due(session, now=later, limit=100)
        assert {c.id for c in claimed}.isdisjoint({r.id for r in rows})
        fallbacks = deliveries.claim_due(
            session, now=later, limit=100, channels=(Channel.SMS, Channel.EMAIL)
        )
        assert {c.id for c in fallbacks} == {r.id for r in rows}


def test_unreachable_people_get_it_at_once_and_old_messages_never(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, mobile="+77012345678")
        _queue(
            session,
            sam,
            DeliveryKind.CURFEW_REMINDER,
            key="curfew:2",
            status=DeliveryStatus.UNREACHABLE,
        )
        _queue(
            session,
            sam,
            DeliveryKind.CURFEW_REMINDER,
            key="curfew:old",
            at=NOW - timedelta(days=2),
        )
        assert _queue_fallbacks(session, now=NOW) == [(sam.id, "curfew reminder")]


def test_departure_advisories_only_and_roll_calls_only_while_unanswered(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, mobile="+77012345678")
        leave = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", title="Leave", departure=True)
        news = Alert(kind=AlertKind.SECURITY.value, country="KZ", title="Protest")
        session.add_all([leave, news])
        session.flush()
        _queue(session, sam, DeliveryKind.FEED_ALERT, key="alert:leave", alert_id=leave.id)
        _queue(session, sam, DeliveryKind.FEED_ALERT, key="alert:news", alert_id=news.id)
        answered = checkins.create_round(
            session,
            country="KZ",
            message="Safe?",
            started_by_staff_id=None,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=2),
            remind_every_minutes=30,
        )
        members = checkins.add_members(session, round_id=answered.id or 0, staff_ids=[sam.id or 0])
        _queue(
            session,
            sam,
            DeliveryKind.ROLLCALL_QUESTION,
            key=checkins.question_key(answered.id or 0),
            round_id=answered.id,
        )
        member = session.get(checkins.RollCallMember, members[sam.id or 0])
        assert member is not None
        checkins.record_answer(
            session,
            member=member,
            answer=Answer.SAFE,
            note=None,
            location=None,
            late=False,
            via="button",
            now=NOW,
        )
        assert _queue_fallbacks(session, now=NOW + WINDOW) == [(sam.id, "feed alert")]
        (row,) = session.exec(
            select(Delivery).where(col(Delivery.channel) == Channel.SMS.value)
        ).all()
        assert row.alert_id == leave.id
