"""Who is believed in a country, and the audience of a country's messages, on the real
database (`db/whereabouts.py`, `db/subscriptions.audience`)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.whereabouts.rules import new_trip, trip_span
from db import privacy, staff, subscriptions
from db import whereabouts as db
from db.engine import session_scope
from db.models import Role, Staff, TripSource

_ids = itertools.count(2**34 + 9000)
# 3 January 2022, noon in Almaty (UTC+6 then).
NOON = datetime(2022, 1, 3, 6, 0, tzinfo=UTC)


def _person(session: Session, name: str, *follows: str) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=None,
        role=Role.STAFF,
    )
    for country in follows:
        subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
    return person


def _trip(session: Session, person: Staff, country: str, first: date, last: date) -> None:
    db.record_trips(
        session,
        trips=[
            new_trip(
                traveller=person,
                country=country,
                city=None,
                first=first,
                last=last,
                source=TripSource.COMMAND,
                by=person,
                now=NOON,
            )
        ],
    )


def test_a_trip_counts_from_local_midnight_of_its_first_day_to_the_end_of_its_last() -> None:
    span = trip_span("KZ", "Almaty", date(2022, 1, 3), date(2022, 1, 20))
    # Almaty was UTC+6 in 2022: its 3 January began at 18:00 UTC on the 2nd.
    assert span.zone == "Asia/Almaty"
    assert span.starts_at == datetime(2022, 1, 2, 18, 0, tzinfo=UTC)
    assert span.ends_at == datetime(2022, 1, 20, 18, 0, tzinfo=UTC)
    # Russia without a city: from Kamchatka's first day to Kaliningrad's last.
    russia = trip_span("RU", None, date(2022, 1, 3), date(2022, 1, 4))
    assert russia.zone is None
    assert russia.starts_at == datetime(2022, 1, 2, 12, 0, tzinfo=UTC)
    assert russia.ends_at == datetime(2022, 1, 4, 22, 0, tzinfo=UTC)


def test_the_audience_is_followers_and_those_there_each_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        fay = _person(session, "Fay", "KZ")
        dana = _person(session, "Dana")
        both = _person(session, "Both", "KZ")
        later = _person(session, "Later")
        located = _person(session, "Located")
        stale = _person(session, "Stale")
        _trip(session, dana, "KZ", date(2022, 1, 3), date(2022, 1, 5))
        _trip(session, both, "KZ", date(2022, 1, 3), date(2022, 1, 5))
        _trip(session, later, "KZ", date(2022, 1, 6), date(2022, 1, 9))
        for person, seen in (
            (located, NOON - timedelta(hours=47)),
            (stale, NOON - timedelta(hours=49)),
        ):
            db.record_location(
                session,
                staff_id=person.id or 0,
                latitude=43.24,
                longitude=76.94,
                country="KZ",
                city="Almaty",
                zone="Asia/Almaty",
                now=seen,
            )
    with session_scope(engine) as session:
        who = subscriptions.audience(session, country="KZ", now=NOON)
        assert [p.id for p in who.followers] == [fay.id, both.id]
        assert [p.id for p in who.present] == [dana.id, located.id]
        assert [p.id for p in who.people] == [fay.id, dana.id, both.id, located.id]
        # The day after the last: only the followers, and the later traveller arrived.
        after = datetime(2022, 1, 6, 6, 0, tzinfo=UTC)
        assert [p.id for p in subscriptions.subscribers(session, country="KZ", now=after)] == [
            fay.id,
            both.id,
            later.id,
        ]
        arriving = db.arriving(session, country="KZ", now=NOON, within=timedelta(days=7))
        assert [p.id for p, _ in arriving] == [later.id]
        assert subscriptions.countries_concerning(session, staff_id=dana.id or 0, now=NOON) == [
            "KZ"
        ]


def test_an_ended_trip_stops_at_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        _trip(session, dana, "KZ", date(2022, 1, 3), date(2022, 1, 9))
        (trip,) = db.trips_of(session, staff_id=dana.id or 0, now=NOON)
        assert db.end_trip(session, trip_id=trip.id or 0, staff_id=dana.id or 0, now=NOON)
        assert db.end_trip(session, trip_id=trip.id or 0, staff_id=dana.id or 0, now=NOON) is None
    with session_scope(engine) as session:
        assert subscriptions.subscribers(session, country="KZ", now=NOON) == []


def test_retention_clears_old_places_and_keeps_the_chosen_city(engine: Engine) -> None:
    with session_scope(engine) as session:
        old = _person(session, "Old")
        new = _person(session, "New")
        for person, seen in ((old, NOON - timedelta(days=91)), (new, NOON - timedelta(days=1))):
            db.record_location(
                session,
                staff_id=person.id or 0,
                latitude=42.87,
                longitude=74.59,
                country="KG",
                city="Bishkek",
                zone="Asia/Bishkek",
                now=seen,
            )
        db.choose_place(
            session, staff_id=old.id or 0, city="Almaty", country="KZ", zone="Asia/Almaty"
        )
    with session_scope(engine) as session:
        purged = privacy.purge_expired_details(session, now=NOON, keep=timedelta(days=90))
        assert purged.locations == 1
    with session_scope(engine) as session:
        kept_old = db.place_of(session, staff_id=old.id or 0)
        kept_new = db.place_of(session, staff_id=new.id or 0)
        assert kept_old is not None and kept_old.latitude is None and kept_old.seen_at is None
        assert kept_old.chosen_city == "Almaty"
        assert kept_new is not None and kept_new.city == "Bishkek"
