"""Who answers for a country: the one rule, asked by everything that tells or lets a lead.

The people who answer for a country are the leads who took it with `/lead`, plus every
admin. They, and only they, get its calls for help, roll-call reports, curfew proposals,
unreachable notices and deadline reports, and only they act on it (broadcast, roll
calls, curfews, acknowledgements). Following a country (`/subscribe`) gives a lead its
alerts like anyone else, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint, delete, or_
from sqlmodel import Field, Session, SQLModel, col, select

from db import subscriptions
from db.models import Role, Staff
from db.types import UTCDateTime, utcnow

_LEADING_ROLES = (Role.LEAD.value, Role.ADMIN.value)


class LeadCountry(SQLModel, table=True):
    """A lead answers for a country."""

    __table_args__ = (UniqueConstraint("staff_id", "country"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    country: str = Field(max_length=2, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def lead(session: Session, *, staff_id: int, country: str) -> bool:
    """Answer for a country; False when already answering for it."""
    exists = session.exec(
        select(LeadCountry.id).where(
            LeadCountry.staff_id == staff_id, LeadCountry.country == country
        )
    ).first()
    if exists is not None:
        return False
    session.add(LeadCountry(staff_id=staff_id, country=country))
    session.flush()
    return True


def unlead(session: Session, *, staff_id: int, country: str) -> bool:
    result = session.execute(
        delete(LeadCountry).where(
            col(LeadCountry.staff_id) == staff_id, col(LeadCountry.country) == country
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def countries_led(session: Session, *, staff_id: int) -> list[str]:
    return list(
        session.exec(
            select(LeadCountry.country)
            .where(LeadCountry.staff_id == staff_id)
            .order_by(col(LeadCountry.country))
        ).all()
    )


def leads_for_country(session: Session, *, country: str) -> Sequence[Staff]:
    """Who answers for a country: the leads who took it with /lead, plus every admin.

    Someone who took a country and was later demoted to staff is not among them.
    """
    picked = select(LeadCountry.staff_id).where(LeadCountry.country == country)
    return session.exec(
        select(Staff)
        .where(
            or_(
                col(Staff.role) == Role.ADMIN.value,
                (col(Staff.role) == Role.LEAD.value) & col(Staff.id).in_(picked),
            )
        )
        .order_by(col(Staff.id))
    ).all()


def countries_without_lead(session: Session, *, countries: Iterable[str]) -> set[str]:
    """Those of `countries` no lead answers for (admins answer everywhere, but are not
    the lead a country's staff can turn to first)."""
    return {
        country
        for country in countries
        if not any(Role(p.role) is Role.LEAD for p in leads_for_country(session, country=country))
    }


def leads_for_countries(
    session: Session, *, countries: Iterable[str], exclude: int | None = None
) -> list[Staff]:
    """Who answers for any of `countries` (each once, admins always), but `exclude`."""
    found: dict[int, Staff] = {}
    wanted = set(countries)
    if not wanted:
        admins = session.exec(
            select(Staff).where(Staff.role == Role.ADMIN.value).order_by(col(Staff.id))
        ).all()
        found = {p.id or 0: p for p in admins}
    for country in sorted(wanted):
        for person in leads_for_country(session, country=country):
            found.setdefault(person.id or 0, person)
    found.pop(exclude or 0, None)
    return sorted(found.values(), key=lambda p: p.id or 0)


def leads_of_person(session: Session, *, staff_id: int, now: datetime) -> list[Staff]:
    """Who answers for a person: the leads of each country they follow or are in at `now`
    (`db.subscriptions.countries_concerning`), and every admin; never the person themself."""
    countries = subscriptions.countries_concerning(session, staff_id=staff_id, now=now)
    admins = session.exec(select(Staff).where(Staff.role == Role.ADMIN.value)).all()
    found = {p.id or 0: p for p in admins}
    for person in leads_for_countries(session, countries=countries):
        found.setdefault(person.id or 0, person)
    found.pop(staff_id, None)
    return sorted(found.values(), key=lambda p: p.id or 0)


def answers_for(session: Session, *, person: Staff, country: str) -> bool:
    """May `person` act on `country`: admins everywhere, leads where they took it."""
    return may_see(session, person=person, country=country)


def may_see(session: Session, *, person: Staff, country: str) -> bool:
    """Admins see every country; leads the countries they took; staff none."""
    if person.role == Role.ADMIN.value:
        return True
    if person.role != Role.LEAD.value or person.id is None:
        return False
    return country in countries_led(session, staff_id=person.id)


def visible_countries(session: Session, *, person: Staff) -> list[str] | None:
    """The countries a person may see, or None for "all of them" (admins)."""
    if person.role == Role.ADMIN.value:
        return None
    if person.role not in _LEADING_ROLES or person.id is None:
        return []
    return countries_led(session, staff_id=person.id)
