"""Lead broadcasts: a draft the lead previews, then one send that fans out to the outbox.

An alert fans out to its country a chunk of people at a time (`fan_out`, then
`continue_fan_out` until done), so that a large audience does not hold up the first
message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db import deliveries, subscriptions
from db.deliveries import Recipient
from db.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
)


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


# People queued in one transaction: the first of them are sent while the rest are queued.
FAN_OUT_CHUNK = 500
# ... and at most this many in the first, which the first message waits for.
FIRST_CHUNK = 100
# A chunk no audience reaches: everyone in one transaction.
EVERYONE = 2**31 - 1


@dataclass(frozen=True)
class Queued:
    """What one step of a fan-out queued."""

    reachable: int
    unreachable: int
    done: bool  # everyone is queued


def fan_out(
    session: Session,
    *,
    alert: Alert,
    parts: Sequence[str],
    now: datetime,
    reply_markup: dict[str, Any] | None = None,
    chunk: int = FAN_OUT_CHUNK,
) -> Queued:
    """Queue an alert (a broadcast or a feed alert) for the first people of its country's
    audience: its followers and the people there now (`db.subscriptions.audience`).

    Only the first `chunk` people (at most FIRST_CHUNK, unless it is EVERYONE) are queued
    here, so that the first message goes out while the rest of a large audience is still
    being queued. The alert records how far it got (`fan_out_after`) in the same
    transaction, so `continue_fan_out` finishes it, also after a crash, and nobody is
    queued twice (rows are unique per person). The unreachable get rows too, so that
    reports count them.
    """
    assert alert.id is not None and alert.country is not None
    alert.fan_out_after = 0
    return _queue_next(
        session,
        alert=alert,
        parts=parts,
        reply_markup=reply_markup,
        kind=DeliveryKind.BROADCAST
        if alert.kind == AlertKind.BROADCAST.value
        else DeliveryKind.FEED_ALERT,
        now=now,
        chunk=chunk if chunk == EVERYONE else min(chunk, FIRST_CHUNK),
    )


def continue_fan_out(
    session: Session, *, alert_id: int, now: datetime, chunk: int = FAN_OUT_CHUNK
) -> Queued:
    """Queue the next `chunk` people of an alert's fan-out: the same message its first
    people were queued (the rows already written are its template)."""
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None or alert.fan_out_after is None:
        return Queued(0, 0, done=True)
    template = session.exec(
        select(Delivery)
        .where(col(Delivery.alert_id) == alert_id, col(Delivery.dedupe_key) == _key(alert_id))
        .order_by(col(Delivery.staff_id), col(Delivery.part))
        .limit(50)
    ).all()
    first = [row for row in template if row.staff_id == template[0].staff_id] if template else []
    if not first:
        # Nothing was queued to copy from: the fan-out found nobody to start with.
        alert.fan_out_after = None
        return Queued(0, 0, done=True)
    markup = first[-1].reply_markup
    return _queue_next(
        session,
        alert=alert,
        parts=[row.text for row in first],
        reply_markup=json.loads(markup) if markup else None,
        kind=DeliveryKind(first[0].kind),
        now=now,
        chunk=chunk,
    )


def fanning_out(session: Session) -> list[int]:
    """Alerts whose fan-out is not finished, oldest first."""
    alerts = session.exec(
        select(Alert).where(col(Alert.fan_out_after).is_not(None)).order_by(col(Alert.id))
    ).all()
    return [alert.id for alert in alerts if alert.id is not None]


def _key(alert_id: int) -> str:
    return f"alert:{alert_id}"


def _queue_next(
    session: Session,
    *,
    alert: Alert,
    parts: Sequence[str],
    reply_markup: dict[str, Any] | None,
    kind: DeliveryKind,
    now: datetime,
    chunk: int,
) -> Queued:
    assert alert.id is not None and alert.country is not None and alert.fan_out_after is not None
    people = subscriptions.subscriber_chats(
        session,
        country=alert.country,
        after_staff_id=alert.fan_out_after,
        limit=chunk,
        now=now,
    )
    reachable = [Recipient(staff_id, chat) for staff_id, chat, ok in people if ok]
    gone = [Recipient(staff_id, chat) for staff_id, chat, ok in people if not ok]
    for recipients, status in (
        (reachable, DeliveryStatus.PENDING),
        (gone, DeliveryStatus.UNREACHABLE),
    ):
        deliveries.enqueue(
            session,
            kind=kind,
            dedupe_key=_key(alert.id),
            recipients=recipients,
            parts=parts,
            priority=alert.priority,
            now=now,
            alert_id=alert.id,
            reply_markup=reply_markup,
            status=status,
        )
    done = len(people) < chunk
    alert.fan_out_after = None if done else people[-1][0]
    session.add(alert)
    session.flush()
    return Queued(len(reachable), len(gone), done=done)


def fan_out_done(session: Session, *, alert_id: int) -> bool:
    alert = session.get(Alert, alert_id)
    return alert is None or alert.fan_out_after is None


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
