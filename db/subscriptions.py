"""Which countries each person follows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from db.models import Staff, Subscription


def subscribe(session: Session, *, staff_id: int, country: str) -> bool:
    """Follow a country; False when already followed."""
    exists = session.exec(
        select(Subscription).where(
            Subscription.staff_id == staff_id, Subscription.country == country
        )
    ).first()
    if exists:
        return False
    session.add(Subscription(staff_id=staff_id, country=country))
    session.flush()
    return True


def unsubscribe(session: Session, *, staff_id: int, country: str) -> bool:
    result = session.execute(
        delete(Subscription).where(
            col(Subscription.staff_id) == staff_id, col(Subscription.country) == country
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def countries_of(session: Session, *, staff_id: int) -> list[str]:
    rows = session.exec(
        select(Subscription.country)
        .where(Subscription.staff_id == staff_id)
        .order_by(col(Subscription.country))
    ).all()
    return list(rows)


def subscribers(session: Session, *, country: str) -> Sequence[Staff]:
    return session.exec(
        select(Staff)
        .join(Subscription, col(Subscription.staff_id) == Staff.id)
        .where(Subscription.country == country)
        .order_by(col(Staff.id))
    ).all()


def subscriber_chats(
    session: Session, *, country: str, after_staff_id: int, limit: int
) -> list[tuple[int, int, bool]]:
    """(staff id, chat id, reachable) of the country's next `limit` subscribers past
    `after_staff_id`, in staff id order: what a fan-out needs, without loading people."""
    rows = session.exec(
        select(Staff.id, Staff.chat_id, Staff.reachable)
        .join(Subscription, col(Subscription.staff_id) == Staff.id)
        .where(Subscription.country == country, col(Staff.id) > after_staff_id)
        .order_by(col(Staff.id))
        .limit(limit)
    ).all()
    return [(staff_id or 0, chat_id, reachable) for staff_id, chat_id, reachable in rows]


def count_subscribers(session: Session, *, country: str) -> tuple[int, int]:
    """(all subscribers, of whom reachable)."""
    row = session.exec(
        select(func.count(), func.count().filter(col(Staff.reachable).is_(True)))
        .select_from(Subscription)
        .join(Staff, col(Subscription.staff_id) == Staff.id)
        .where(Subscription.country == country)
    ).one()
    return int(row[0]), int(row[1])


def countries_with_subscribers(session: Session) -> list[tuple[str, int]]:
    rows = session.exec(
        select(Subscription.country, func.count())
        .group_by(col(Subscription.country))
        .order_by(col(Subscription.country))
    ).all()
    return [(country, int(n)) for country, n in rows]
