"""Which countries each person follows, and who hears about a country: its audience."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from db import whereabouts
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


def follows_of(session: Session, *, staff_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(staff id, country) for every country these people follow."""
    rows = session.exec(
        select(Subscription.staff_id, Subscription.country)
        .where(col(Subscription.staff_id).in_(list(staff_ids)))
        .order_by(col(Subscription.staff_id), col(Subscription.country))
    ).all()
    return [(staff_id, country) for staff_id, country in rows]


def countries_concerning(session: Session, *, staff_id: int, now: datetime) -> list[str]:
    """The countries whose leads answer for a person at `now`: those they follow and
    those they are believed in (a trip, a recent location). A call for help, "safe
    again" and a location passed on go to these countries' leads; /curfew shows their
    curfews."""
    here = whereabouts.countries_here(session, staff_id=staff_id, now=now)
    return sorted(set(countries_of(session, staff_id=staff_id)) | set(here))


def followers(session: Session, *, country: str) -> Sequence[Staff]:
    return session.exec(
        select(Staff)
        .join(Subscription, col(Subscription.staff_id) == Staff.id)
        .where(Subscription.country == country)
        .order_by(col(Staff.id))
    ).all()


@dataclass(frozen=True)
class Audience:
    """The people a country's messages reach: its followers, and those believed there now
    (a trip, a recent location) who do not follow it. Each person once."""

    followers: Sequence[Staff]
    present: Sequence[Staff]

    @property
    def people(self) -> list[Staff]:
        return sorted([*self.followers, *self.present], key=lambda p: p.id or 0)

    @property
    def reachable(self) -> int:
        return sum(1 for p in self.people if p.reachable)


def audience(session: Session, *, country: str, now: datetime) -> Audience:
    """Who every kind of message about `country` goes to at `now`: broadcasts, feed
    alerts, curfew notices and reminders, roll calls. The one rule for it."""
    following = list(followers(session, country=country))
    ids = {p.id for p in following}
    there = [
        p.person
        for p in whereabouts.present(session, country=country, now=now)
        if p.person.id not in ids
    ]
    return Audience(followers=following, present=there)


def audience_ids(session: Session, *, country: str, now: datetime) -> list[int]:
    """The staff ids of `audience`, in order, without loading every follower: a roll call
    of a large country needs only who, before it asks them a chunk at a time."""
    following = set(
        session.exec(
            select(Staff.id)
            .join(Subscription, col(Subscription.staff_id) == Staff.id)
            .where(Subscription.country == country)
        ).all()
    )
    there = {p.person.id for p in whereabouts.present(session, country=country, now=now)}
    return sorted(staff_id for staff_id in following | there if staff_id is not None)


def subscribers(session: Session, *, country: str, now: datetime) -> list[Staff]:
    """Everyone a message about `country` reaches now (see `audience`), by id."""
    return audience(session, country=country, now=now).people


def subscriber_chats(
    session: Session, *, country: str, after_staff_id: int, limit: int, now: datetime
) -> list[tuple[int, int, bool]]:
    """(staff id, chat id, reachable) of the next `limit` people of the country's audience
    (see `audience`: its followers and those there now) past `after_staff_id`, in staff
    id order: what a fan-out needs, without loading every follower."""
    rows = session.exec(
        select(Staff.id, Staff.chat_id, Staff.reachable)
        .join(Subscription, col(Subscription.staff_id) == Staff.id)
        .where(Subscription.country == country, col(Staff.id) > after_staff_id)
        .order_by(col(Staff.id))
        .limit(limit)
    ).all()
    chats = {staff_id or 0: (staff_id or 0, chat_id, ok) for staff_id, chat_id, ok in rows}
    for there in whereabouts.present(session, country=country, now=now):
        person = there.person
        if (person.id or 0) > after_staff_id:
            chats.setdefault(person.id or 0, (person.id or 0, person.chat_id, person.reachable))
    return [chats[staff_id] for staff_id in sorted(chats)][:limit]


def count_subscribers(session: Session, *, country: str) -> tuple[int, int]:
    """(all followers, of whom reachable)."""
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
