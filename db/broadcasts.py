"""Lead broadcasts: a draft the lead previews, then one send that fans out to the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db import deliveries, subscriptions
from db.deliveries import Recipient
from db.models import Alert, AlertKind, AlertStatus, DeliveryKind, DeliveryStatus, Priority


def create_draft(
    session: Session, *, country: str, text: str, author_staff_id: int, now: datetime
) -> Alert:
    alert = Alert(
        kind=AlertKind.BROADCAST.value,
        status=AlertStatus.DRAFT.value,
        priority=Priority.NORMAL,
        country=country,
        body=text,
        created_by_staff_id=author_staff_id,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def claim_draft(
    session: Session, *, alert_id: int, author_staff_id: int, status: AlertStatus, now: datetime
) -> bool:
    """Move the author's draft to sent or cancelled; False if it is not a draft any more.

    The conditional update is what makes a double-tapped Send go out once.
    """
    result = session.execute(
        update(Alert)
        .where(
            col(Alert.id) == alert_id,
            col(Alert.status) == AlertStatus.DRAFT.value,
            col(Alert.created_by_staff_id) == author_staff_id,
            col(Alert.kind) == AlertKind.BROADCAST.value,
        )
        .values(status=status.value, sent_at=now if status is AlertStatus.SENT else None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def fan_out(
    session: Session,
    *,
    alert: Alert,
    parts: Sequence[str],
    now: datetime,
    reply_markup: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Queue an alert (a broadcast or a feed alert) for its country's audience: its
    followers and the people there now (`db.subscriptions.audience`).

    Returns (queued, already unreachable); the unreachable get rows too, so that
    reports count them.
    """
    assert alert.id is not None and alert.country is not None
    people = subscriptions.subscribers(session, country=alert.country, now=now)
    reachable = [Recipient(p.id or 0, p.chat_id) for p in people if p.reachable]
    gone = [Recipient(p.id or 0, p.chat_id) for p in people if not p.reachable]
    for recipients, status in (
        (reachable, DeliveryStatus.PENDING),
        (gone, DeliveryStatus.UNREACHABLE),
    ):
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST
            if alert.kind == AlertKind.BROADCAST.value
            else DeliveryKind.FEED_ALERT,
            dedupe_key=f"alert:{alert.id}",
            recipients=recipients,
            parts=parts,
            priority=alert.priority,
            now=now,
            alert_id=alert.id,
            reply_markup=reply_markup,
            status=status,
        )
    return len(reachable), len(gone)


def set_report(session: Session, *, alert_id: int, chat_id: int, message_id: int) -> None:
    session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .values(report_chat_id=chat_id, report_message_id=message_id, report_done=False)
    )


def open_reports(session: Session) -> Sequence[Alert]:
    return session.exec(
        select(Alert).where(
            col(Alert.report_message_id).is_not(None), col(Alert.report_done).is_(False)
        )
    ).all()


def close_report(session: Session, *, alert_id: int) -> None:
    session.execute(update(Alert).where(col(Alert.id) == alert_id).values(report_done=True))
