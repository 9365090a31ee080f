"""The exact edges of who is believed where, who an import or `/trip_end` touches, who is
arriving, what retention clears, and which rounds' live rolls a person's answer updates
(`db/whereabouts.py`, `db/checkins.live_rounds_of`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import checkins
from db import whereabouts as db
from db.engine import session_scope
from db.models import Staff, Trip
from tests.harness import a_location, a_round
from tests.harness import person as _person

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _trip(
    session: Session,
    person: Staff,
    country: str,
    starts: datetime,
    ends: datetime,
    *,
    first: date = date(2024, 3, 1),
    last: date = date(2024, 3, 9),
    ended_at: datetime | None = None,
) -> Trip:
    trip = Trip(
        staff_id=person.id or 0,
        country=country,
        first_day=first,
        last_day=last,
        starts_at=starts,
        ends_at=ends,
        ended_at=ended_at,
        created_at=NOW - timedelta(days=30),
    )
    db.record_trips(session, trips=[trip])
    return trip


# -- present: the instants a trip and a location begin and stop counting -----------------
def test_a_trip_counts_from_its_first_instant_to_just_before_its_end(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        _trip(session, dana, "KZ", NOW, NOW + timedelta(days=2))
    with session_scope(engine) as session:

        def there(at: datetime) -> list[int | None]:
            return [p.person.id for p in db.present(session, country="KZ", now=at)]

        assert there(NOW - SECOND) == []
        assert there(NOW) == [dana.id]
        assert there(NOW + timedelta(days=2) - SECOND) == [dana.id]
        assert there(NOW + timedelta(days=2)) == []


def test_a_shared_location_counts_for_just_under_48_hours(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena")
        a_location(session, lena, "UZ", NOW)
    with session_scope(engine) as session:

        def there(at: datetime) -> list[int | None]:
            return [p.person.id for p in db.present(session, country="UZ", now=at)]

        assert there(NOW) == [lena.id]
        assert there(NOW + timedelta(hours=48) - SECOND) == [lena.id]
        assert there(NOW + timedelta(hours=48)) == []


# -- imports and /trip_end --------------------------------------------------------------
def test_an_import_sent_twice_matches_only_the_very_same_open_trip(engine: Engine) -> None:
    first, last = date(2024, 3, 5), date(2024, 3, 8)
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        omar = _person(session, "Omar")
        _trip(session, dana, "KZ", NOW, NOW + timedelta(days=4), first=first, last=last)
        ended = _trip(
            session,
            omar,
            "KZ",
            NOW,
            NOW + timedelta(days=4),
            first=first,
            last=last,
            ended_at=NOW,
        )
        assert ended.ended_at == NOW
    with session_scope(engine) as session:

        def same(person: Staff, country: str, a: date, b: date) -> bool:
            return db.same_trip(session, staff_id=person.id or 0, country=country, first=a, last=b)

        assert same(dana, "KZ", first, last) is True
        # Anyone else's trip, another country, another first or last day: not the same.
        assert same(_person(session, "Fay"), "KZ", first, last) is False
        assert same(dana, "UZ", first, last) is False
        assert same(dana, "KZ", date(2024, 3, 6), last) is False
        assert same(dana, "KZ", first, date(2024, 3, 9)) is False
        # Omar ended his: the same trip sent again is a new one.
        assert same(omar, "KZ", first, last) is False


def test_an_import_skips_only_trips_that_are_not_over(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        days = [(date(2024, 3, d), date(2024, 3, d + 1)) for d in (1, 3, 5, 7)]
        ongoing, ended, past, ends_now = days
        _trip(session, dana, "KZ", NOW - SECOND, NOW + SECOND, first=ongoing[0], last=ongoing[1])
        _trip(
            session,
            dana,
            "KZ",
            NOW - SECOND,
            NOW + SECOND,
            first=ended[0],
            last=ended[1],
            ended_at=NOW - SECOND,
        )
        _trip(session, dana, "KZ", NOW - SECOND * 9, NOW - SECOND, first=past[0], last=past[1])
        _trip(session, dana, "KZ", NOW - SECOND * 9, NOW, first=ends_now[0], last=ends_now[1])
    with session_scope(engine) as session:
        assert db.open_trip_keys(session, now=NOW) == {(dana.id or 0, "KZ", ongoing[0], ongoing[1])}


def test_ending_a_trip_ends_that_one_only_while_it_is_not_over(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        omar = _person(session, "Omar")
        mine = _trip(session, dana, "KZ", NOW - SECOND, NOW + timedelta(days=3))
        other = _trip(session, dana, "UZ", NOW - SECOND, NOW + timedelta(days=3))
        over = _trip(session, dana, "TJ", NOW - timedelta(days=3), NOW - SECOND)
        ends_now = _trip(session, dana, "KG", NOW - timedelta(days=3), NOW)
        omars = _trip(session, omar, "KZ", NOW - SECOND, NOW + timedelta(days=3))
        ids = [t.id or 0 for t in (mine, other, over, ends_now, omars)]
    with session_scope(engine) as session:

        def end(trip_id: int, person: Staff) -> Trip | None:
            return db.end_trip(session, trip_id=trip_id, staff_id=person.id or 0, now=NOW)

        done = end(ids[0], dana)
        assert done is not None
        assert (done.id, done.ended_at) == (ids[0], NOW)
        assert end(ids[2], dana) is None  # ended by its own last day
        assert end(ids[3], dana) is None  # its end is this very instant
        assert end(ids[4], dana) is None  # Omar's
    with session_scope(engine) as session:
        ended = {t.id: t.ended_at for t in (session.get(Trip, i) for i in ids) if t is not None}
        assert ended == {ids[0]: NOW, ids[1]: None, ids[2]: None, ids[3]: None, ids[4]: None}


# -- arriving ---------------------------------------------------------------------------
def test_arriving_is_after_now_up_to_the_window_soonest_then_by_person(engine: Engine) -> None:
    within = timedelta(days=1)
    with session_scope(engine) as session:
        late = _person(session, "Late")  # the lowest id, arriving last but one
        c = _person(session, "C")
        d = _person(session, "D")
        soon = _person(session, "Soon")
        edge = _person(session, "Edge")
        others = [_person(session, name) for name in ("Now", "Beyond", "Ended", "Elsewhere")]
        now_, beyond, ended, elsewhere = others

        def trip(
            person: Staff, starts: datetime, country: str = "KZ", ended_at: datetime | None = None
        ) -> None:
            ends = starts + timedelta(days=5)
            _trip(session, person, country, starts, ends, ended_at=ended_at)

        trip(late, NOW + timedelta(hours=3))
        # D's trip is recorded before C's, for the same instant: C (the lower id) first.
        trip(d, NOW + timedelta(hours=2))
        trip(c, NOW + timedelta(hours=2))
        trip(soon, NOW + SECOND)
        trip(edge, NOW + within)
        trip(now_, NOW)
        trip(beyond, NOW + within + SECOND)
        trip(ended, NOW + timedelta(hours=1), ended_at=NOW - SECOND)
        trip(elsewhere, NOW + timedelta(hours=1), country="UZ")
    with session_scope(engine) as session:
        found = db.arriving(session, country="KZ", now=NOW, within=within)
        assert [(p.id, t.starts_at) for p, t in found] == [
            (soon.id, NOW + SECOND),
            (c.id, NOW + timedelta(hours=2)),
            (d.id, NOW + timedelta(hours=2)),
            (late.id, NOW + timedelta(hours=3)),
            (edge.id, NOW + within),
        ]


# -- countries with people --------------------------------------------------------------
def test_countries_with_people_come_from_trips_and_from_locations(engine: Engine) -> None:
    with session_scope(engine) as session:
        _trip(session, _person(session, "Dana"), "KZ", NOW - SECOND, NOW + SECOND)
        a_location(session, _person(session, "Lena"), "UZ", NOW - timedelta(hours=1))
    with session_scope(engine) as session:
        assert db.countries_with_people(session, now=NOW) == ["KZ", "UZ"]


# -- live locations ---------------------------------------------------------------------
def test_a_live_location_is_shared_until_just_before_its_end(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena")
        a_location(
            session, lena, "UZ", NOW, live_until=NOW + timedelta(hours=1), live_message_id=77
        )
    with session_scope(engine) as session:

        def live(message_id: int, at: datetime) -> bool:
            return db.live_message(session, staff_id=lena.id or 0, message_id=message_id, now=at)

        assert live(77, NOW + timedelta(hours=1) - SECOND) is True
        assert live(77, NOW + timedelta(hours=1)) is False
        assert live(78, NOW) is False


# -- retention --------------------------------------------------------------------------
def test_retention_clears_every_trace_of_a_location_older_than_the_cutoff(engine: Engine) -> None:
    cutoff = NOW - timedelta(days=90)
    with session_scope(engine) as session:
        old = _person(session, "Old")
        edge = _person(session, "Edge")
        a_location(session, old, "UZ", cutoff - SECOND, live_until=cutoff, live_message_id=5)
        a_location(session, edge, "UZ", cutoff, live_until=cutoff + SECOND, live_message_id=6)
        db.choose_place(
            session, staff_id=old.id or 0, city="Almaty", country="KZ", zone="Asia/Almaty"
        )
    with session_scope(engine) as session:
        assert db.forget_old_locations(session, before=cutoff) == 1
    with session_scope(engine) as session:

        def row(person: Staff) -> tuple[object, ...]:
            place = db.place_of(session, staff_id=person.id or 0)
            assert place is not None
            return (
                place.latitude,
                place.longitude,
                place.country,
                place.city,
                place.zone,
                place.seen_at,
                place.live_until,
                place.live_message_id,
                place.chosen_city,
                place.chosen_country,
                place.chosen_zone,
            )

        assert row(old) == (None,) * 8 + ("Almaty", "KZ", "Asia/Almaty")
        # Seen at the cutoff itself: kept.
        assert row(edge) == (
            41.31,
            69.28,
            "UZ",
            "Tashkent",
            "Asia/Tashkent",
            cutoff,
            cutoff + SECOND,
            6,
            None,
            None,
            None,
        )


# -- live rolls a person's answer updates -----------------------------------------------
def test_a_persons_live_rounds_are_those_they_were_asked_in_still_kept(engine: Engine) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana")
        omar = _person(session, "Omar")
        rounds = [
            a_round(session, country, now=NOW).id or 0 for country in ("KZ", "UZ", "TJ", "KG")
        ]
        one, two, three, four = rounds
        # Asked in the later round first.
        checkins.add_members(session, round_id=three, staff_ids=[dana.id or 0])
        checkins.add_members(session, round_id=one, staff_ids=[dana.id or 0, omar.id or 0])
        checkins.add_members(session, round_id=two, staff_ids=[dana.id or 0])
        checkins.add_members(session, round_id=four, staff_ids=[omar.id or 0])
        checkins.close_report(session, round_id=two)
    with session_scope(engine) as session:
        assert checkins.live_rounds_of(session, staff_id=dana.id or 0) == [one, three]
        assert checkins.live_rounds_of(session, staff_id=omar.id or 0) == [one, four]
