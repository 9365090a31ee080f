"""Safety check-ins and roll calls: rounds, who was asked, every answer, ad-hoc check-ins.

A round asks every subscriber of a country "are you safe?". Each person asked is a
member row, tied to the outbox row that carried their question, so the roll knows who
was never reached. Answers are kept as a history (the latest counts) with a flag for
those that came after the deadline. `/safe`, `/help_me` and shared locations outside
any round are check-ins.

Round life: open → past_deadline (the leads were told who never answered; late answers
are still recorded) → closed (ended by a lead, or replaced by a newer round for the same
country; presses are refused). A lead may also close an open round directly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from db.incidents import HelpCall
from db.models import Channel, Delivery, DeliveryKind, DeliveryStatus, Staff, Trip, Whereabouts
from db.types import UTCDateTime, utcnow
from schedules.rollcall import RollEntry


class RoundStatus(StrEnum):
    OPEN = "open"
    PAST_DEADLINE = "past_deadline"
    CLOSED = "closed"


class Answer(StrEnum):
    SAFE = "safe"
    HELP = "help"


class CheckInKind(StrEnum):
    SAFE = "safe"
    HELP = "help"
    LOCATION = "location"


class CloseReason(StrEnum):
    ENDED = "ended"  # a lead ran /checkin_end
    SUPERSEDED = "superseded"  # a newer round for the same country started


# The dedupe keys of a round's messages, which keep each from being queued twice.
def question_key(round_id: int) -> str:
    return f"rollcall:{round_id}"


def reminder_key(round_id: int, index: int) -> str:
    return f"rollcall:{round_id}:remind:{index}"


def deadline_key(round_id: int) -> str:
    return f"rollcall:{round_id}:deadline"


def live_roll_key(round_id: int) -> str:
    """The leads' copies of the live roll, edited in place once the dispatcher sent them."""
    return f"rollcall:{round_id}:live"


class RollCall(SQLModel, table=True):
    """One round of "are you safe?" for one country."""

    __table_args__ = (
        # At most one open round per country, even when two leads start one at once.
        Index(
            "uq_rollcall_open_country",
            "country",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    message: str = Field(default="", sa_type=Text)
    status: str = Field(default=RoundStatus.OPEN.value, max_length=16, index=True)
    started_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    # Rounds started by a departure advisory.
    alert_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("alert.id", ondelete="SET NULL"), nullable=True),
    )
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    # Kept per round so that changing the setting does not renumber a running round.
    remind_every_minutes: int = 30
    reminders_sent: int = 0  # the highest reminder index queued
    deadline_passed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    close_reason: str | None = Field(default=None, max_length=16)
    # The starter's live roll (their /checkin reply), edited in place.
    report_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    report_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    report_done: bool = False
    # People asked in this round who had their data deleted since: their rows are gone,
    # and the roll says how many so that its counts do not shrink unexplained.
    forgotten: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # While the round's question is still being queued, a chunk of people at a time: the
    # staff id of the last person queued (None once everyone is). A restart carries on.
    queue_after: int | None = None


class RollCallMember(SQLModel, table=True):
    """A person asked in a round, and the outbox row that asked them."""

    __table_args__ = (UniqueConstraint("round_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rollcall.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    delivery_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("delivery.id", ondelete="SET NULL"), nullable=True),
    )


class RollCallAnswer(SQLModel, table=True):
    """Every answer given, kept; a member's latest one is their status."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rollcall.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    member_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("rollcallmember.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    answer: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    late: bool = False
    via: str = Field(default="button", max_length=16)  # button, or the command typed
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckIn(SQLModel, table=True):
    """`/safe`, `/help_me` or a shared location, at any time."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_type=Text)
    latitude: float | None = None
    longitude: float | None = None
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    at: datetime


# -- rounds ----------------------------------------------------------------------------
def create_round(
    session: Session,
    *,
    country: str,
    message: str,
    started_by_staff_id: int | None,
    alert_id: int | None,
    now: datetime,
    deadline_at: datetime,
    remind_every_minutes: int,
) -> RollCall:
    rollcall = RollCall(
        country=country,
        message=message,
        started_by_staff_id=started_by_staff_id,
        alert_id=alert_id,
        started_at=now,
        deadline_at=deadline_at,
        remind_every_minutes=remind_every_minutes,
    )
    session.add(rollcall)
    session.flush()
    return rollcall


def by_id(session: Session, *, round_id: int) -> RollCall | None:
    return session.get(RollCall, round_id)


def open_round_for_country(session: Session, *, country: str) -> RollCall | None:
    return session.exec(
        select(RollCall).where(
            RollCall.country == country, RollCall.status == RoundStatus.OPEN.value
        )
    ).first()


def latest_round_for_country(session: Session, *, country: str) -> RollCall | None:
    """The round a lead means by a country: a running one first, else the last one."""
    closed_last = case((col(RollCall.status) == RoundStatus.CLOSED.value, 1), else_=0)
    return session.exec(
        select(RollCall)
        .where(RollCall.country == country)
        .order_by(closed_last, col(RollCall.id).desc())
    ).first()


def running_rounds(session: Session, *, countries: Collection[str] | None) -> Sequence[RollCall]:
    """Rounds not closed yet, in the given countries (None: all countries)."""
    query = select(RollCall).where(RollCall.status != RoundStatus.CLOSED.value)
    if countries is not None:
        query = query.where(col(RollCall.country).in_(list(countries)))
    return session.exec(query.order_by(col(RollCall.id))).all()


def rounds_to_plan(session: Session) -> Sequence[RollCall]:
    """Open rounds: the ones with reminders and a deadline still ahead of them."""
    return session.exec(
        select(RollCall).where(RollCall.status == RoundStatus.OPEN.value).order_by(col(RollCall.id))
    ).all()


def supersede_rounds(session: Session, *, country: str, now: datetime) -> int:
    """Close a country's rounds that are past their deadline: a new round replaces them."""
    result = session.execute(
        update(RollCall)
        .where(
            col(RollCall.country) == country,
            col(RollCall.status) == RoundStatus.PAST_DEADLINE.value,
        )
        .values(
            status=RoundStatus.CLOSED.value,
            closed_at=now,
            close_reason=CloseReason.SUPERSEDED.value,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_reminder(session: Session, *, round_id: int, index: int) -> bool:
    """Mark reminder `index` as queued; False when it (or a later one) already was.

    The conditional update is what makes a reminder go out once across restarts and
    concurrent jobs.
    """
    result = session.execute(
        update(RollCall)
        .where(
            col(RollCall.id) == round_id,
            col(RollCall.status) == RoundStatus.OPEN.value,
            col(RollCall.reminders_sent) < index,
        )
        .values(reminders_sent=index)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def pass_deadline(session: Session, *, round_id: int, now: datetime) -> bool:
    """Move an open round whose deadline has come to past_deadline; True only once."""
    result = session.execute(
        update(RollCall)
        .where(
            col(RollCall.id) == round_id,
            col(RollCall.status) == RoundStatus.OPEN.value,
            col(RollCall.deadline_at) <= now,
        )
        .values(status=RoundStatus.PAST_DEADLINE.value, deadline_passed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_round(session: Session, *, round_id: int, by_staff_id: int | None, now: datetime) -> bool:
    """Close a round that is not closed yet; False when it already was."""
    result = session.execute(
        update(RollCall)
        .where(
            col(RollCall.id) == round_id,
            col(RollCall.status) != RoundStatus.CLOSED.value,
        )
        .values(
            status=RoundStatus.CLOSED.value,
            closed_at=now,
            closed_by_staff_id=by_staff_id,
            close_reason=CloseReason.ENDED.value,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- members -----------------------------------------------------------------------------
def add_members(session: Session, *, round_id: int, staff_ids: Iterable[int]) -> dict[int, int]:
    """Ask these people in the round; returns staff id → member id."""
    ids = list(staff_ids)
    if ids and session.get_bind().dialect.name == "postgresql":
        # One statement with the ids as an array, not one insert per person: a round may
        # ask everyone, in the transaction the first question waits for.
        table: Table = RollCallMember.__table__  # type: ignore[attr-defined]
        added = session.execute(
            insert(table)
            .from_select(
                [table.c.round_id, table.c.staff_id],
                sa_select(literal(round_id), func.unnest(bindparam("ids", type_=ARRAY(Integer)))),
            )
            .returning(table.c.staff_id, table.c.id),
            {"ids": ids},
        ).all()
        return {staff_id: member_id for staff_id, member_id in added}
    rows = [{"round_id": round_id, "staff_id": staff_id} for staff_id in ids]
    if rows:
        # One executemany, not thousands of ORM objects: a round may ask everyone.
        session.execute(insert(RollCallMember), rows)
    found = session.exec(
        select(RollCallMember.staff_id, RollCallMember.id).where(
            RollCallMember.round_id == round_id
        )
    ).all()
    return {staff_id: member_id or 0 for staff_id, member_id in found}


def to_ask(session: Session, *, round_id: int, after: int, limit: int) -> list[tuple[int, Staff]]:
    """The next `limit` people of a round to queue the question for, in staff id order
    after `after`: (member id, person)."""
    rows = session.exec(
        select(RollCallMember.id, Staff)
        .join(Staff, col(Staff.id) == RollCallMember.staff_id)
        .where(RollCallMember.round_id == round_id, col(RollCallMember.staff_id) > after)
        .order_by(col(RollCallMember.staff_id))
        .limit(limit)
    ).all()
    return [(member_id or 0, person) for member_id, person in rows]


def rounds_queueing(session: Session) -> list[int]:
    """Rounds whose question is not queued for everyone yet, oldest first."""
    found = session.exec(
        select(RollCall.id).where(col(RollCall.queue_after).is_not(None)).order_by(col(RollCall.id))
    ).all()
    return [round_id for round_id in found if round_id is not None]


def link_deliveries(
    session: Session, *, round_id: int, staff_ids: Collection[int] | None = None
) -> int:
    """Tie each member (of `staff_ids`, default everyone) to the outbox row that carries
    their question."""
    questions = select(Delivery.id, Delivery.staff_id).where(
        Delivery.round_id == round_id,
        Delivery.kind == DeliveryKind.ROLLCALL_QUESTION.value,
        Delivery.part == 0,
        Delivery.channel == Channel.TELEGRAM.value,  # not its SMS or e-mail
    )
    asked = select(RollCallMember.id, RollCallMember.staff_id).where(
        RollCallMember.round_id == round_id
    )
    if staff_ids is not None:
        questions = questions.where(col(Delivery.staff_id).in_(staff_ids))
        asked = asked.where(col(RollCallMember.staff_id).in_(staff_ids))
    by_staff = {staff_id: delivery_id for delivery_id, staff_id in session.exec(questions).all()}
    members = session.exec(asked).all()
    params = [
        {"id": member_id, "delivery_id": by_staff[staff_id]}
        for member_id, staff_id in members
        if staff_id in by_staff
    ]
    if params:
        session.execute(update(RollCallMember), params)
    return len(params)


def member_with_round(
    session: Session, *, member_id: int
) -> tuple[RollCallMember, RollCall] | None:
    row = session.exec(
        select(RollCallMember, RollCall)
        .join(RollCall, col(RollCall.id) == RollCallMember.round_id)
        .where(RollCallMember.id == member_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def answerable_memberships(
    session: Session, *, staff_id: int
) -> list[tuple[RollCallMember, RollCall]]:
    """A person's memberships in rounds that still take answers (open or past deadline)."""
    rows = session.exec(
        select(RollCallMember, RollCall)
        .join(RollCall, col(RollCall.id) == RollCallMember.round_id)
        .where(
            RollCallMember.staff_id == staff_id,
            col(RollCall.status) != RoundStatus.CLOSED.value,
        )
        .order_by(col(RollCall.id))
    ).all()
    return [(member, rollcall) for member, rollcall in rows]


def to_remind(session: Session, *, round_id: int) -> list[tuple[int, int, int]]:
    """(member id, staff id, chat id) of those who got the question, are reachable and
    have not answered.

    A question still `sending` counts as got: Telegram may have it already while its
    outcome waits to be recorded (a batch, or a database outage), and skipping the
    person would cost them this reminder for good. A question that reached them by SMS
    or e-mail counts too, reachable on Telegram or not: their reminder goes the same way
    (bot.fallback)."""
    answered = exists().where(col(RollCallAnswer.member_id) == RollCallMember.id)
    fallback = aliased(Delivery)
    reached_otherwise = exists().where(
        col(fallback.fallback_for_id) == col(RollCallMember.delivery_id),
        col(fallback.status).in_([DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value]),
    )
    on_telegram = and_(
        col(Delivery.status).in_([DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value]),
        col(Staff.reachable).is_(True),
    )
    rows = session.exec(
        select(RollCallMember.id, Staff.id, Staff.chat_id)
        .join(Staff, col(Staff.id) == RollCallMember.staff_id)
        .join(Delivery, col(Delivery.id) == RollCallMember.delivery_id)
        .where(
            RollCallMember.round_id == round_id,
            or_(on_telegram, reached_otherwise),
            ~answered,
        )
        .order_by(col(RollCallMember.id))
    ).all()
    return [(member_id or 0, staff_id or 0, chat_id) for member_id, staff_id, chat_id in rows]


# -- answers -----------------------------------------------------------------------------
def latest_answer(session: Session, *, member_id: int) -> RollCallAnswer | None:
    return session.exec(
        select(RollCallAnswer)
        .where(RollCallAnswer.member_id == member_id)
        .order_by(col(RollCallAnswer.id).desc())
    ).first()


def record_answer(
    session: Session,
    *,
    member: RollCallMember,
    answer: Answer,
    note: str | None,
    location: tuple[float, float] | None,
    late: bool,
    via: str,
    now: datetime,
) -> RollCallAnswer:
    row = RollCallAnswer(
        round_id=member.round_id,
        member_id=member.id or 0,
        staff_id=member.staff_id,
        answer=answer.value,
        note=note,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        late=late,
        via=via,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def roll_entries(session: Session, *, rollcall: RollCall) -> list[RollEntry]:
    """Everyone asked in a round with their latest answer, delivery and location."""
    round_id = rollcall.id or 0
    # Ten columns: past what sqlmodel's select is typed for, so SQLAlchemy's own.
    members = session.execute(
        sa_select(
            col(RollCallMember.id),
            col(RollCallMember.staff_id),
            col(Staff.display_name),
            col(Staff.username),
            col(Staff.telegram_user_id),
            col(Staff.reachable),
            col(Delivery.status),
            col(Delivery.paid),
            col(Staff.mobile).is_not(None),
            col(Staff.email).is_not(None),
        )
        .join(Staff, col(Staff.id) == RollCallMember.staff_id)
        .outerjoin(Delivery, col(Delivery.id) == RollCallMember.delivery_id)
        .where(col(RollCallMember.round_id) == round_id)
        .order_by(col(RollCallMember.id))
    ).all()
    latest: dict[int, RollCallAnswer] = {}
    for given in session.exec(
        select(RollCallAnswer)
        .where(RollCallAnswer.round_id == round_id)
        .order_by(col(RollCallAnswer.id))
    ).all():
        latest[given.member_id] = given
    shared = _latest_locations(
        session,
        staff_ids=select(RollCallMember.staff_id).where(RollCallMember.round_id == round_id),
        since=rollcall.started_at,
    )
    handlers = _call_owners(
        session,
        staff_ids=select(RollCallMember.staff_id).where(RollCallMember.round_id == round_id),
    )
    # Those on a trip to the country when the round began: the report tells them apart.
    travelling = set(
        session.exec(
            select(Trip.staff_id).where(
                col(Trip.staff_id).in_(
                    select(RollCallMember.staff_id).where(RollCallMember.round_id == round_id)
                ),
                Trip.country == rollcall.country,
                col(Trip.starts_at) <= rollcall.started_at,
                col(Trip.ends_at) > rollcall.started_at,
                or_(col(Trip.ended_at).is_(None), col(Trip.ended_at) > rollcall.started_at),
            )
        ).all()
    )
    reached = reached_in_round(session, round_id=round_id)
    # Those the question is not queued for yet, while the round is still queueing it.
    not_queued = DeliveryStatus.PENDING.value if rollcall.queue_after is not None else None
    entries = []
    for (
        member_id,
        staff_id,
        name,
        username,
        telegram_id,
        reachable,
        delivery,
        paid,
        has_mobile,
        has_email,
    ) in members:
        answer = latest.get(member_id or 0)
        location: tuple[float, float] | None = None
        if answer is not None and answer.latitude is not None and answer.longitude is not None:
            location = (answer.latitude, answer.longitude)
        elif staff_id in shared:
            location = (shared[staff_id].latitude, shared[staff_id].longitude)
        entries.append(
            RollEntry(
                member_id=member_id or 0,
                staff_id=staff_id,
                name=name,
                username=username,
                answer=answer.answer if answer else None,
                answered_at=answer.at if answer else None,
                late=answer.late if answer else False,
                note=answer.note if answer else None,
                location=location,
                delivery=delivery or not_queued,
                paid=bool(paid),
                reachable=reachable,
                telegram_id=telegram_id,
                handled_by=handlers.get(staff_id),
                on_trip=staff_id in travelling,
                via=answer.via if answer else None,
                reached_by=reached.get(staff_id),
                fallback=tuple(
                    channel
                    for channel, given in (("sms", has_mobile), ("email", has_email))
                    if given
                ),
            )
        )
    return entries


def reached_in_round(session: Session, *, round_id: int) -> dict[int, str]:
    """Staff id → the channel ("sms", "email") a round's question or reminder reached
    them by, for those it reached other than by Telegram (SMS wins over e-mail)."""
    rows = session.exec(
        select(Delivery.staff_id, Delivery.channel).where(
            Delivery.round_id == round_id,
            col(Delivery.kind).in_(
                [DeliveryKind.ROLLCALL_QUESTION.value, DeliveryKind.ROLLCALL_REMINDER.value]
            ),
            Delivery.channel != Channel.TELEGRAM.value,
            Delivery.status == DeliveryStatus.SENT.value,
        )
    ).all()
    reached: dict[int, str] = {}
    for staff_id, channel in rows:
        if reached.get(staff_id) != Channel.SMS.value:
            reached[staff_id] = channel
    return reached


def _call_owners(session: Session, *, staff_ids: Any) -> dict[int, tuple[str, int]]:
    """Staff id → (name, Telegram id) of the lead who owns their open call for help."""
    rows = session.exec(
        select(HelpCall.staff_id, Staff.display_name, Staff.telegram_user_id)
        .join(Staff, col(Staff.id) == HelpCall.owner_staff_id)
        .where(col(HelpCall.closed_at).is_(None), col(HelpCall.staff_id).in_(staff_ids))
    ).all()
    return {staff_id: (name, telegram_id) for staff_id, name, telegram_id in rows}


def live_rounds_of(session: Session, *, staff_id: int) -> list[int]:
    """The rounds a person was asked in whose live rolls are still kept current."""
    found = session.exec(
        select(RollCall.id)
        .join(RollCallMember, col(RollCallMember.round_id) == RollCall.id)
        .where(RollCallMember.staff_id == staff_id, col(RollCall.report_done).is_(False))
        .order_by(col(RollCall.id))
    ).all()
    return [round_id for round_id in found if round_id is not None]


# -- the live roll -----------------------------------------------------------------------
def set_report(session: Session, *, round_id: int, chat_id: int, message_id: int) -> None:
    session.execute(
        update(RollCall)
        .where(col(RollCall.id) == round_id)
        .values(report_chat_id=chat_id, report_message_id=message_id, report_done=False)
    )


def live_rounds(session: Session) -> Sequence[RollCall]:
    """Rounds whose live rolls are still being kept current."""
    return session.exec(
        select(RollCall).where(col(RollCall.report_done).is_(False)).order_by(col(RollCall.id))
    ).all()


def close_report(session: Session, *, round_id: int) -> None:
    session.execute(update(RollCall).where(col(RollCall.id) == round_id).values(report_done=True))


def report_targets(session: Session, *, rollcall: RollCall) -> list[tuple[int, int]]:
    """(chat id, message id) of every live roll of a round that Telegram has."""
    targets: list[tuple[int, int]] = []
    if rollcall.report_chat_id is not None and rollcall.report_message_id is not None:
        targets.append((rollcall.report_chat_id, rollcall.report_message_id))
    rows = session.exec(
        select(Delivery.chat_id, Delivery.telegram_message_id)
        .where(
            Delivery.round_id == rollcall.id,
            Delivery.kind == DeliveryKind.LIVE_ROLL.value,
            Delivery.part == 0,
            Delivery.status == DeliveryStatus.SENT.value,
            col(Delivery.telegram_message_id).is_not(None),
        )
        .order_by(col(Delivery.id))
    ).all()
    targets.extend((chat_id, message_id) for chat_id, message_id in rows if message_id)
    return targets


def live_rolls_pending(session: Session, *, round_id: int) -> bool:
    """True while a lead's copy of the live roll is still in the outbox."""
    return (
        session.exec(
            select(Delivery.id).where(
                Delivery.round_id == round_id,
                Delivery.kind == DeliveryKind.LIVE_ROLL.value,
                col(Delivery.status).in_(
                    [DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]
                ),
            )
        ).first()
        is not None
    )


# -- check-ins ---------------------------------------------------------------------------
def record_checkin(
    session: Session,
    *,
    staff_id: int,
    kind: CheckInKind,
    note: str | None,
    location: tuple[float, float] | None,
    now: datetime,
) -> CheckIn:
    row = CheckIn(
        staff_id=staff_id,
        kind=kind.value,
        note=note,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def last_location(session: Session, *, staff_id: int) -> Location | None:
    """The last location a person shared (with a check-in, an answer or on its own)."""
    return _latest_locations(session, staff_ids=[staff_id], since=None).get(staff_id)


def _latest_locations(
    session: Session, *, staff_ids: Any, since: datetime | None
) -> dict[int, Location]:
    """The latest location each person shared since `since` (None: ever): with a
    check-in, an answer, on its own, or the newest position of a live location
    (`Whereabouts`, which follows it while it is shared).

    `staff_ids` is a list of ids or a select of them (a select keeps a round of
    thousands under the databases' bound-parameter limits).
    """
    checkins = select(CheckIn.staff_id, CheckIn.latitude, CheckIn.longitude, CheckIn.at).where(
        col(CheckIn.staff_id).in_(staff_ids),
        col(CheckIn.latitude).is_not(None),
        col(CheckIn.longitude).is_not(None),
    )
    answers = select(
        RollCallAnswer.staff_id,
        RollCallAnswer.latitude,
        RollCallAnswer.longitude,
        RollCallAnswer.at,
    ).where(
        col(RollCallAnswer.staff_id).in_(staff_ids),
        col(RollCallAnswer.latitude).is_not(None),
        col(RollCallAnswer.longitude).is_not(None),
    )
    places = select(
        Whereabouts.staff_id, Whereabouts.latitude, Whereabouts.longitude, Whereabouts.seen_at
    ).where(
        col(Whereabouts.staff_id).in_(staff_ids),
        col(Whereabouts.latitude).is_not(None),
        col(Whereabouts.longitude).is_not(None),
        col(Whereabouts.seen_at).is_not(None),
    )
    if since is not None:
        checkins = checkins.where(col(CheckIn.at) >= since)
        answers = answers.where(col(RollCallAnswer.at) >= since)
        places = places.where(col(Whereabouts.seen_at) >= since)
    found: dict[int, Location] = {}
    for query in (checkins, answers, places):
        for staff_id, latitude, longitude, at in session.exec(query).all():
            if latitude is None or longitude is None or at is None:
                continue
            known = found.get(staff_id)
            if known is None or at >= known.at:
                found[staff_id] = Location(latitude=latitude, longitude=longitude, at=at)
    return found


def help_since(session: Session, *, staff_id: int, since: datetime) -> bool:
    """Whether a person asked for help since `since` and has not said they are safe after."""
    last = session.exec(
        select(CheckIn.kind, CheckIn.at)
        .where(
            CheckIn.staff_id == staff_id,
            col(CheckIn.kind).in_([CheckInKind.SAFE.value, CheckInKind.HELP.value]),
            col(CheckIn.at) >= since,
        )
        .order_by(col(CheckIn.id).desc())
    ).first()
    last_answer = session.exec(
        select(RollCallAnswer.answer, RollCallAnswer.at)
        .where(RollCallAnswer.staff_id == staff_id, col(RollCallAnswer.at) >= since)
        .order_by(col(RollCallAnswer.id).desc())
    ).first()
    candidates = [row for row in (last, last_answer) if row is not None]
    if not candidates:
        return False
    kind, _ = max(candidates, key=lambda row: row[1])
    return bool(kind == CheckInKind.HELP.value)
