"""The people every benchmark and drill seeds: a lead, and numbered staff who may follow a
country, with Telegram ids well away from the tests' own."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from db import leads, staff, subscriptions
from db.models import Role, Staff

LEAD_ID = 4_000_000_000
FIRST_STAFF_ID = 6_000_000_000


def enrol_lead(session: Session, *, countries: Sequence[str] = ("KZ",)) -> Staff:
    """Lena, a security lead answering for `countries`."""
    lead = staff.enrol(
        session,
        telegram_user_id=LEAD_ID,
        chat_id=LEAD_ID,
        display_name="Lena Lead",
        username="lena",
        role=Role.LEAD,
    )
    for country in countries:
        leads.lead(session, staff_id=lead.id or 0, country=country)
    return lead


def enrol_staff(
    session: Session,
    count: int,
    *,
    country: str | None = "KZ",
    name: str = "Staff",
    usernames: bool = False,
) -> list[Staff]:
    """`count` staff ("Staff 0", "Staff 1", ...), following `country` unless it is None."""
    people = []
    for n in range(count):
        person = staff.enrol(
            session,
            telegram_user_id=FIRST_STAFF_ID + n,
            chat_id=FIRST_STAFF_ID + n,
            display_name=f"{name} {n}",
            username=f"staff{n}" if usernames else None,
            role=Role.STAFF,
        )
        if country is not None:
            subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
        people.append(person)
    return people
