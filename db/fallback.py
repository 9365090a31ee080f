"""Fallback rows: which Telegram rows get an SMS or e-mail, queueing it, recording it.

A fallback row is an outbox row like any other (db.deliveries), with `channel` sms or
email and `fallback_for_id` the Telegram row it stands in for. Its dedupe key is made
from that row's id, so no Telegram row ever gets two fallbacks, whatever runs twice.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.checkins import RollCall, RollCallAnswer, RoundStatus
from db.incidents import HelpCall
from db.models import Alert, Channel, Delivery, DeliveryKind, DeliveryStatus, Staff

# What cannot wait: it goes by SMS or e-mail when Telegram does not deliver it in time.
CRITICAL_KINDS = (
    DeliveryKind.ROLLCALL_QUESTION,
    DeliveryKind.ROLLCALL_REMINDER,
    DeliveryKind.FEED_ALERT,  # departure advisories only
    DeliveryKind.HELP_REPLY,  # to the person in the call only, not the other leads' copies
    DeliveryKind.CURFEW_REMINDER,
)
ROLLCALL_KINDS = (DeliveryKind.ROLLCALL_QUESTION.value, DeliveryKind.ROLLCALL_REMINDER.value)


def fallback_key(delivery_id: int) -> str:
    return f"fallback:{delivery_id}"


@dataclass(frozen=True)
class Candidate:
    """A Telegram row that needs a fallback, and where its person can be reached."""

    delivery_id: int
    staff_id: int
    chat_id: int
    kind: DeliveryKind
    status: str
    priority: int
    alert_id: int | None
    round_id: int | None
    call_id: int | None
    about_staff_id: int | None
    mobile: str | None
    email: str | None
    text: str  # every part's text, in order


def candidates(
    session: Session,
    *,
    now: datetime,
    after: timedelta,
    max_age: timedelta,
    sms: bool,
    email: bool,
    limit: int = 200,
) -> list[Candidate]:
    """Critical Telegram rows without a fallback yet that need one now:

    - not confirmed by Telegram within `after` of being queued (pending or sending), or
      not deliverable at all (the person is unreachable, or Telegram refused it);
    - the first roll-call reminder a person got, by SMS even when Telegram took it: a
      question unanswered by then may be sitting on a phone that has no internet.

    Only rows younger than `max_age`, to people who can be reached by a channel that is
    on, and for roll calls only while the round takes answers and the person has not
    answered it.
    """
    if not (sms or email):
        return []
    earlier = aliased(Delivery)
    fallback = aliased(Delivery)
    reachable_by = []
    if sms:
        reachable_by.append(col(Staff.mobile).is_not(None))
    if email:
        reachable_by.append(col(Staff.email).is_not(None))
    first_reminder = and_(
        col(Delivery.kind) == DeliveryKind.ROLLCALL_REMINDER.value,
        col(Delivery.status) == DeliveryStatus.SENT.value,
        col(Staff.mobile).is_not(None) if sms else false(),
        ~exists().where(
            col(earlier.kind) == DeliveryKind.ROLLCALL_REMINDER.value,
            col(earlier.round_id) == col(Delivery.round_id),
            col(earlier.staff_id) == col(Delivery.staff_id),
            col(earlier.part) == 0,
            col(earlier.id) < col(Delivery.id),
        ),
    )
    undelivered = or_(
        and_(
            col(Delivery.status).in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
            col(Delivery.created_at) <= now - after,
        ),
        col(Delivery.status).in_([DeliveryStatus.UNREACHABLE.value, DeliveryStatus.FAILED.value]),
    )
    answered = exists().where(
        col(RollCallAnswer.round_id) == col(Delivery.round_id),
        col(RollCallAnswer.staff_id) == col(Delivery.staff_id),
    )
    round_open = exists().where(
        col(RollCall.id) == col(Delivery.round_id),
        col(RollCall.status) != RoundStatus.CLOSED.value,
    )
    departure = exists().where(
        col(Alert.id) == col(Delivery.alert_id), col(Alert.departure).is_(True)
    )
    to_the_person = exists().where(
        col(HelpCall.id) == col(Delivery.call_id), col(HelpCall.staff_id) == col(Delivery.staff_id)
    )
    rows = session.exec(
        select(Delivery, Staff.mobile, Staff.email)
        .join(Staff, col(Staff.id) == Delivery.staff_id)
        .where(
            col(Delivery.channel) == Channel.TELEGRAM.value,
            col(Delivery.part) == 0,
            col(Delivery.kind).in_([k.value for k in CRITICAL_KINDS]),
            col(Delivery.created_at) >= now - max_age,
            or_(*reachable_by),
            or_(undelivered, first_reminder),
            ~exists().where(col(fallback.fallback_for_id) == col(Delivery.id)),
            or_(col(Delivery.kind).not_in(ROLLCALL_KINDS), and_(round_open, ~answered)),
            or_(col(Delivery.kind) != DeliveryKind.FEED_ALERT.value, departure),
            or_(col(Delivery.kind) != DeliveryKind.HELP_REPLY.value, to_the_person),
        )
        .order_by(col(Delivery.priority), col(Delivery.id))
        .limit(limit)
    ).all()
    found = []
    for row, mobile, address in rows:
        parts = session.exec(
            select(Delivery.text)
            .where(
                Delivery.dedupe_key == row.dedupe_key,
                Delivery.staff_id == row.staff_id,
                Delivery.channel == Channel.TELEGRAM.value,
            )
            .order_by(col(Delivery.part))
        ).all()
        found.append(
            Candidate(
                delivery_id=row.id or 0,
                staff_id=row.staff_id,
                chat_id=row.chat_id,
                kind=DeliveryKind(row.kind),
                status=row.status,
                priority=row.priority,
                alert_id=row.alert_id,
                round_id=row.round_id,
                call_id=row.call_id,
                about_staff_id=row.about_staff_id,
                mobile=mobile if sms else None,
                email=address if email else None,
                text="\n\n".join(parts),
            )
        )
    return found


def mark_sent(session: Session, *, delivery_id: int, at: datetime, detail: str) -> None:
    """The provider or mail server took it; `detail` is its message id, kept for tracing."""
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=DeliveryStatus.SENT.value, sent_at=at, last_error=detail[:500] or None)
    )


def by_mobile(session: Session, *, mobile: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.mobile == mobile)).first()


def channels_of(session: Session, *, staff_ids: Collection[int]) -> dict[int, tuple[bool, bool]]:
    """Staff id → (has a mobile number, has an e-mail address)."""
    if not staff_ids:
        return {}
    rows = session.exec(
        select(Staff.id, Staff.mobile, Staff.email).where(col(Staff.id).in_(list(staff_ids)))
    ).all()
    return {i or 0: (m is not None, e is not None) for i, m, e in rows}
