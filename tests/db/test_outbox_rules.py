"""The outbox's edges where Telegram and the fallbacks meet (`db/deliveries.py`): what an
alert's report counts by SMS and e-mail, whom it counts as paid, and what a person
Telegram cannot reach still gets."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import deliveries, fallback
from db.deliveries import Confirmed, Counts, Recipient
from db.engine import session_scope
from db.models import Alert, Channel, Delivery, DeliveryKind, Priority, Staff
from tests.harness import person

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def _alert(session: Session) -> int:
    alert = Alert(kind="departure", country="KZ", title="Leave Kazakhstan", departure=True)
    session.add(alert)
    session.flush()
    assert alert.id is not None
    return alert.id


def _rows(session: Session, *, key: str, staff_id: int) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery)
            .where(Delivery.dedupe_key == key, Delivery.staff_id == staff_id)
            .order_by(col(Delivery.part))
        ).all()
    )


def _telegram(
    session: Session, alert_id: int, someone: Staff, *, parts: int = 1, again: bool = False
) -> list[int]:
    """The alert queued on Telegram for `someone` (`again`: a second time); the ids of its
    parts."""
    key = f"alert:{alert_id}" + (":again" if again else "")
    deliveries.enqueue(
        session,
        kind=DeliveryKind.FEED_ALERT,
        dedupe_key=key,
        recipients=[Recipient(someone.id or 0, someone.chat_id)],
        parts=[f"part {n}" for n in range(parts)],
        priority=Priority.HIGH,
        now=NOW,
        alert_id=alert_id,
    )
    return [row.id or 0 for row in _rows(session, key=key, staff_id=someone.id or 0)]


def _fallback(session: Session, alert_id: int, someone: Staff, *, of: int, by: Channel) -> int:
    """An SMS or e-mail standing in for the Telegram row `of`, as bot.fallback queues it."""
    deliveries.enqueue(
        session,
        kind=DeliveryKind.FEED_ALERT,
        dedupe_key=fallback.fallback_key(of),
        recipients=[Recipient(someone.id or 0, someone.chat_id)],
        parts=["Leave Kazakhstan"],
        priority=Priority.HIGH,
        now=NOW,
        alert_id=alert_id,
        channel=by,
        fallback_for_id=of,
    )
    (row,) = _rows(session, key=fallback.fallback_key(of), staff_id=someone.id or 0)
    return row.id or 0


def test_an_alerts_report_counts_each_person_reached_by_sms_or_email_once(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        alert_id, other_alert = _alert(session), _alert(session)
        ana, ben, cai, dov = (person(session, n) for n in ("Ana", "Ben", "Cai", "Dov"))
        # Ana's Telegram took it. Ben's did not answer: an SMS reached him, and the alert
        # sent to him again went by SMS too: still one person. Cai's e-mail went; Dov's
        # SMS failed.
        (to_ana,) = _telegram(session, alert_id, ana)
        deliveries.mark_sent_many(session, confirmed=[Confirmed(to_ana, 1, NOW)])
        for someone in (ben, cai, dov):
            _telegram(session, alert_id, someone)
        (to_ben,) = _rows(session, key=f"alert:{alert_id}", staff_id=ben.id or 0)
        sms = _fallback(session, alert_id, ben, of=to_ben.id or 0, by=Channel.SMS)
        fallback.mark_sent(session, delivery_id=sms, at=NOW, detail="SM1")
        (to_ben_again,) = _telegram(session, alert_id, ben, again=True)
        again = _fallback(session, alert_id, ben, of=to_ben_again, by=Channel.SMS)
        fallback.mark_sent(session, delivery_id=again, at=NOW, detail="SM2")
        (to_cai,) = _rows(session, key=f"alert:{alert_id}", staff_id=cai.id or 0)
        mail = _fallback(session, alert_id, cai, of=to_cai.id or 0, by=Channel.EMAIL)
        fallback.mark_sent(session, delivery_id=mail, at=NOW, detail="<m1@example.org>")
        (to_dov,) = _rows(session, key=f"alert:{alert_id}", staff_id=dov.id or 0)
        failed = _fallback(session, alert_id, dov, of=to_dov.id or 0, by=Channel.SMS)
        deliveries.mark_failed(session, delivery_id=failed, error="21211 invalid number")
        # Another alert's SMS to Dov is no part of this one.
        (other,) = _telegram(session, other_alert, dov)
        elsewhere = _fallback(session, other_alert, dov, of=other, by=Channel.SMS)
        fallback.mark_sent(session, delivery_id=elsewhere, at=NOW, detail="SM3")
        counts = deliveries.counts_for_alert(session, alert_id=alert_id)
        others = deliveries.counts_for_alert(session, alert_id=other_alert)
    # Their Telegram rows are what the report counts; the fallbacks are told apart.
    assert counts == Counts(pending=3, sent=1, by_sms=1, by_email=1)  # Ben counted once
    assert others == Counts(pending=1, by_sms=1)


def test_a_person_counts_as_paid_when_the_first_part_went_paid(engine: Engine) -> None:
    with session_scope(engine) as session:
        alert_id = _alert(session)
        ana, ben = person(session, "Ana"), person(session, "Ben")
        # Ana's first part went at the free rate (Telegram refused payment), her second
        # paid; Ben's first part went paid.
        ana_first, ana_second = _telegram(session, alert_id, ana, parts=2)
        (ben_first,) = _telegram(session, alert_id, ben)
        deliveries.mark_sent_many(
            session,
            confirmed=[
                Confirmed(ana_first, 1, NOW),
                Confirmed(ana_second, 2, NOW, paid=True),
                Confirmed(ben_first, 3, NOW, paid=True),
            ],
        )
        counts = deliveries.counts_for_alert(session, alert_id=alert_id)
    assert counts == Counts(sent=2, paid=1)


def test_a_person_telegram_cannot_reach_still_gets_the_sms_queued_for_them(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        alert_id = _alert(session)
        ben = person(session, "Ben")
        (to_ben,) = _telegram(session, alert_id, ben)
        sms = _fallback(session, alert_id, ben, of=to_ben, by=Channel.SMS)
        assert deliveries.mark_unreachable(session, staff_id=ben.id or 0, error="blocked") == 1
    with session_scope(engine) as session:
        telegram_row = session.get(Delivery, to_ben)
        sms_row = session.get(Delivery, sms)
        assert telegram_row is not None and sms_row is not None
        assert (telegram_row.status, telegram_row.last_error) == ("unreachable", "blocked")
        assert (sms_row.status, sms_row.last_error) == ("pending", None)
