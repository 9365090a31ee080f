"""The curfew reader at the edges of its rules: years beside clock times, day-month-year
dates, French month names, weekday windows written with "h" and "pm", the post that
writes an alert, places in capitals, and section headings in FCDO change descriptions.

Each test names one rule a reader of the alert would check by eye.
"""

from __future__ import annotations

from datetime import date

import pytest

from schedules.curfew_text import clock
from schedules.curfew_text.dates import days_in, end_dates, one_night_end, read_date
from schedules.curfew_text.places import places_in
from schedules.sources.classify import mentions_security

THURSDAY = date(2022, 1, 6)


def _times(text: str) -> list[tuple[str, str]]:
    """Each clock time in `text` as the words it spans and its value, "HH:MM"."""
    return [
        (text[token.start : token.end], token.value.strftime("%H:%M"))
        for token in clock.clock_tokens(text)
    ]


def _window(text: str, first: str, last: str) -> tuple[int, int]:
    """Where a window runs in `text`: from its first clock time to the end of its last."""
    start = text.index(first)
    return start, text.index(last, start + len(first)) + len(last)


# Clock times and years


@pytest.mark.parametrize(
    "text",
    [
        "Curfew lifted on 19 January 2022.",
        "The curfew announced on January 5, 2022 has been lifted.",
        # A year at the very start of the text is a year too.
        "January 2022 protests led to a nationwide curfew.",
    ],
)
def test_a_year_after_a_month_is_not_a_clock_time(text: str) -> None:
    assert _times(text) == []


def test_a_four_digit_time_with_an_h_after_a_date_is_a_time() -> None:
    text = "Curfew from 31 December 2200h to 1 January 0600h; shops stay closed."
    assert _times(text) == [("2200h", "22:00"), ("0600h", "06:00")]


def test_times_after_a_dated_year_are_still_read() -> None:
    text = "From 19 January 2022 the curfew runs from 23:00 to 05:00 in Almaty."
    assert _times(text) == [("23:00", "23:00"), ("05:00", "05:00")]


def test_times_after_a_number_that_is_no_time_are_still_read() -> None:
    # The city code of a telephone number looks like a four-digit time but is none.
    text = "Call the Embassy on +7 7172 70-21-00; the curfew runs from 23:00 to 06:00."
    assert _times(text) == [("23:00", "23:00"), ("06:00", "06:00")]


# End dates


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("The curfew is extended until 19/01/22.", date(2022, 1, 19)),
        ("The curfew is extended until 19.01.22.", date(2022, 1, 19)),
        ("The curfew is extended until 19/01/2023.", date(2023, 1, 19)),
    ],
)
def test_a_two_digit_year_is_in_this_century(text: str, ends: date) -> None:
    assert [found for _, _, found in end_dates(text, THURSDAY)] == [ends]


def test_a_date_read_on_its_own_with_a_two_digit_year() -> None:
    assert read_date("19/01/22", THURSDAY) == date(2022, 1, 19)
    assert read_date("05/03/27", THURSDAY) == date(2027, 3, 5)


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("Le couvre-feu est prolongé jusqu'au 14 juillet.", date(2022, 7, 14)),
        ("Le couvre-feu est prolongé jusqu'au 30 juin.", date(2022, 6, 30)),
    ],
)
def test_french_months_that_share_their_first_letters(text: str, ends: date) -> None:
    # "juillet" and "juin" both begin "jui"; July is not June.
    assert [found for _, _, found in end_dates(text, THURSDAY)] == [ends]


# Days of the week


def test_a_day_written_straight_after_a_range_is_a_day_of_its_own() -> None:
    # No space after the full stop of "Fri.": Sundays are still a day of the curfew.
    text = "Curfew Mon.-Fri.Sundays from 14:00"
    assert days_in(text) == [(7, (0, 1, 2, 3, 4)), (16, (6,))]


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("de 22h00 ce samedi à 7h00 dimanche", "22h00", "7h00"),
        ("from 10 pm this Saturday until 7 am on Sunday", "10 pm", "7 am"),
        ("from 10 p.m. this Saturday until 7 a.m. on Sunday", "10 p.m.", "7 a.m."),
    ],
)
def test_a_window_from_one_named_day_to_the_next_ends_on_the_second(
    text: str, first: str, last: str
) -> None:
    start, end = _window(text, first, last)
    assert one_night_end(text, start, end, THURSDAY) == date(2022, 1, 9)


# Places


def test_a_place_in_capitals_is_found_whole() -> None:
    text = "SECURITY ALERT: CURFEW IN SFAX AND GABES"
    found = places_in(text, "TN")
    assert [m.text for m in found] == ["SFAX", "GABES"]
    assert {m.place.zone for m in found} == {"Africa/Tunis"}


def test_a_place_spans_exactly_the_words_that_name_it() -> None:
    text = "A curfew is in place in Almaty and Nur-Sultan."
    found = places_in(text, "KZ")
    assert [(m.start, m.end, m.text) for m in found] == [
        (24, 30, "Almaty"),
        (35, 45, "Nur-Sultan"),
    ]
    assert all(text[m.start : m.end] == m.text for m in found)


def test_places_next_to_each_other_in_a_title_are_all_found() -> None:
    text = "Curfew In Almaty And Shymkent"
    assert [m.text for m in places_in(text, "KZ")] == ["Almaty", "Shymkent"]


@pytest.mark.parametrize(
    "text",
    [
        "Embassy Nur-Sultan, Kazakhstan: a curfew is in place in Almaty.",
        "The U.S. Embassy in Nur-Sultan reports a curfew in Almaty.",
    ],
)
def test_the_post_that_writes_the_alert_is_not_a_place_it_is_about(text: str) -> None:
    assert [m.text for m in places_in(text, "KZ")] == ["Almaty"]


# Security in FCDO change descriptions


def test_a_section_heading_does_not_hide_the_news_after_it() -> None:
    text = "Safety and security section updated – demonstrations are expected in Nairobi."
    assert mentions_security(text)


def test_animal_attacks_denied_with_other_attacks_are_no_security_news() -> None:
    text = "There have been no reported shark attacks or any other attacks on swimmers this season."
    assert not mentions_security(text)
