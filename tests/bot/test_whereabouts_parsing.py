"""Reading trips as people write them (`bot/whereabouts/parsing.py`): places, dates in
the usual forms, and refusals that say what is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from bot.whereabouts.parsing import parse_trip
from db.refusal import Refusal

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "country", "city", "first", "last"),
    [
        ("Kazakhstan Almaty 3 Jan - 20 Jan", "KZ", "Almaty", date(2027, 1, 3), date(2027, 1, 20)),
        ("KZ 03/01-20/01/2027", "KZ", None, date(2027, 1, 3), date(2027, 1, 20)),
        ("Almaty 2027-01-03 to 2027-01-20", "KZ", "Almaty", date(2027, 1, 3), date(2027, 1, 20)),
        ("Kyrgyzstan Dec 28 - Jan 4", "KG", None, date(2026, 12, 28), date(2027, 1, 4)),
        (
            "KZ 3rd January 2027 until 20th January 2027",
            "KZ",
            None,
            date(2027, 1, 3),
            date(2027, 1, 20),
        ),
        ("Georgia 29.11 – 02.12", "GE", None, date(2026, 11, 29), date(2026, 12, 2)),
        # A date without a year a week past is next year's.
        ("KZ 1 Nov - 5 Nov", "KZ", None, date(2027, 11, 1), date(2027, 11, 5)),
    ],
)
def test_trips_written_the_usual_ways(
    text: str, country: str, city: str | None, first: date, last: date
) -> None:
    trip = parse_trip(text, today=TODAY)
    assert (trip.destination.country.code, trip.destination.city) == (country, city)
    assert (trip.first_day, trip.last_day, trip.traveller) == (first, last, None)


def test_a_lead_names_the_traveller_first() -> None:
    assert parse_trip("@dana KZ 3 Jan - 4 Jan", today=TODAY).traveller == "@dana"
    assert parse_trip("5000000001 KZ 3 Jan - 4 Jan", today=TODAY).traveller == "5000000001"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "Usage: /trip"),
        ("KZ", "I need a first and a last day"),
        ("3 Jan - 4 Jan", "Where to?"),
        ("Narnia 3 Jan - 4 Jan", "I don't know the place “Narnia”"),
        ("Kazakstan 3 Jan - 4 Jan", "Did you mean Kazakhstan (KZ)?"),
        ("KZ 30/02-03/03", "not a date in the calendar"),
        ("KZ 3 Foo - 4 Jan", "I can't read the month in “3 Foo”"),
        ("KZ 20/01/2027-03/01/2027", "ends (03 Jan 2027) before it starts (20 Jan 2027)"),
        ("KZ 01/01/2026-05/01/2026", "only trips not over are recorded"),
        ("KZ 01/01/2027-05/02/2028", "a trip is at most 366"),
        ("Kazakhstan Bishkek 3 Jan - 4 Jan", "One trip goes to one country"),
    ],
)
def test_what_makes_no_trip_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_trip(text, today=TODAY)
    assert why in str(refused.value)
