"""What /healthz reads: is the database there, how the feeds and the outbox are doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from db.models import Delivery, DeliveryStatus, Source

_UNDELIVERED = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class SourcePoll:
    id: int
    kind: str
    url: str
    country: str | None
    last_success_at: datetime | None
    last_error: str | None
    failing_since: datetime | None


@dataclass(frozen=True)
class OutboxState:
    depth: int  # messages not yet delivered (waiting or being sent)
    oldest_undelivered_at: datetime | None  # when the oldest of them was queued
    oldest_due_at: datetime | None  # since when the longest-waiting due message has been due


def ping(session: Session) -> None:
    """Raises when the database cannot be reached."""
    session.execute(text("SELECT 1"))


def source_polls(session: Session) -> list[SourcePoll]:
    return [
        SourcePoll(
            id=s.id or 0,
            kind=s.kind,
            url=s.url,
            country=s.country,
            last_success_at=s.last_success_at,
            last_error=s.last_error,
            failing_since=s.failing_since,
        )
        for s in session.exec(select(Source).order_by(col(Source.id))).all()
    ]


def outbox_state(session: Session, *, now: datetime) -> OutboxState:
    depth, oldest = session.exec(
        select(func.count(col(Delivery.id)), func.min(Delivery.created_at)).where(
            col(Delivery.status).in_(_UNDELIVERED)
        )
    ).one()
    # Only rows waiting to be sent now count as overdue; a row backing off after an
    # error is due later by design.
    oldest_due = session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.status == DeliveryStatus.PENDING.value,
            col(Delivery.next_attempt_at) <= now,
        )
    ).one()
    return OutboxState(depth=int(depth), oldest_undelivered_at=oldest, oldest_due_at=oldest_due)
