"""The curfew reader's days of the week and one-night windows, each rule on its own.

The corpus (test_curfew_corpus.py) asks for most alerts to be read right; these pin the
rules underneath, so that a change to one of them cannot hide among the rest.
"""

from __future__ import annotations

from datetime import date

import pytest

from schedules.curfew_text import find_curfews
from schedules.curfew_text.dates import days_in, one_night_end

WEEKDAYS = (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Curfew on weekdays", [(10, WEEKDAYS)]),
        ("Curfew on weekends", [(7, (5, 6))]),
        ("le week-end", [(0, (5, 6))]),
        # A range across the weekend wraps round it.
        ("from Friday to Monday", [(5, (0, 4, 5, 6))]),
        ("du lundi au vendredi", [(3, WEEKDAYS)]),
        ("de miércoles a viernes", [(3, (2, 3, 4))]),
        # The days a range names are not days of their own as well.
        ("Mondays to Fridays", [(0, WEEKDAYS)]),
        ("Mon-Fri and Saturdays", [(0, WEEKDAYS), (12, (5,))]),
        # A plural, or "every", makes a day a day of the week, in any case, with the
        # full stop that ends a sentence or an abbreviation.
        ("FRIDAYS", [(0, (4,))]),
        ("Curfew applies on Fridays.", [(18, (4,))]),
        ("every Tue.", [(0, (1,))]),
        ("Sat. and Sun.", [(0, (5, 6))]),
        ("Saturday and Sunday", [(0, (5, 6))]),
        # One day on its own is a date, not every week; "Tues" and "Thurs" are not plurals.
        ("on Friday", []),
        ("on Thurs", []),
        ("on Tues.", []),
        ("on Sunday, November 20", []),
    ],
)
def test_days_of_the_week(text: str, found: list[tuple[int, tuple[int, ...]]]) -> None:
    assert days_in(text) == found


THURSDAY = date(2022, 1, 6)


def _window(text: str, first: str, last: str) -> tuple[int, int]:
    """Where a window runs in `text`: from its first clock time to the end of its last."""
    start = text.index(first)
    return start, text.index(last, start + len(first)) + len(last)


@pytest.mark.parametrize(
    ("text", "first", "last", "ends"),
    [
        # A date after the window.
        ("from 02:00-23:59 local time on 5 April", "02:00", "23:59", date(2022, 4, 5)),
        ("de 21h à 05h le 8 janvier", "21h", "05h", date(2022, 1, 8)),
        # A weekday at each end: the last one, on or after the reference day.
        ("de mardi 18h à mercredi 06h", "18h", "06h", date(2022, 1, 12)),
        ("DE MARDI 18H À MERCREDI 06H", "18H", "06H", date(2022, 1, 12)),
        ("Tuesday 18:00 to Wednesday 06:00", "18:00", "06:00", date(2022, 1, 12)),
        (
            "from 22:00 this Saturday until 7:00 a.m. on Sunday",
            "22:00",
            "7:00 a.m.",
            date(2022, 1, 9),
        ),
        ("from 22:00 on Thursday to 06:00 on Friday", "22:00", "06:00", date(2022, 1, 7)),
        ("from 22:00 on Wednesday to 06:00 on Thursday", "22:00", "06:00", THURSDAY),
        # Every night: no last date.
        ("from 23:00 to 07:00", "23:00", "07:00", None),
        ("from 23:00 to 07:00 on Friday", "23:00", "07:00", None),
    ],
)
def test_a_window_for_one_night_ends_on_its_last_day(
    text: str, first: str, last: str, ends: date | None
) -> None:
    start, end = _window(text, first, last)
    assert one_night_end(text, start, end, THURSDAY) == ends


# Tuesday 1 December 2026: the Friday after is the 4th, the Monday the 7th.
TUESDAY = date(2026, 12, 1)
FRIDAY_TO_MONDAY = (date(2026, 12, 4), date(2026, 12, 7))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("A curfew from 6 pm on Friday until 6 am on Monday.", FRIDAY_TO_MONDAY),
        ("A weekend curfew from 8 pm Friday to 5 am Monday.", FRIDAY_TO_MONDAY),
        ("A curfew from 18:00 on 4 December to 06:00 on 7 December.", FRIDAY_TO_MONDAY),
        # "p.m. Friday" does not end a sentence.
        (
            "A curfew from 6 p.m. Friday, 4 December, until 6 a.m. Monday, 7 December.",
            FRIDAY_TO_MONDAY,
        ),
        ("Couvre-feu de vendredi 18h à lundi 6h.", FRIDAY_TO_MONDAY),
        ("A curfew from 6 pm today until 6 am on Thursday.", (TUESDAY, date(2026, 12, 3))),
        # Not across midnight, and still longer than a day.
        (
            "A curfew from 8 am on Saturday to 8 pm on Sunday.",
            (date(2026, 12, 5), date(2026, 12, 6)),
        ),
        (
            "The curfew reimposed at 8 pm on the 24th of April will continue until 5 am on "
            "the 27th of April.",
            (date(2027, 4, 24), date(2027, 4, 27)),
        ),
        # One night, a nightly curfew, or no day at one end: not one unbroken curfew.
        ("A curfew from 10 pm Friday to 5 am Saturday.", None),
        ("Couvre-feu de mardi 18h à mercredi 06h.", None),
        ("A nightly curfew from 8 pm Friday to 5 am Monday.", None),
        ("A curfew from 7 pm to 5 am is in place until 7 December.", None),
        ("A curfew from 6 pm on Friday until 6 am.", None),
    ],
)
def test_a_curfew_that_does_not_lift_between_its_two_days(
    text: str, span: tuple[date, date] | None
) -> None:
    (found,) = find_curfews(text, reference=TUESDAY)
    if span is None:
        assert found.from_day is None
    else:
        assert (found.from_day, found.until) == span
        assert found.days is None
