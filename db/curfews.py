"""Curfews: drafts and proposals, confirmation, ending, and who to remind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from db import subscriptions
from db.models import Curfew, CurfewStatus, Staff


def create(
    session: Session,
    *,
    country: str,
    area: str | None,
    zone: str,
    start: str,
    end: str,
    first_day: date,
    last_day: date | None,
    status: CurfewStatus,
    now: datetime,
    set_by_staff_id: int | None = None,
    alert_id: int | None = None,
    stated_utc: str | None = None,
    sentence: str | None = None,
    continuous: bool = False,
    days: Sequence[int] | None = None,
) -> Curfew:
    if continuous and last_day is None:
        raise ValueError("a continuous curfew needs the date it ends")
    if days is not None and (not days or not set(days) <= set(range(7))):
        raise ValueError(f"days of the week are 0 (Monday) to 6, at least one: {days!r}")
    curfew = Curfew(
        country=country,
        area=area,
        zone=zone,
        start=start,
        end=end,
        first_day=first_day,
        last_day=last_day,
        continuous=continuous,
        days=None if days is None or len(set(days)) == 7 else ",".join(map(str, sorted(set(days)))),
        status=status.value,
        set_by_staff_id=set_by_staff_id,
        alert_id=alert_id,
        stated_utc=stated_utc,
        sentence=sentence,
        created_at=now,
    )
    session.add(curfew)
    session.flush()
    return curfew


def confirm(session: Session, *, curfew_id: int, by_staff_id: int, now: datetime) -> Curfew | None:
    """Make a draft or proposal active.

    None when it was not waiting any more: a double tap, another lead was quicker, or it
    was discarded. The conditional update is what makes that safe.
    """
    result = session.execute(
        update(Curfew)
        .where(
            col(Curfew.id) == curfew_id,
            col(Curfew.status).in_([CurfewStatus.DRAFT.value, CurfewStatus.PROPOSED.value]),
        )
        .values(status=CurfewStatus.ACTIVE.value, confirmed_at=now, set_by_staff_id=by_staff_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    curfew = session.get(Curfew, curfew_id)
    assert curfew is not None
    session.refresh(curfew)
    return curfew


def replaced_by(session: Session, *, curfew: Curfew, now: datetime) -> Curfew | None:
    """End the active curfew for the same place that `curfew` replaces, if there is one.

    A curfew without a break (a weekend's) is an episode on top of the nightly one of its
    place: it replaces only another of its kind, and only another of its kind replaces it.
    Curfews on different days of the week ("weekdays from 10 pm", "weekends from 7 pm")
    stand side by side.
    """
    # Areas match whatever their case, compared here: SQLite's lower() folds ASCII only.
    place = (curfew.area or "").casefold()
    candidates = session.exec(
        select(Curfew)
        .where(
            Curfew.country == curfew.country,
            Curfew.status == CurfewStatus.ACTIVE.value,
            Curfew.id != curfew.id,
        )
        .order_by(col(Curfew.id))
    ).all()
    old = next(
        (
            c
            for c in candidates
            if (c.area or "").casefold() == place
            and c.continuous == curfew.continuous
            and _share_a_day(c.days, curfew.days)
        ),
        None,
    )
    if old is not None:
        old.status = CurfewStatus.ENDED.value
        old.ended_at = now
        session.add(old)
    return old


def days_of(stored: str | None) -> tuple[int, ...] | None:
    """A curfew's days of the week as stored ("5,6"), Mon=0; None for every day."""
    return None if not stored else tuple(int(d) for d in stored.split(","))


def _share_a_day(one: str | None, other: str | None) -> bool:
    a, b = days_of(one), days_of(other)
    return a is None or b is None or bool(set(a) & set(b))


def discard(session: Session, *, curfew_id: int) -> Curfew | None:
    result = session.execute(
        update(Curfew)
        .where(
            col(Curfew.id) == curfew_id,
            col(Curfew.status).in_([CurfewStatus.DRAFT.value, CurfewStatus.PROPOSED.value]),
        )
        .values(status=CurfewStatus.DISCARDED.value)
    )
    return session.get(Curfew, curfew_id) if result.rowcount else None  # type: ignore[attr-defined]


def end(session: Session, *, curfew_id: int, now: datetime) -> Curfew | None:
    result = session.execute(
        update(Curfew)
        .where(col(Curfew.id) == curfew_id, col(Curfew.status) == CurfewStatus.ACTIVE.value)
        .values(status=CurfewStatus.ENDED.value, ended_at=now)
    )
    return session.get(Curfew, curfew_id) if result.rowcount else None  # type: ignore[attr-defined]


def active(session: Session, *, countries: Sequence[str] | None = None) -> Sequence[Curfew]:
    query = select(Curfew).where(Curfew.status == CurfewStatus.ACTIVE.value)
    if countries is not None:
        query = query.where(col(Curfew.country).in_(list(countries)))
    return session.exec(query.order_by(col(Curfew.country), col(Curfew.id))).all()


def subscribers_with_lead_times(
    session: Session, *, countries: Sequence[str], now: datetime
) -> dict[str, dict[int, int | None]]:
    """country -> {staff id: reminder minutes or None}, for each country's audience
    (`db.subscriptions.audience`) at `now`: those Telegram reaches, and those it no longer
    does who gave a mobile number or an e-mail address (their reminder is written
    unreachable, and goes by SMS or e-mail where that is on)."""
    by_country: dict[str, dict[int, int | None]] = {}
    for country in sorted(set(countries)):
        people = subscriptions.subscribers(session, country=country, now=now)
        by_country[country] = {
            p.id: p.curfew_reminder_minutes
            for p in people
            if p.id and (p.reachable or p.mobile or p.email)
        }
        if not by_country[country]:
            del by_country[country]
    return by_country


def set_reminder_minutes(session: Session, *, staff: Staff, minutes: int | None) -> None:
    staff.curfew_reminder_minutes = minutes
    session.add(staff)
