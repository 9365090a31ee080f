"""Who is believed where, one rule at a time: trips under way, shared and live locations,
whom each query is about (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from db import subscriptions
from db import whereabouts as db
from db.engine import session_scope
from db.whereabouts import LOCATION_BELIEVED
from tests.harness import a_location, a_trip, person

NOW = datetime(2022, 1, 5, 18, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_present_joins_each_persons_trip_and_location_in_that_country_alone(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        both, travelling, located = (person(session, n) for n in ("Both", "Trip", "Place"))
        elsewhere_trip, elsewhere_place = person(session, "GE trip"), person(session, "GE place")
        # Two trips under way for one person: the earlier begun is the one shown, whatever
        # order they were written in.
        later = a_trip(session, both, "KZ", starts=NOW - DAY, ends=NOW + DAY)
        earlier = a_trip(session, both, "KZ", starts=NOW - 2 * DAY, ends=NOW + DAY)
        a_location(session, both, "KZ", NOW - timedelta(hours=1))
        alone = a_trip(session, travelling, "KZ", starts=NOW - DAY, ends=NOW + DAY)
        a_location(session, located, "KZ", NOW - timedelta(hours=2))
        a_trip(session, elsewhere_trip, "GE", starts=NOW - DAY, ends=NOW + DAY)
        a_location(session, elsewhere_place, "GE", NOW - timedelta(hours=1))
        found = db.present(session, country="KZ", now=NOW)
        shown = [
            (p.person.display_name, p.trip.id if p.trip else None, p.place is not None)
            for p in found
        ]
    assert later.id != earlier.id
    assert shown == [("Both", earlier.id, True), ("Trip", alone.id, False), ("Place", None, True)]


def test_a_live_location_counts_for_as_long_as_it_is_shared(engine: Engine) -> None:
    old = NOW - LOCATION_BELIEVED - timedelta(hours=1)
    with session_scope(engine) as session:
        live, ended, stale = (person(session, n) for n in ("Live", "Ended now", "Stale"))
        a_location(
            session, live, "KZ", old, live_until=NOW + timedelta(minutes=5), live_message_id=7
        )
        a_location(session, ended, "KZ", old, live_until=NOW, live_message_id=8)
        a_location(session, stale, "KZ", old)
        here = [p.person.display_name for p in db.present(session, country="KZ", now=NOW)]
        assert db.countries_here(session, staff_id=live.id or 0, now=NOW) == ["KZ"]
        assert db.countries_here(session, staff_id=stale.id or 0, now=NOW) == []
    assert here == ["Live"]


def test_the_countries_a_person_is_in_are_their_own_trips_and_places_now(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, kim = person(session, "Sam"), person(session, "Kim")
        a_trip(session, sam, "KZ", starts=NOW - DAY, ends=NOW + DAY)
        a_trip(session, sam, "FR", starts=NOW + DAY, ends=NOW + 2 * DAY)  # not yet
        a_location(session, sam, "KG", NOW - timedelta(hours=3))
        a_trip(session, kim, "GE", starts=NOW - DAY, ends=NOW + DAY)
        a_location(session, kim, "AM", NOW - timedelta(hours=3))
        assert db.countries_here(session, staff_id=sam.id or 0, now=NOW) == ["KG", "KZ"]
        assert db.countries_here(session, staff_id=kim.id or 0, now=NOW) == ["AM", "GE"]


def test_current_trips_are_these_peoples_under_way_the_latest_begun_first(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sam, kim = person(session, "Sam"), person(session, "Kim")
        # Written in another order than they began.
        latest = a_trip(session, sam, "GE", starts=NOW - DAY, ends=NOW + DAY)
        first = a_trip(session, sam, "KZ", starts=NOW - 2 * DAY, ends=NOW + DAY)
        same_start = a_trip(session, sam, "KG", starts=NOW - 2 * DAY, ends=NOW + DAY)
        a_trip(session, sam, "FR", starts=NOW + DAY, ends=NOW + 2 * DAY)  # not yet
        a_trip(
            session, sam, "AM", starts=NOW - 2 * DAY, ends=NOW + DAY, ended=NOW - DAY
        )  # cut short
        a_trip(session, kim, "KZ", starts=NOW - DAY, ends=NOW + DAY)  # someone else's
        found = db.current_trips(session, staff_ids=[sam.id or 0], now=NOW)
        assert [t.id for t in found] == [latest.id, same_start.id, first.id]


def test_trips_starting_in_a_window_include_its_start_and_not_its_end(engine: Engine) -> None:
    start, end = NOW, NOW + DAY
    with session_scope(engine) as session:
        sam = person(session, "Sam")
        # Written latest first: the answer is in the order they begin.
        at_end = a_trip(session, sam, "FR", starts=end, ends=end + DAY)
        middle = a_trip(session, sam, "GE", starts=start + timedelta(hours=6), ends=end + DAY)
        at_start = a_trip(session, sam, "KZ", starts=start, ends=end + DAY)
        a_trip(session, sam, "KG", starts=start - timedelta(hours=1), ends=end)  # began before
        a_trip(
            session, sam, "AM", starts=start + timedelta(hours=1), ends=end, ended=start
        )  # called off
        found = db.starting_between(session, start=start, end=end)
        assert [t.id for t in found] == [at_start.id, middle.id]
        assert at_end.id not in [t.id for t in found]


def test_a_roll_calls_audience_is_its_followers_and_those_there_each_once(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        follower, visitor, both, other = (
            person(session, n) for n in ("Follower", "Visitor", "Both", "Other")
        )
        for who, country in ((follower, "KZ"), (both, "KZ"), (other, "GE"), (visitor, "GE")):
            subscriptions.subscribe(session, staff_id=who.id or 0, country=country)
        a_trip(session, visitor, "KZ", starts=NOW - DAY, ends=NOW + DAY)
        a_location(session, both, "KZ", NOW - timedelta(hours=1))
        a_location(session, other, "GE", NOW - timedelta(hours=1))
        ids = subscriptions.audience_ids(session, country="KZ", now=NOW)
    assert ids == sorted(p.id or 0 for p in (follower, visitor, both))
