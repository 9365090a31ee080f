"""Trips and last known places: who is believed to be in a country, and since when.

A person is believed in a country now when a trip of theirs there has begun and not
ended (in the destination's local days), or when the last location they shared, not
older than `LOCATION_BELIEVED`, lies in it. `db.subscriptions.audience` joins them to the
country's followers; nothing else decides who hears about a country.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from db.models import Staff, Trip, Whereabouts

# A shared location says where someone is for this long; a live one for as long as it
# is shared.
LOCATION_BELIEVED = timedelta(hours=48)


def record_trips(session: Session, *, trips: Sequence[Trip]) -> None:
    """Many trips in one go (an import)."""
    session.add_all(trips)
    session.flush()


def same_trip(session: Session, *, staff_id: int, country: str, first: date, last: date) -> bool:
    """Whether this person already has this very trip (an import sent twice)."""
    return (
        session.exec(
            select(Trip.id).where(
                Trip.staff_id == staff_id,
                Trip.country == country,
                Trip.first_day == first,
                Trip.last_day == last,
                col(Trip.ended_at).is_(None),
            )
        ).first()
        is not None
    )


def open_trip_keys(session: Session, *, now: datetime) -> set[tuple[int, str, date, date]]:
    """(staff id, country, first day, last day) of every trip not over: what an import
    must not record again."""
    rows = session.exec(
        select(Trip).where(col(Trip.ended_at).is_(None), col(Trip.ends_at) > now)
    ).all()
    return {(t.staff_id, t.country, t.first_day, t.last_day) for t in rows}


def trips_of(session: Session, *, staff_id: int, now: datetime) -> Sequence[Trip]:
    """A person's trips that are not over, soonest first."""
    return session.exec(
        select(Trip)
        .where(Trip.staff_id == staff_id, col(Trip.ended_at).is_(None), col(Trip.ends_at) > now)
        .order_by(col(Trip.starts_at), col(Trip.id))
    ).all()


def end_trip(session: Session, *, trip_id: int, staff_id: int, now: datetime) -> Trip | None:
    """End a person's trip now; None when it is not theirs or already over."""
    result = session.execute(
        update(Trip)
        .where(
            col(Trip.id) == trip_id,
            col(Trip.staff_id) == staff_id,
            col(Trip.ended_at).is_(None),
            col(Trip.ends_at) > now,
        )
        .values(ended_at=now)
    )
    return session.get(Trip, trip_id) if result.rowcount else None  # type: ignore[attr-defined]


def _on_trip(now: datetime) -> ColumnElement[bool]:
    return and_(col(Trip.starts_at) <= now, col(Trip.ends_at) > now, col(Trip.ended_at).is_(None))


def _located(now: datetime) -> ColumnElement[bool]:
    return and_(
        col(Whereabouts.seen_at).is_not(None),
        or_(
            col(Whereabouts.seen_at) > now - LOCATION_BELIEVED,
            col(Whereabouts.live_until) > now,
        ),
    )


def current_trips(session: Session, *, staff_ids: Sequence[int], now: datetime) -> Sequence[Trip]:
    """The trips under way at `now` of these people, the latest begun first."""
    return session.exec(
        select(Trip)
        .where(col(Trip.staff_id).in_(list(staff_ids)), _on_trip(now))
        .order_by(col(Trip.starts_at).desc(), col(Trip.id).desc())
    ).all()


def places_of(session: Session, *, staff_ids: Sequence[int]) -> Sequence[Whereabouts]:
    return session.exec(
        select(Whereabouts).where(col(Whereabouts.staff_id).in_(list(staff_ids)))
    ).all()


@dataclass(frozen=True)
class Present:
    """A person believed in a country now, and why: a trip, a location, or both."""

    person: Staff
    trip: Trip | None
    place: Whereabouts | None


def present(session: Session, *, country: str, now: datetime) -> list[Present]:
    """Everyone believed in `country` at `now`, by Staff id."""
    travellers = session.exec(
        select(Staff, Trip)
        .join(Trip, col(Trip.staff_id) == Staff.id)
        .where(Trip.country == country, _on_trip(now))
        .order_by(col(Staff.id), col(Trip.starts_at))
    ).all()
    located = session.exec(
        select(Staff, Whereabouts)
        .join(Whereabouts, col(Whereabouts.staff_id) == Staff.id)
        .where(Whereabouts.country == country, _located(now))
    ).all()
    found: dict[int, Present] = {}
    for person, trip in travellers:
        found.setdefault(person.id or 0, Present(person, trip, None))
    for person, place in located:
        before = found.get(person.id or 0)
        found[person.id or 0] = Present(person, before.trip if before else None, place)
    return [found[k] for k in sorted(found)]


def arriving(
    session: Session, *, country: str, now: datetime, within: timedelta
) -> Sequence[tuple[Staff, Trip]]:
    """Trips to `country` that begin after `now` and within `within`, soonest first."""
    rows = session.exec(
        select(Staff, Trip)
        .join(Trip, col(Trip.staff_id) == Staff.id)
        .where(
            Trip.country == country,
            col(Trip.starts_at) > now,
            col(Trip.starts_at) <= now + within,
            col(Trip.ended_at).is_(None),
        )
        .order_by(col(Trip.starts_at), col(Staff.id))
    ).all()
    return [(person, trip) for person, trip in rows]


def starting_between(session: Session, *, start: datetime, end: datetime) -> Sequence[Trip]:
    """Trips whose first day begins in [start, end)."""
    return session.exec(
        select(Trip)
        .where(
            col(Trip.starts_at) >= start, col(Trip.starts_at) < end, col(Trip.ended_at).is_(None)
        )
        .order_by(col(Trip.starts_at), col(Trip.id))
    ).all()


def countries_with_people(session: Session, *, now: datetime) -> list[str]:
    """Every country someone is believed in at `now`."""
    trips = session.exec(select(Trip.country).where(_on_trip(now)).distinct()).all()
    places = session.exec(select(Whereabouts.country).where(_located(now)).distinct()).all()
    return sorted({c for c in [*trips, *places] if c})


def countries_here(session: Session, *, staff_id: int, now: datetime) -> list[str]:
    """The countries a person is believed in now (trips, a recent location)."""
    trips = session.exec(select(Trip.country).where(Trip.staff_id == staff_id, _on_trip(now))).all()
    places = session.exec(
        select(Whereabouts.country).where(Whereabouts.staff_id == staff_id, _located(now))
    ).all()
    return sorted({c for c in [*trips, *places] if c})


def place_of(session: Session, *, staff_id: int) -> Whereabouts | None:
    return session.exec(select(Whereabouts).where(Whereabouts.staff_id == staff_id)).first()


def _row(session: Session, staff_id: int) -> Whereabouts:
    row = place_of(session, staff_id=staff_id)
    if row is None:
        row = Whereabouts(staff_id=staff_id)
        session.add(row)
    return row


def record_location(
    session: Session,
    *,
    staff_id: int,
    latitude: float,
    longitude: float,
    country: str | None,
    city: str | None,
    zone: str | None,
    now: datetime,
    live_until: datetime | None = None,
    live_message_id: int | None = None,
) -> Whereabouts:
    row = _row(session, staff_id)
    row.latitude, row.longitude = latitude, longitude
    row.country, row.city, row.zone = country, city, zone
    row.seen_at = now
    if live_message_id is not None:
        row.live_until, row.live_message_id = live_until, live_message_id
    session.add(row)
    session.flush()
    return row


def live_message(session: Session, *, staff_id: int, message_id: int, now: datetime) -> bool:
    """Whether `message_id` is the live location this person shares now."""
    row = place_of(session, staff_id=staff_id)
    return (
        row is not None
        and row.live_message_id == message_id
        and row.live_until is not None
        and row.live_until > now
    )


def choose_place(
    session: Session, *, staff_id: int, city: str | None, country: str | None, zone: str | None
) -> None:
    row = _row(session, staff_id)
    row.chosen_city, row.chosen_country, row.chosen_zone = city, country, zone
    session.add(row)


def forget_old_locations(session: Session, *, before: datetime) -> int:
    """Clear the shared locations older than `before` (the place chosen stays); how many."""
    result = session.execute(
        update(Whereabouts)
        .where(col(Whereabouts.seen_at) < before)
        .values(
            latitude=None,
            longitude=None,
            country=None,
            city=None,
            zone=None,
            seen_at=None,
            live_until=None,
            live_message_id=None,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
