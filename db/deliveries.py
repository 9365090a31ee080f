"""The outbox: every message to a person is a row here before it is sent.

Rows are unique per (dedupe_key, staff, part), so queueing the same thing twice is a
no-op. The dispatcher claims the next due rows in priority order, a fraction of a
second's worth at a time, by marking them `sending` in one statement (`claim_due`);
gives back what it did not get to (`release`); and records the rows Telegram confirmed,
with their message ids, a few at a time (`mark_sent_many`). A row left `sending` by a
crash is queued again at start-up: only such a row can ever be sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session, col, select

from db.models import (
    Channel,
    CountryCard,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    Staff,
)
from db.senders import ALONE, Share


@dataclass(frozen=True)
class Recipient:
    staff_id: int
    chat_id: int


@dataclass(frozen=True)
class DueDelivery:
    """What the dispatcher needs to send one row, detached from any session."""

    id: int
    staff_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    attempts: int
    alert_id: int | None
    priority: int  # its place in the queue for Telegram's flood budget (Priority)
    # Set, the message is a copy of this one (copyMessage) with `text` as its caption.
    copy_from: tuple[int, int] | None = None
    # Set, the row brings this country card up to date (db.cards) rather than send `text`.
    card: CardState | None = None


@dataclass(frozen=True)
class CardState:
    """A country card as a claim found it: what it should show, and what Telegram has."""

    card_id: int
    text: str  # what it should show
    following: bool  # pinned while followed; unpinned once not
    message_id: int | None
    shown_text: str | None
    pinned: bool
    stale_message_id: int | None  # an older copy still pinned


@dataclass(frozen=True)
class Confirmed:
    """Telegram accepted a row's message: what `mark_sent_many` records."""

    delivery_id: int
    message_id: int
    at: datetime
    paid: bool = False  # sent as a paid broadcast


@dataclass(frozen=True)
class Counts:
    pending: int = 0
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    # People reached by a fallback after all (their Telegram row is counted above).
    by_sms: int = 0
    by_email: int = 0
    # Of those sent, how many as paid broadcasts.
    paid: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.unreachable


def _insert_ignoring_duplicates(dialect: Dialect) -> Any:
    if dialect.name == "postgresql":
        return postgresql.insert(Delivery).on_conflict_do_nothing()
    if dialect.name == "sqlite":
        return sqlite.insert(Delivery).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database: {dialect.name}")


def enqueue(
    session: Session,
    *,
    kind: DeliveryKind,
    dedupe_key: str,
    recipients: Iterable[Recipient],
    parts: Sequence[str],
    priority: int,
    now: datetime,
    about_staff_id: int | None = None,
    round_id: int | None = None,
    alert_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    call_id: int | None = None,
    copy_from: tuple[int, int] | None = None,
    card_id: int | None = None,
    not_before: datetime | None = None,
    channel: Channel = Channel.TELEGRAM,
    fallback_for_id: int | None = None,
    markups: Mapping[int, dict[str, Any]] | None = None,
) -> int:
    """Queue `parts` for every recipient; returns how many new rows were queued.

    Every row says what it is (`kind`) and, for a report to leads or admins, whom it is
    about (`about_staff_id`) and which roll call (`round_id`): privacy and reports read
    these, never the dedupe key, which only keeps a message from being queued twice.
    A message of a call for help carries its `call_id`; a photo, voice note or file is
    sent as a copy of `copy_from` (chat id, message id) with the part as its caption.
    A row that brings a country card up to date carries its `card_id` (db.cards). Rows
    go out no earlier than `not_before` (default: now).
    The reply markup goes on the last part, where the buttons belong; `markups` gives
    recipients buttons of their own, by staff id (a roll call's name each person's member
    row). Rows for people already known to be unreachable are written with that status,
    so reports count them.
    """
    shared = json.dumps(reply_markup) if reply_markup else None
    own = {staff_id: json.dumps(markup) for staff_id, markup in (markups or {}).items()}
    rows = [
        {
            "dedupe_key": dedupe_key,
            "kind": kind.value,
            "about_staff_id": about_staff_id,
            "round_id": round_id,
            "call_id": call_id,
            "copy_from_chat_id": copy_from[0] if copy_from else None,
            "copy_message_id": copy_from[1] if copy_from else None,
            "card_id": card_id,
            "staff_id": r.staff_id,
            "chat_id": r.chat_id,
            "part": index,
            "alert_id": alert_id,
            "priority": int(priority),
            "text": text,
            "reply_markup": own.get(r.staff_id, shared) if index == len(parts) - 1 else None,
            "status": status.value,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
            "channel": channel.value,
            "fallback_for_id": fallback_for_id,
        }
        for r in recipients
        for index, text in enumerate(parts)
    ]
    return insert_rows(session, rows)


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows given as column values, skipping those already queued (same
    dedupe key, person and part); how many were new."""
    if not rows:
        return 0
    connection = session.connection()
    # RETURNING counts what was really inserted: rowcount is not reliable for a
    # many-row insert on every driver.
    statement = _insert_ignoring_duplicates(connection.dialect).returning(Delivery.id)
    queued = 0
    # Chunks keep each statement well under the databases' bound-parameter limits.
    for start in range(0, len(rows), 500):
        queued += len(connection.execute(statement, rows[start : start + 500]).all())
    return queued


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    busy_chats: Iterable[int] = (),
    channels: Collection[Channel] = (Channel.TELEGRAM,),
    share: Share = ALONE,
    sender_id: int | None = None,
) -> list[DueDelivery]:
    """Take up to `limit` due rows, most urgent first, and mark them `sending`, in one go.

    At most one row per chat is taken (the next part of a long message waits for the
    chat's own limit), and none for `busy_chats`. Each claim counts as an attempt.

    With several senders (db.senders), only the chats of this sender's `share` are taken,
    and the claim names `sender_id`. Rows another sender is claiming at the same moment
    are skipped, not waited for (PostgreSQL's SKIP LOCKED; SQLite has one writer).
    """
    # Plain columns, not ORM objects: cheaper when the batch is hundreds of rows.
    query = (
        sqlalchemy.select(
            col(Delivery.id),
            col(Delivery.staff_id),
            col(Delivery.chat_id),
            col(Delivery.text),
            col(Delivery.reply_markup),
            col(Delivery.attempts),
            col(Delivery.alert_id),
            col(Delivery.priority),
            col(Delivery.copy_from_chat_id),
            col(Delivery.copy_message_id),
            col(Delivery.card_id),
            col(CountryCard.text).label("card_text"),
            col(CountryCard.following),
            col(CountryCard.message_id),
            col(CountryCard.shown_text),
            col(CountryCard.pinned),
            col(CountryCard.stale_message_id),
        )
        .outerjoin(CountryCard, col(CountryCard.id) == col(Delivery.card_id))
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            col(Delivery.next_attempt_at) <= now,
            col(Delivery.channel).in_([c.value for c in channels]),
        )
        .order_by(col(Delivery.priority), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )
    if share.count > 1:
        query = query.where(sqlalchemy.func.abs(col(Delivery.chat_id)) % share.count == share.index)
    busy = set(busy_chats)
    if busy:
        query = query.where(col(Delivery.chat_id).not_in(busy))
    claimed: list[DueDelivery] = []
    for row in session.execute(query).all():
        if row.chat_id in busy:
            continue
        busy.add(row.chat_id)
        claimed.append(
            DueDelivery(
                id=row.id or 0,
                staff_id=row.staff_id,
                chat_id=row.chat_id,
                text=row.text,
                reply_markup=json.loads(row.reply_markup) if row.reply_markup else None,
                attempts=row.attempts,
                alert_id=row.alert_id,
                priority=row.priority,
                copy_from=(row.copy_from_chat_id, row.copy_message_id)
                if row.copy_from_chat_id is not None and row.copy_message_id is not None
                else None,
                card=CardState(
                    card_id=row.card_id,
                    text=row.card_text,
                    following=row.following,
                    message_id=row.message_id,
                    shown_text=row.shown_text,
                    pinned=row.pinned,
                    stale_message_id=row.stale_message_id,
                )
                if row.card_id is not None and row.card_text is not None
                else None,
            )
        )
    if claimed:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_([row.id for row in claimed]))
            .values(
                status=DeliveryStatus.SENDING.value,
                attempts=Delivery.attempts + 1,
                claimed_by=sender_id,
            )
        )
    return claimed


def release(session: Session, *, delivery_ids: Sequence[int]) -> None:
    """Claimed rows that were not sent after all go back to the queue, their claim undone."""
    if not delivery_ids:
        return
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.id).in_(delivery_ids),
            col(Delivery.status) == DeliveryStatus.SENDING.value,
        )
        .values(status=DeliveryStatus.PENDING.value, attempts=Delivery.attempts - 1)
    )


def mark_sent_many(session: Session, *, confirmed: Sequence[Confirmed]) -> None:
    """Record what Telegram confirmed, in one statement executed for every row."""
    if not confirmed:
        return
    session.execute(
        update(Delivery),
        [
            {
                "id": c.delivery_id,
                "status": DeliveryStatus.SENT.value,
                "telegram_message_id": c.message_id,
                "sent_at": c.at,
                "last_error": None,
                "paid": c.paid,
            }
            for c in confirmed
        ],
    )


def next_due_at(
    session: Session, *, channels: Collection[Channel] = (Channel.TELEGRAM,)
) -> datetime | None:
    return session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.status == DeliveryStatus.PENDING.value,
            col(Delivery.channel).in_([c.value for c in channels]),
        )
    ).one()


def mark_retry(
    session: Session, *, delivery_id: int, error: str, at: datetime, attempts: int | None = None
) -> None:
    """Queue a row again at `at`; `attempts`, when given, replaces the count (a claim undone)."""
    values: dict[str, Any] = {
        "status": DeliveryStatus.PENDING.value,
        "next_attempt_at": at,
        "last_error": error[:500],
    }
    if attempts is not None:
        values["attempts"] = attempts
    session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))


def mark_failed(session: Session, *, delivery_id: int, error: str) -> None:
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=DeliveryStatus.FAILED.value, last_error=error[:500])
    )


def mark_unreachable(session: Session, *, staff_id: int, error: str) -> int:
    """Stop everything queued on Telegram for a person Telegram will not deliver to
    (what cannot wait then goes by SMS or e-mail: bot.fallback)."""
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.staff_id) == staff_id,
            col(Delivery.channel) == Channel.TELEGRAM.value,
            col(Delivery.status).in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
        )
        .values(status=DeliveryStatus.UNREACHABLE.value, last_error=error[:500])
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def promote_waiting(session: Session, *, queued_before: datetime) -> int:
    """Card rows queued before `queued_before` and still waiting go up to ROUTINE: behind
    every alert, but no longer behind everything, so a steady stream cannot starve them."""
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.PENDING.value,
            col(Delivery.priority) == int(Priority.CARD),
            col(Delivery.created_at) < queued_before,
        )
        .values(priority=int(Priority.ROUTINE))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def requeue_interrupted(session: Session) -> int:
    """Rows left `sending` by a crash: their fate is unknown, so they are sent again."""
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.status) == DeliveryStatus.SENDING.value)
        .values(status=DeliveryStatus.PENDING.value)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def counts_for_alert(session: Session, *, alert_id: int) -> Counts:
    rows = session.exec(
        select(Delivery.status, func.count(func.distinct(Delivery.staff_id)))
        .where(
            Delivery.alert_id == alert_id,
            Delivery.part == 0,
            Delivery.channel == Channel.TELEGRAM.value,
        )
        .group_by(col(Delivery.status))
    ).all()
    by_status = {status: int(n) for status, n in rows}
    fallbacks = session.exec(
        select(Delivery.channel, func.count(func.distinct(Delivery.staff_id)))
        .where(
            Delivery.alert_id == alert_id,
            Delivery.channel != Channel.TELEGRAM.value,
            Delivery.status == DeliveryStatus.SENT.value,
        )
        .group_by(col(Delivery.channel))
    ).all()
    by_channel = {channel: int(n) for channel, n in fallbacks}
    paid = session.exec(
        select(func.count(func.distinct(Delivery.staff_id))).where(
            Delivery.alert_id == alert_id,
            Delivery.part == 0,
            Delivery.channel == Channel.TELEGRAM.value,
            col(Delivery.paid).is_(True),
        )
    ).one()
    return Counts(
        paid=int(paid),
        by_sms=by_channel.get(Channel.SMS.value, 0),
        by_email=by_channel.get(Channel.EMAIL.value, 0),
        pending=by_status.get(DeliveryStatus.PENDING.value, 0)
        + by_status.get(DeliveryStatus.SENDING.value, 0),
        sent=by_status.get(DeliveryStatus.SENT.value, 0),
        failed=by_status.get(DeliveryStatus.FAILED.value, 0),
        unreachable=by_status.get(DeliveryStatus.UNREACHABLE.value, 0),
    )


def recipients(staff: Iterable[Staff]) -> list[Recipient]:
    return [Recipient(staff_id=s.id, chat_id=s.chat_id) for s in staff if s.id is not None]
