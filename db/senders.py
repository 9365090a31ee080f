"""The processes that send the outbox, when several share one PostgreSQL.

Each sender registers, then says it is alive every HEARTBEAT (`heartbeat`). The live ones
(heard from within LEASE) take the chats in equal parts (`Share`: a chat belongs to the
sender at its place among them, so a chat's messages keep their order and its own rate)
and the bot's flood limits in equal shares. One that is not heard from for LEASE is gone:
`reap` gives its claimed rows back to the queue (it may have sent some of them: the price
of never losing one) and forgets it; the others' shares grow at their next heartbeat.

Times come from the caller's clock (`now`), the same for every sender on one host and
within a fraction of a second between hosts kept by NTP; the lease is seconds long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from db.models import Delivery, DeliveryStatus, Sender

# How often a sender says it is alive ...
HEARTBEAT = timedelta(seconds=1)
# ... and how long without it before the others take over its chats and claimed rows.
LEASE = timedelta(seconds=5)


@dataclass(frozen=True)
class Share:
    """A sender's part of the work: the `index`-th of `count` live senders (by age), and
    until when every sender holds off because Telegram answered one of them 429 (its paid
    broadcasts, when that 429 answered a paid broadcast: Telegram counts those apart)."""

    index: int
    count: int
    flooded_until: datetime | None = None
    paid_flooded_until: datetime | None = None

    def owns(self, chat_id: int) -> bool:
        return self.count <= 1 or abs(chat_id) % self.count == self.index


ALONE = Share(index=0, count=1)


def register(session: Session, *, name: str, now: datetime) -> int:
    sender = Sender(name=name[:200], started_at=now, heartbeat_at=now)
    session.add(sender)
    session.flush()
    assert sender.id is not None
    return sender.id


def heartbeat(
    session: Session,
    *,
    sender_id: int,
    now: datetime,
    flooded_until: datetime | None = None,
    paid_flooded_until: datetime | None = None,
) -> Share | None:
    """Say this sender is alive (and, when given, that Telegram asked everyone to wait
    until `flooded_until`, or to hold paid broadcasts until `paid_flooded_until`), and
    read its share. None: the others took it for gone (a stall longer than LEASE) and
    gave its rows back; it must register again."""
    values: dict[str, object] = {"heartbeat_at": now}
    if flooded_until is not None:
        values["flooded_until"] = flooded_until
    if paid_flooded_until is not None:
        values["paid_flooded_until"] = paid_flooded_until
    result = session.execute(update(Sender).where(col(Sender.id) == sender_id).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    live = session.exec(
        select(Sender.id, Sender.flooded_until, Sender.paid_flooded_until)
        .where(col(Sender.heartbeat_at) > now - LEASE)
        .order_by(col(Sender.id))
    ).all()
    ids = [sender for sender, _, _ in live]
    if sender_id not in ids:  # its own heartbeat is `now`: only a clock gone back does this
        ids.append(sender_id)
    return Share(
        index=ids.index(sender_id),
        count=len(ids),
        flooded_until=_latest_ahead([until for _, until, _ in live], now),
        paid_flooded_until=_latest_ahead([until for _, _, until in live], now),
    )


def _latest_ahead(instants: list[datetime | None], now: datetime) -> datetime | None:
    return max((at for at in instants if at is not None and at > now), default=None)


def reap(session: Session, *, now: datetime) -> int:
    """Senders not heard from within LEASE are gone: the rows they claimed and did not
    record go back to the queue (and any row left `sending` without a sender), and they
    are forgotten. Returns the rows given back."""
    live = select(Sender.id).where(col(Sender.heartbeat_at) > now - LEASE)
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.status) == DeliveryStatus.SENDING.value,
            # A row claimed by no sender was left by a version that did not name one.
            sqlalchemy.or_(
                col(Delivery.claimed_by).is_(None),
                col(Delivery.claimed_by).not_in(live.scalar_subquery()),
            ),
        )
        .values(status=DeliveryStatus.PENDING.value, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Sender).where(col(Sender.heartbeat_at) <= now - LEASE))
    return int(result.rowcount)  # type: ignore[attr-defined]


def deregister(session: Session, *, sender_id: int) -> None:
    """A sender stopping: the others take its share at their next heartbeat."""
    session.execute(delete(Sender).where(col(Sender.id) == sender_id))
