"""Which countries each security lead answers for (`/lead <country>`), and who may see what.

A lead sees, starts and ends roll calls only for the countries they picked; admins see
every country and hear about every country's calls for help and missed roll calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint, delete, or_
from sqlmodel import Field, Session, SQLModel, col, select

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
    """Who answers for a country: the leads who picked it, plus every admin.

    Someone who picked a country and was later demoted to staff is not among them.
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


def may_see(session: Session, *, person: Staff, country: str) -> bool:
    """Admins see every country; leads the countries they picked; staff none."""
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
