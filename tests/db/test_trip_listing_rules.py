"""A person's own list of trips (/trips): only theirs, only those not over, soonest first;
and each trip in /export_me with its days as people wrote them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from db import privacy, whereabouts
from db.engine import session_scope
from tests.harness import a_trip, person

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_a_persons_trips_not_over_are_listed_soonest_first_whatever_order_they_were_added(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        sam = person(session, "Sam")
        later = a_trip(
            session, sam, "GE", starts=NOW + timedelta(days=9), ends=NOW + timedelta(days=10)
        )
        now_on = a_trip(
            session, sam, "KZ", starts=NOW - timedelta(days=2), ends=NOW + timedelta(days=1)
        )
        soon = a_trip(
            session, sam, "AM", starts=NOW + timedelta(days=3), ends=NOW + timedelta(days=5)
        )
        listed = [t.id for t in whereabouts.trips_of(session, staff_id=sam.id or 0, now=NOW)]
    assert listed == [now_on.id, soon.id, later.id]


def test_trips_starting_together_are_listed_in_the_order_they_were_added(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = person(session, "Sam")
        start, end = NOW + timedelta(days=1), NOW + timedelta(days=4)
        first = a_trip(session, sam, "KZ", starts=start, ends=end)
        second = a_trip(session, sam, "KG", starts=start, ends=end + timedelta(days=1))
        listed = [t.id for t in whereabouts.trips_of(session, staff_id=sam.id or 0, now=NOW)]
    assert listed == [first.id, second.id]


def test_trips_over_ended_early_or_of_someone_else_are_not_listed(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, nina = person(session, "Sam"), person(session, "Nina")
        ahead = a_trip(
            session, sam, "KZ", starts=NOW + timedelta(days=1), ends=NOW + timedelta(days=3)
        )
        # Its last day ends a second from now: not over yet.
        ending = a_trip(
            session, sam, "UZ", starts=NOW - timedelta(days=2), ends=NOW + timedelta(seconds=1)
        )
        # Its last day ended exactly now: over.
        a_trip(session, sam, "GE", starts=NOW - timedelta(days=3), ends=NOW)
        a_trip(session, sam, "AM", starts=NOW - timedelta(days=9), ends=NOW - timedelta(days=5))
        a_trip(
            session,
            sam,
            "TJ",
            starts=NOW - timedelta(days=1),
            ends=NOW + timedelta(days=5),
            ended=NOW - timedelta(hours=1),
        )
        ninas = a_trip(session, nina, "KG", starts=NOW, ends=NOW + timedelta(days=2))
        sams = [t.id for t in whereabouts.trips_of(session, staff_id=sam.id or 0, now=NOW)]
        hers = [t.id for t in whereabouts.trips_of(session, staff_id=nina.id or 0, now=NOW)]
    assert sams == [ending.id, ahead.id]
    assert hers == [ninas.id]


def test_an_export_gives_each_trips_first_and_last_day_as_written(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = person(session, "Sam")
        a_trip(
            session,
            sam,
            "KZ",
            starts=datetime(2025, 3, 1, tzinfo=UTC),
            ends=datetime(2025, 3, 21, tzinfo=UTC),
        )
        exported = privacy.export(session, person=sam, now=NOW)
    (trip,) = exported["trips"]
    assert (trip["first_day"], trip["last_day"]) == (
        date(2025, 3, 1).isoformat(),
        date(2025, 3, 20).isoformat(),
    )
