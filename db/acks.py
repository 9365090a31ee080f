"""Acknowledgements of alerts: only by people the alert was sent to, once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlmodel import Session, col, select

from db.models import Acknowledgement, Alert, Channel, Delivery, DeliveryStatus, Staff


class AckOutcome(Enum):
    NEW = "new"
    AGAIN = "again"
    NOT_YOURS = "not_yours"  # no such alert, or it was not sent to this person


@dataclass(frozen=True)
class Recipient:
    """Someone an alert went to, as a lead's report names them."""

    name: str
    telegram_id: int
    username: str | None
    reached_by: str | None = None  # "SMS", "e-mail": Telegram did not deliver it in time


@dataclass(frozen=True)
class AckReport:
    alert_id: int
    title: str
    country: str | None
    acknowledged: list[tuple[Recipient, datetime]]
    waiting: list[Recipient]
    # Only departure advisories carry an Acknowledge button; nobody can acknowledge others.
    asked: bool = True


def acknowledge(session: Session, *, alert_id: int, staff_id: int, now: datetime) -> AckOutcome:
    sent_to_them = session.exec(
        select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.staff_id == staff_id)
    ).first()
    if sent_to_them is None:
        return AckOutcome.NOT_YOURS
    existing = session.exec(
        select(Acknowledgement).where(
            Acknowledgement.alert_id == alert_id, Acknowledgement.staff_id == staff_id
        )
    ).first()
    if existing is not None:
        return AckOutcome.AGAIN
    session.add(Acknowledgement(alert_id=alert_id, staff_id=staff_id, at=now))
    session.flush()
    return AckOutcome.NEW


def report(session: Session, *, alert_id: int) -> AckReport | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    recipients = session.exec(
        select(Staff)
        .join(Delivery, col(Delivery.staff_id) == Staff.id)
        .where(
            Delivery.alert_id == alert_id,
            Delivery.part == 0,
            Delivery.channel == Channel.TELEGRAM.value,
        )
        .order_by(col(Staff.display_name))
    ).all()
    # Those it reached by SMS or e-mail, since Telegram did not deliver it in time.
    reached = dict(
        session.exec(
            select(Delivery.staff_id, Delivery.channel).where(
                Delivery.alert_id == alert_id,
                Delivery.channel != Channel.TELEGRAM.value,
                Delivery.status == DeliveryStatus.SENT.value,
            )
        ).all()
    )
    if not recipients:
        return None
    acked = {
        a.staff_id: a.at
        for a in session.exec(
            select(Acknowledgement).where(Acknowledgement.alert_id == alert_id)
        ).all()
    }
    named = {
        p.id: Recipient(
            p.display_name,
            p.telegram_user_id,
            p.username,
            Channel(reached[p.id]).label if p.id in reached else None,
        )
        for p in recipients
    }
    return AckReport(
        alert_id=alert_id,
        title=alert.title,
        country=alert.country,
        acknowledged=[(named[p.id], acked[p.id]) for p in recipients if p.id in acked],
        waiting=[named[p.id] for p in recipients if p.id not in acked],
        asked=alert.departure,
    )
