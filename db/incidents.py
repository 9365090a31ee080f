"""Calls for help as conversations: who asked, who on the security team owns the call,
and every message of the thread in order, whichever side sent it.

A call opens when a person asks for help (the "I need help" button, `/help_me`, the
alert button offered for typed words) or sends their team a message, and stays open
until a lead resolves it or the person says they are safe. A person has at most one
open call; what they send while it is open belongs to it. The copies the leads got
are outbox rows carrying the call's id (`Delivery.call_id`), so a lead's Telegram
reply to any of them is known to answer this call.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, text, update
from sqlmodel import Field, Session, SQLModel, col, select

from db.models import Delivery, DeliveryKind, DeliveryStatus
from db.types import UTCDateTime, utcnow


class CloseReason(StrEnum):
    RESOLVED = "resolved"  # a lead ran /resolve
    SAFE = "safe"  # the person said they are safe


class Part(StrEnum):
    """What one message of a thread was, as Telegram delivered it."""

    TEXT = "text"
    PHOTO = "photo"
    VOICE = "voice"
    VIDEO = "video"
    VIDEO_NOTE = "video note"
    AUDIO = "audio"
    DOCUMENT = "document"
    ANIMATION = "animation"
    LOCATION = "location"
    LIVE_LOCATION = "live location"


class HelpCall(SQLModel, table=True):
    """One call for help and its thread."""

    __table_args__ = (
        # One open call per person, even when two of their messages arrive at once.
        Index(
            "uq_helpcall_open_staff",
            "staff_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    owner_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    owned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    close_reason: str | None = Field(default=None, max_length=16)


class HelpMessage(SQLModel, table=True):
    """One message of a call's thread: from the person, or from their security team."""

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("helpcall.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # None once the sender (a lead) has had their data deleted; the thread stays the
    # person's.
    sender_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    from_person: bool = True
    kind: str = Field(max_length=16)
    text: str | None = Field(default=None, sa_type=Text)  # the words, a caption, a place
    # Where the original is on Telegram: media are passed on as copies of it.
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HelpReplying(SQLModel, table=True):
    """A lead pressed "Reply" on a call: their next message goes to its person."""

    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("helpcall.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def start_reply(session: Session, *, staff_id: int, call_id: int, now: datetime) -> None:
    found = session.get(HelpReplying, staff_id)
    if found is None:
        session.add(HelpReplying(staff_id=staff_id, call_id=call_id, at=now))
    else:
        found.call_id, found.at = call_id, now
        session.add(found)
    session.flush()


def take_reply(session: Session, *, staff_id: int, since: datetime) -> int | None:
    """The call a lead pressed "Reply" on since `since`, forgotten once read."""
    found = session.get(HelpReplying, staff_id)
    if found is None:
        return None
    session.delete(found)
    session.flush()
    return found.call_id if found.at >= since else None


def open_call_of(session: Session, *, staff_id: int) -> HelpCall | None:
    return session.exec(
        select(HelpCall).where(HelpCall.staff_id == staff_id, col(HelpCall.closed_at).is_(None))
    ).first()


def open_call(session: Session, *, staff_id: int, now: datetime) -> tuple[HelpCall, bool]:
    """The person's open call, or a new one; (call, whether it is new)."""
    found = open_call_of(session, staff_id=staff_id)
    if found is not None:
        return found, False
    call = HelpCall(staff_id=staff_id, opened_at=now)
    session.add(call)
    session.flush()
    return call, True


def by_id(session: Session, *, call_id: int) -> HelpCall | None:
    return session.get(HelpCall, call_id)


def add_message(
    session: Session,
    *,
    call_id: int,
    sender_staff_id: int,
    from_person: bool,
    kind: Part,
    text: str | None,
    chat_id: int,
    message_id: int,
    now: datetime,
) -> HelpMessage:
    row = HelpMessage(
        call_id=call_id,
        sender_staff_id=sender_staff_id,
        from_person=from_person,
        kind=kind.value,
        text=text,
        chat_id=chat_id,
        message_id=message_id,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def claim(
    session: Session, *, call_id: int, owner_id: int, expected: int | None, now: datetime
) -> bool:
    """Make `owner_id` the owner if the owner is still `expected`: of two leads pressing
    at once, one wins and the other is asked whether to take over."""
    owner = col(HelpCall.owner_staff_id)
    result = session.execute(
        update(HelpCall)
        .where(
            col(HelpCall.id) == call_id,
            col(HelpCall.closed_at).is_(None),
            owner.is_(None) if expected is None else owner == expected,
        )
        .values(owner_staff_id=owner_id, owned_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def close(
    session: Session, *, call_id: int, by_staff_id: int | None, reason: CloseReason, now: datetime
) -> bool:
    """Close an open call; False when it was closed already."""
    result = session.execute(
        update(HelpCall)
        .where(col(HelpCall.id) == call_id, col(HelpCall.closed_at).is_(None))
        .values(closed_at=now, closed_by_staff_id=by_staff_id, close_reason=reason.value)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def open_calls(session: Session, *, staff_ids: Collection[int] | None) -> Sequence[HelpCall]:
    """The open calls, oldest first; only those of `staff_ids` unless None."""
    query = select(HelpCall).where(col(HelpCall.closed_at).is_(None))
    if staff_ids is not None:
        query = query.where(col(HelpCall.staff_id).in_(staff_ids))
    return session.exec(query.order_by(col(HelpCall.id))).all()


def thread(session: Session, *, call_id: int) -> Sequence[HelpMessage]:
    """A call's messages in the order they came."""
    return session.exec(
        select(HelpMessage).where(HelpMessage.call_id == call_id).order_by(col(HelpMessage.id))
    ).all()


def calls_of(session: Session, *, staff_id: int) -> Sequence[HelpCall]:
    return session.exec(
        select(HelpCall).where(HelpCall.staff_id == staff_id).order_by(col(HelpCall.id))
    ).all()


def call_of_copy(session: Session, *, chat_id: int, message_id: int) -> int | None:
    """The call a message the bot sent to a lead belongs to (a copy or a reply prompt)."""
    return session.exec(
        select(Delivery.call_id).where(
            Delivery.chat_id == chat_id,
            Delivery.telegram_message_id == message_id,
            col(Delivery.call_id).is_not(None),
        )
    ).first()


def copies_unrecorded(session: Session, *, chat_id: int) -> bool:
    """Whether a call's message to this chat is with Telegram and its id not recorded yet:
    the dispatcher records a send a moment after Telegram accepts it."""
    return (
        session.exec(
            select(Delivery.id).where(
                Delivery.chat_id == chat_id,
                col(Delivery.call_id).is_not(None),
                Delivery.status == DeliveryStatus.SENDING.value,
            )
        ).first()
        is not None
    )


def alert_copies(session: Session, *, call_id: int) -> Sequence[Delivery]:
    """The help alerts the leads got for a call that Telegram has (to edit them)."""
    return session.exec(
        select(Delivery)
        .where(
            Delivery.call_id == call_id,
            Delivery.kind == DeliveryKind.HELP_ALERT.value,
            Delivery.status == DeliveryStatus.SENT.value,
            col(Delivery.telegram_message_id).is_not(None),
        )
        .order_by(col(Delivery.id))
    ).all()


def close_when_safe(session: Session, *, staff_id: int, now: datetime) -> int | None:
    """The person says they are safe: their open call, if any, is closed; its id."""
    call = open_call_of(session, staff_id=staff_id)
    if call is None or call.id is None:
        return None
    close(session, call_id=call.id, by_staff_id=staff_id, reason=CloseReason.SAFE, now=now)
    return call.id
