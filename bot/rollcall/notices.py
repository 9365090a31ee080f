"""What the leads are told about people during a crisis: calls for help, "safe again",
locations passed on, live rolls and deadline reports.

Each goes to the people who answer for the countries concerned (`db.leads`, the one
rule) who can be reached, at the top priority, with the person it is about recorded on
the outbox row so that their data can be exported and erased.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session

from bot.incidents.texts import alert_keyboard
from bot.rollcall.texts import help_alert_text, safe_again_text
from db import checkins as db
from db import deliveries, incidents, leads, subscriptions
from db.models import DeliveryKind, Priority, Staff


def leads_to_tell(
    session: Session, *, countries: Iterable[str], exclude: int | None
) -> list[Staff]:
    """Who answers for these countries (the admins alone for none), without `exclude`,
    and only those Telegram can reach."""
    found = leads.leads_for_countries(session, countries=countries, exclude=exclude)
    return [person for person in found if person.reachable]


def tell(
    session: Session,
    *,
    people: Sequence[Staff],
    parts: list[str],
    kind: DeliveryKind,
    key: str,
    now: datetime,
    about: Staff | None = None,
    round_id: int | None = None,
    call_id: int | None = None,
) -> int:
    """Queue `parts` for `people` at the top priority; how many were told. A call for
    help's alert carries the buttons to own and answer it."""
    deliveries.enqueue(
        session,
        kind=kind,
        dedupe_key=key,
        recipients=deliveries.recipients(people),
        parts=parts,
        priority=Priority.CRITICAL,
        now=now,
        about_staff_id=about.id if about else None,
        round_id=round_id,
        call_id=call_id,
        reply_markup=alert_keyboard(call_id) if call_id is not None else None,
    )
    return len(people)


def alert_help(
    session: Session,
    *,
    person: Staff,
    note: str | None,
    extra_countries: Iterable[str],
    source: str,
    key: str,
    now: datetime,
    round_id: int | None = None,
) -> int:
    """Tell the leads of every country the person follows or is in that they need help;
    how many.

    It opens the person's call for help (or adds to the one open), so that what they
    send next reaches the same leads and one of them can own it."""
    call, _ = incidents.open_call(session, staff_id=person.id or 0, now=now)
    countries = set(subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now))
    countries.update(extra_countries)
    text = help_alert_text(
        person=person,
        note=note,
        location=db.last_location(session, staff_id=person.id or 0),
        countries=countries,
        source=source,
        at=now,
    )
    people = leads_to_tell(session, countries=countries, exclude=person.id)
    return tell(
        session,
        people=people,
        parts=[text],
        kind=DeliveryKind.HELP_ALERT,
        key=key,
        now=now,
        about=person,
        round_id=round_id,
        call_id=call.id,
    )


def tell_safe_again(
    session: Session,
    *,
    person: Staff,
    note: str | None,
    key: str,
    now: datetime,
    round_id: int | None = None,
) -> None:
    countries = subscriptions.countries_concerning(session, staff_id=person.id or 0, now=now)
    text = safe_again_text(person=person, note=note, countries=countries, at=now)
    tell(
        session,
        people=leads_to_tell(session, countries=countries, exclude=person.id),
        parts=[text],
        kind=DeliveryKind.SAFE_AGAIN,
        about=person,
        round_id=round_id,
        key=key,
        now=now,
    )
