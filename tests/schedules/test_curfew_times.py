"""Tests for schedules.curfew_times: parsing windows and placing them in UTC day by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.curfew_times import (
    Window,
    days_text,
    format_duration,
    format_unbroken,
    format_window,
    is_in_force,
    next_change,
    occurrence,
    occurrences_between,
    parse_clock,
    parse_window,
    unbroken,
)
from tests.strategies import NoOffset

NIGHT = Window(start=time(23, 0), end=time(7, 0))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- parse_window -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "23:00-07:00",
        "2300-0700",
        "23.00-07.00",
        "11pm-7am",
        "11pm to 7am",
        "11 p.m. - 7 a.m.",
        "23:00 to 07:00",
        "23:00–07:00",
        "23:00 — 07:00",
        "11 PM to 7 AM",
        "11 p.m. until 7 a.m.",
        "from 2300 hrs to 0700 hrs",
        "between 23:00 and 07:00",
        "23h00-07h00",
        "  23:00 - 07:00 local time ",
    ],
)
def test_parse_window_accepts(text: str) -> None:
    assert parse_window(text) == NIGHT


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("11:30pm-6am", Window(time(23, 30), time(6, 0))),
        ("midnight to 5am", Window(time(0, 0), time(5, 0))),
        ("12am-5am", Window(time(0, 0), time(5, 0))),
        ("12 noon - 1pm", Window(time(12, 0), time(13, 0))),
        ("20:00-24:00", Window(time(20, 0), time(0, 0))),
        ("9:30-17:00", Window(time(9, 30), time(17, 0))),
    ],
)
def test_parse_window_other_forms(text: str, window: Window) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no curfew window given"),
        ("   ", "no curfew window given"),
        ("25:00-07:00", r"hour out of range in '25:00': hours run 00-23"),
        ("23:00-2500", r"hour out of range in '2500'"),
        ("23:60-07:00", r"minutes out of range in '23:60'"),
        ("13pm-7am", r"hour out of range in '13pm': 12-hour times run 1-12"),
        ("23:00-23:00", "start and end are both 23:00"),
        ("11pm-2300", "start and end are both 23:00"),
        ("curfew tonight", "could not read a curfew window from 'curfew tonight'"),
        ("23:00", "could not read a curfew window"),
        ("23-07", "could not read a curfew window"),
        ("23:00-07:00 and more", "could not read a curfew window"),
        ("x" * 200, "too long"),
    ],
)
def test_parse_window_rejects_with_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


# The exact refusals a lead sees when typing a window.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no curfew window given: expected something like '23:00-07:00'"),
        ("x" * 101, "curfew window too long: expected something like '23:00-07:00'"),
        (
            "curfew from eleven at night until seven in the morning, every day",
            "could not read a curfew window from 'curfew from eleven at night until seven ': "
            "expected something like '23:00-07:00' or '11pm to 7am'",
        ),
        (
            "2300-2300 local time",
            "start and end are both 23:00: a curfew window needs different start and end times",
        ),
        ("23:00-07:60", "minutes out of range in '07:60': minutes run 00-59"),
        ("0pm-7am", "hour out of range in '0pm': 12-hour times run 1-12"),
        ("24:30-07:00", "hour out of range in '24:30': hours run 00-23"),
    ],
)
def test_parse_window_refusal_is_shown_word_for_word(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_window(text)
    assert str(raised.value) == message


def test_a_window_text_is_too_long_only_past_one_hundred_characters() -> None:
    # Whitespace runs count as one space; 100 characters get a reading, 101 do not.
    hundred = "curfew   " + "x" * 93
    with pytest.raises(ValueError) as raised:
        parse_window(hundred)
    assert str(raised.value) == (
        "could not read a curfew window from 'curfew xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': "
        "expected something like '23:00-07:00' or '11pm to 7am'"
    )
    with pytest.raises(ValueError) as raised:
        parse_window(hundred + "x")
    assert str(raised.value) == "curfew window too long: expected something like '23:00-07:00'"


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("7", time(7, 0)),
        ("0700", time(7, 0)),
        ("1230", time(12, 30)),
        ("2359", time(23, 59)),
        ("23:59", time(23, 59)),
        ("24:00", time(0, 0)),
        ("2400", time(0, 0)),
        ("00:00", time(0, 0)),
        ("12am", time(0, 0)),
        ("12:30am", time(0, 30)),
        ("12pm", time(12, 0)),
        ("12:30 p.m.", time(12, 30)),
        ("1pm", time(13, 0)),
        ("11PM", time(23, 0)),
        ("7 A.M.", time(7, 0)),
        ("11:59 pm", time(23, 59)),
        ("Noon", time(12, 0)),
        ("MIDDAY", time(12, 0)),
        ("12 noon", time(12, 0)),
        ("Midnight", time(0, 0)),
        ("12 midnight", time(0, 0)),
        ("  21h30 ", time(21, 30)),
    ],
)
def test_parse_clock_reads_advisory_times(text: str, clock: time) -> None:
    assert parse_clock(text) == clock


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dusk", "not a clock time: 'dusk'"),
        ("x" * 50, f"not a clock time: '{'x' * 40}'"),
        ("23:60", "minutes out of range in '23:60': minutes run 00-59"),
        ("2360", "minutes out of range in '2360': minutes run 00-59"),
        (
            "23:60 hours, until the emergency decree is lifted",
            "minutes out of range in '23:60 hours, until the emergency decree ': minutes run 00-59",
        ),
        ("13pm", "hour out of range in '13pm': 12-hour times run 1-12"),
        ("0am", "hour out of range in '0am': 12-hour times run 1-12"),
        ("24:01", "hour out of range in '24:01': hours run 00-23"),
        ("2430", "hour out of range in '2430': hours run 00-23"),
        ("25:00", "hour out of range in '25:00': hours run 00-23"),
        (
            "99:00 local time, every night until the state of emergency ends",
            "hour out of range in '99:00 local time, every night until the ': hours run 00-23",
        ),
        (
            "13 p.m. local time, every night until the state of emergency ends",
            "hour out of range in '13 p.m. local time, every night until th': "
            "12-hour times run 1-12",
        ),
    ],
)
def test_parse_clock_refusal_is_exact(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_clock(text)
    assert str(raised.value) == message


_PIECES = st.sampled_from(
    ["23", ":", "00", "-", " to ", "pm", "a.m.", "2300", "hrs", ".", " ", "–", "noon", "24"]
)


@given(st.one_of(st.text(), st.lists(_PIECES, max_size=12).map("".join)))
def test_parse_window_raises_only_value_error(text: str) -> None:
    try:
        window = parse_window(text)
    except ValueError:
        return
    assert window.start != window.end


def test_window_refuses_equal_times_and_tzinfo() -> None:
    with pytest.raises(ValueError) as raised:
        Window(time(5, 30), time(5, 30))
    assert str(raised.value) == (
        "start and end are both 05:30: a curfew window needs different start and end times"
    )
    for start, end in [
        (time(23, 0, tzinfo=UTC), time(7, 0)),
        (time(23, 0), time(7, 0, tzinfo=UTC)),
        (time(23, 0, tzinfo=UTC), time(7, 0, tzinfo=UTC)),
    ]:
        with pytest.raises(ValueError) as raised:
            Window(start, end)
        assert str(raised.value) == "a curfew window holds local wall-clock times, without tzinfo"


def test_window_label_and_midnight_crossing() -> None:
    assert NIGHT.label() == "23:00-07:00"
    assert NIGHT.crosses_midnight
    assert Window(time(0, 0), time(5, 0)).crosses_midnight is False
    assert Window(time(20, 0), time(0, 0)).crosses_midnight is True
    assert Window(time(9, 5), time(17, 45)).label() == "09:05-17:45"


# --- occurrence ----------------------------------------------------------------------


def test_almaty_same_wall_time_moves_in_utc_after_the_2024_change() -> None:
    old = occurrence("Asia/Almaty", NIGHT, date(2022, 1, 6))
    new = occurrence("Asia/Almaty", NIGHT, date(2025, 1, 6))
    assert (old.starts_at, old.ends_at) == (utc(2022, 1, 6, 17), utc(2022, 1, 7, 1))
    assert (new.starts_at, new.ends_at) == (utc(2025, 1, 6, 18), utc(2025, 1, 7, 2))


def test_window_crossing_midnight_ends_next_local_day() -> None:
    occ = occurrence("Asia/Almaty", NIGHT, date(2025, 1, 6))
    assert occ.day == date(2025, 1, 6)
    assert occ.start.local.date() == date(2025, 1, 6)
    assert occ.end.local.date() == date(2025, 1, 7)
    assert occ.ends_at - occ.starts_at == timedelta(hours=8)


def test_window_within_one_day_ends_same_day() -> None:
    occ = occurrence("Asia/Almaty", Window(time(0, 0), time(5, 0)), date(2025, 1, 7))
    assert (occ.starts_at, occ.ends_at) == (utc(2025, 1, 6, 19), utc(2025, 1, 7, 0))


def test_start_in_london_spring_gap_is_shifted_forward() -> None:
    # 30 March 2025: 01:00 GMT -> 02:00 BST, so 01:30 never shows on the clock.
    occ = occurrence("Europe/London", Window(time(1, 30), time(6, 0)), date(2025, 3, 30))
    assert occ.start.shifted and occ.shifted and not occ.end.shifted
    assert occ.start.local.time() == time(2, 30)
    assert occ.starts_at == utc(2025, 3, 30, 1, 30)
    assert occ.ends_at == utc(2025, 3, 30, 5, 0)


def test_start_in_london_autumn_repeated_hour_takes_first_occurrence() -> None:
    # 26 October 2025: 02:00 BST -> 01:00 GMT, so 01:30 happens twice.
    occ = occurrence("Europe/London", Window(time(1, 30), time(6, 0)), date(2025, 10, 26))
    assert occ.start.ambiguous and occ.ambiguous and not occ.shifted
    assert occ.starts_at == utc(2025, 10, 26, 0, 30)
    assert occ.ends_at == utc(2025, 10, 26, 6, 0)
    assert occ.ends_at - occ.starts_at == timedelta(hours=5, minutes=30)


def test_curfew_ending_inside_the_gap() -> None:
    occ = occurrence("Europe/London", Window(time(22, 0), time(1, 30)), date(2025, 3, 29))
    assert occ.end.shifted and not occ.start.shifted
    assert occ.starts_at == utc(2025, 3, 29, 22, 0)
    assert occ.ends_at == utc(2025, 3, 30, 1, 30)  # 02:30 BST
    assert occ.end.local.time() == time(2, 30)


def test_start_pushed_past_its_own_end_gives_an_empty_night() -> None:
    # New York 9 March 2025, 02:00 -> 03:00: 02:30 reads as 03:30, after the 03:10 end.
    occ = occurrence("America/New_York", Window(time(2, 30), time(3, 10)), date(2025, 3, 9))
    assert occ.starts_at == occ.ends_at == utc(2025, 3, 9, 7, 30)
    assert (
        occurrences_between(
            "America/New_York",
            Window(time(2, 30), time(3, 10)),
            date(2025, 3, 9),
            date(2025, 3, 9),
            utc(2025, 3, 9),
            utc(2025, 3, 10),
        )
        == []
    )


# --- occurrences_between, next_change, is_in_force -----------------------------------


def test_occurrences_between_respects_first_and_last_day() -> None:
    found = occurrences_between(
        "Asia/Almaty",
        NIGHT,
        date(2025, 1, 6),
        date(2025, 1, 8),
        utc(2025, 1, 1),
        utc(2025, 2, 1),
    )
    assert [o.day for o in found] == [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8)]


def test_occurrences_between_includes_one_already_running_and_is_half_open() -> None:
    found = occurrences_between(
        "Asia/Almaty", NIGHT, date(2025, 1, 1), None, utc(2025, 1, 7, 0), utc(2025, 1, 7, 18)
    )
    # The 6th's curfew runs 18:00-02:00 UTC; the 7th's starts at 18:00, outside [.., 18:00).
    assert [o.day for o in found] == [date(2025, 1, 6)]


def test_occurrences_between_empty_or_naive_range() -> None:
    assert (
        occurrences_between(
            "Asia/Almaty", NIGHT, date(2025, 1, 1), None, utc(2025, 1, 7), utc(2025, 1, 7)
        )
        == []
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences_between(
            "Asia/Almaty",
            NIGHT,
            date(2025, 1, 1),
            None,
            datetime(2025, 1, 7),  # noqa: DTZ001
            utc(2025, 1, 8),
        )


def test_next_change_before_first_day_is_the_first_start() -> None:
    change = next_change("Asia/Almaty", NIGHT, date(2025, 1, 6), None, utc(2025, 1, 1))
    assert change == ("start", utc(2025, 1, 6, 18))


def test_next_change_during_curfew_is_its_end() -> None:
    now = utc(2025, 1, 6, 20)
    assert next_change("Asia/Almaty", NIGHT, date(2025, 1, 6), None, now) == (
        "end",
        utc(2025, 1, 7, 2),
    )
    assert is_in_force("Asia/Almaty", NIGHT, date(2025, 1, 6), None, now)


def test_start_is_inclusive_and_end_exclusive() -> None:
    first = date(2025, 1, 6)
    assert is_in_force("Asia/Almaty", NIGHT, first, None, utc(2025, 1, 6, 18))
    assert not is_in_force("Asia/Almaty", NIGHT, first, None, utc(2025, 1, 7, 2))
    assert next_change("Asia/Almaty", NIGHT, first, None, utc(2025, 1, 7, 2)) == (
        "start",
        utc(2025, 1, 7, 18),
    )


def test_after_the_last_day_nothing_changes_any_more() -> None:
    first, last = date(2025, 1, 6), date(2025, 1, 8)
    assert next_change("Asia/Almaty", NIGHT, first, last, utc(2025, 1, 8, 20)) == (
        "end",
        utc(2025, 1, 9, 2),
    )
    assert next_change("Asia/Almaty", NIGHT, first, last, utc(2025, 1, 9, 2)) is None
    assert not is_in_force("Asia/Almaty", NIGHT, first, last, utc(2025, 1, 9, 19))


def test_in_force_follows_the_clock_change() -> None:
    # London, 22:00-06:00 over the spring-forward night: ends 06:00 BST = 05:00 UTC.
    window = Window(time(22, 0), time(6, 0))
    first = date(2025, 3, 29)
    assert is_in_force("Europe/London", window, first, None, utc(2025, 3, 30, 4, 59))
    assert not is_in_force("Europe/London", window, first, None, utc(2025, 3, 30, 5, 0))


# --- formatting ----------------------------------------------------------------------


def test_format_window_uses_the_offset_of_that_date() -> None:
    assert (
        format_window("Asia/Almaty", NIGHT, date(2022, 1, 6))
        == "23:00 to 07:00 local time (17:00-01:00 UTC)"
    )
    assert (
        format_window("Asia/Almaty", NIGHT, date(2025, 1, 6))
        == "23:00 to 07:00 local time (18:00-02:00 UTC)"
    )


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(days=1, hours=3), "1 d 3 h"),
        (timedelta(minutes=59, seconds=40), "1 h"),
        (timedelta(seconds=10), "under 1 min"),
        (timedelta(0), "under 1 min"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(minutes=-1))


def test_empty_night_is_skipped_by_next_change() -> None:
    window = Window(time(2, 30), time(3, 10))
    change = next_change("America/New_York", window, date(2025, 3, 9), None, utc(2025, 3, 9))
    # The 9th has no curfew at all; the next start is 02:30 EDT on the 10th.
    assert change == ("start", utc(2025, 3, 10, 6, 30))


@pytest.mark.parametrize(
    "instant",
    [datetime(2025, 1, 7), datetime(2025, 1, 7, tzinfo=NoOffset())],  # noqa: DTZ001
)
def test_instants_without_an_offset_are_refused_by_name(instant: datetime) -> None:
    later = utc(2025, 1, 8)
    with pytest.raises(ValueError) as raised:
        occurrences_between("Asia/Almaty", NIGHT, date(2025, 1, 1), None, instant, later)
    assert str(raised.value) == "start_utc must be timezone-aware"
    with pytest.raises(ValueError) as raised:
        occurrences_between("Asia/Almaty", NIGHT, date(2025, 1, 1), None, utc(2025, 1, 6), instant)
    assert str(raised.value) == "end_utc must be timezone-aware"
    with pytest.raises(ValueError) as raised:
        next_change("Asia/Almaty", NIGHT, date(2025, 1, 1), None, instant)
    assert str(raised.value) == "now must be timezone-aware"


def test_instants_in_any_offset_are_read_as_the_same_moment() -> None:
    # 23:30 in Kolkata (UTC+5:30) on 6 January 2025 is 18:00 UTC: Almaty's curfew starts.
    kolkata = timezone(timedelta(hours=5, minutes=30))
    now = datetime(2025, 1, 6, 23, 30, tzinfo=kolkata)
    assert next_change("Asia/Almaty", NIGHT, date(2025, 1, 1), None, now) == (
        "end",
        utc(2025, 1, 7, 2),
    )
    found = occurrences_between(
        "Asia/Almaty",
        NIGHT,
        date(2025, 1, 1),
        None,
        now,
        datetime(2025, 1, 7, 23, 30, tzinfo=kolkata),
    )
    assert [(o.starts_at, o.ends_at) for o in found] == [
        (utc(2025, 1, 6, 18), utc(2025, 1, 7, 2)),
    ]


def test_a_curfew_that_ended_at_the_range_start_is_not_in_it() -> None:
    # Almaty, 6 January 2025: 18:00-02:00 UTC. From 02:00 UTC on, only the next one counts.
    found = occurrences_between(
        "Asia/Almaty", NIGHT, date(2025, 1, 1), None, utc(2025, 1, 7, 2), utc(2025, 1, 8, 3)
    )
    assert [(o.day, o.starts_at, o.ends_at) for o in found] == [
        (date(2025, 1, 7), utc(2025, 1, 7, 18), utc(2025, 1, 8, 2)),
    ]
    one_minute_earlier = occurrences_between(
        "Asia/Almaty",
        NIGHT,
        date(2025, 1, 1),
        None,
        utc(2025, 1, 7, 1, 59),
        utc(2025, 1, 7, 18, 1),
    )
    assert [o.day for o in one_minute_earlier] == [date(2025, 1, 6), date(2025, 1, 7)]


def test_half_hour_zones_place_the_curfew_on_the_half_hour() -> None:
    kolkata = occurrence("Asia/Kolkata", NIGHT, date(2025, 1, 6))
    kathmandu = occurrence("Asia/Kathmandu", NIGHT, date(2025, 1, 6))
    assert (kolkata.starts_at, kolkata.ends_at) == (utc(2025, 1, 6, 17, 30), utc(2025, 1, 7, 1, 30))
    assert (kathmandu.starts_at, kathmandu.ends_at) == (
        utc(2025, 1, 6, 17, 15),
        utc(2025, 1, 7, 1, 15),
    )
    assert (
        format_window("Asia/Kathmandu", NIGHT, date(2025, 1, 6))
        == "23:00 to 07:00 local time (17:15-01:15 UTC)"
    )


def test_new_york_curfew_over_the_autumn_night_lasts_an_hour_longer() -> None:
    # 2 November 2025, 02:00 EDT -> 01:00 EST: 23:00 EDT to 07:00 EST is nine hours.
    found = occurrences_between(
        "America/New_York",
        NIGHT,
        date(2025, 10, 31),
        date(2025, 11, 2),
        utc(2025, 11, 1),
        utc(2025, 11, 4),
    )
    assert [(o.day, o.starts_at, o.ends_at) for o in found] == [
        (date(2025, 10, 31), utc(2025, 11, 1, 3), utc(2025, 11, 1, 11)),
        (date(2025, 11, 1), utc(2025, 11, 2, 3), utc(2025, 11, 2, 12)),
        (date(2025, 11, 2), utc(2025, 11, 3, 4), utc(2025, 11, 3, 12)),
    ]


def test_the_last_day_still_has_its_curfew_in_a_range() -> None:
    found = occurrences_between(
        "Asia/Almaty",
        NIGHT,
        date(2025, 1, 6),
        date(2025, 1, 7),
        utc(2025, 1, 7, 12),
        utc(2025, 1, 20),
    )
    assert [(o.day, o.starts_at) for o in found] == [(date(2025, 1, 7), utc(2025, 1, 7, 18))]


def test_range_ending_late_in_the_utc_day_reaches_the_next_local_day() -> None:
    # 20:00 UTC on 7 January is 01:00 on the 8th in Almaty: the 7th's curfew is running.
    found = occurrences_between(
        "Asia/Almaty", NIGHT, date(2025, 1, 1), None, utc(2025, 1, 7, 19), utc(2025, 1, 7, 20)
    )
    assert [o.day for o in found] == [date(2025, 1, 7)]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=29), "under 1 min"),
        (timedelta(seconds=30), "1 min"),
        (timedelta(hours=23, minutes=59, seconds=29), "23 h 59 min"),
        (timedelta(hours=23, minutes=59, seconds=30), "1 d"),
        (timedelta(days=2, minutes=1), "2 d 1 min"),
        (timedelta(minutes=61), "1 h 1 min"),
        # Exact whole-minute arithmetic even where a float would round up a minute.
        (timedelta(days=900_000_000, seconds=29, microseconds=999_999), "900000000 d"),
    ],
)
def test_format_duration_rounds_to_the_nearest_minute(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_format_duration_refusal_is_exact() -> None:
    with pytest.raises(ValueError) as raised:
        format_duration(timedelta(seconds=-1))
    assert str(raised.value) == "duration must not be negative"


def test_a_curfew_without_a_break_is_one_occurrence_in_force_throughout() -> None:
    # Sri Lanka, 2 April 2022 (UTC+5:30): from 18:00 on Saturday until 06:00 on Monday.
    zone, weekend = "Asia/Colombo", Window(time(18), time(6))
    saturday, monday = date(2022, 4, 2), date(2022, 4, 4)
    whole = unbroken(zone, weekend, saturday, monday)
    assert (whole.day, whole.starts_at, whole.ends_at) == (
        saturday,
        utc(2022, 4, 2, 12, 30),
        utc(2022, 4, 4, 0, 30),
    )
    sunday_noon = utc(2022, 4, 3, 6, 30)
    assert is_in_force(zone, weekend, saturday, monday, sunday_noon, continuous=True)
    assert not is_in_force(zone, weekend, saturday, monday, sunday_noon)  # read as nightly
    change = next_change(zone, weekend, saturday, monday, sunday_noon, continuous=True)
    assert change == ("end", whole.ends_at)
    before = next_change(zone, weekend, saturday, monday, utc(2022, 4, 2, 9), continuous=True)
    assert before == ("start", whole.starts_at)
    assert next_change(zone, weekend, saturday, monday, whole.ends_at, continuous=True) is None
    week = (utc(2022, 4, 1), utc(2022, 4, 10))
    assert occurrences_between(zone, weekend, saturday, monday, *week, continuous=True) == [whole]
    after = (whole.ends_at, utc(2022, 4, 10))
    assert occurrences_between(zone, weekend, saturday, monday, *after, continuous=True) == []
    assert format_unbroken(zone, weekend, saturday, monday) == (
        "from 18:00 on Saturday 2 April to 06:00 on Monday 4 April local time "
        "(12:30 UTC on 2 April to 00:30 UTC on 4 April), without a break"
    )
    with pytest.raises(ValueError, match="the date it ends"):
        next_change(zone, weekend, saturday, None, sunday_noon, continuous=True)
    # An end written before its start holds nothing.
    backwards = unbroken(zone, weekend, monday, saturday)
    assert backwards.ends_at == backwards.starts_at
    assert next_change(zone, weekend, monday, saturday, sunday_noon, continuous=True) is None


def test_a_curfew_on_some_days_of_the_week_starts_on_those_days_only() -> None:
    # Santo Domingo (UTC-4), July 2021: weekends from 19:00. Friday 9 July, 08:00 local.
    zone, evening, weekend = "America/Santo_Domingo", Window(time(19), time(5)), (5, 6)
    first = date(2021, 7, 4)
    friday = utc(2021, 7, 9, 12)
    assert next_change(zone, evening, first, None, friday, days=weekend) == (
        "start",
        utc(2021, 7, 10, 23),
    )
    # Sunday's night ends on Monday morning, and counts as Sunday's.
    monday_early = utc(2021, 7, 12, 8)
    assert is_in_force(zone, evening, first, None, monday_early, days=weekend)
    assert next_change(zone, evening, first, None, utc(2021, 7, 12, 9), days=weekend) == (
        "start",
        utc(2021, 7, 17, 23),
    )
    week = occurrences_between(
        zone, evening, first, None, utc(2021, 7, 5), utc(2021, 7, 12), days=weekend
    )
    # Sunday the 4th's night, still running on Monday, then the next weekend's two.
    assert [o.day for o in week] == [date(2021, 7, 4), date(2021, 7, 10), date(2021, 7, 11)]
    # Its last date on a weekday: the Sunday before is its last night.
    assert next_change(zone, evening, first, date(2021, 7, 14), monday_early, days=weekend) == (
        "end",
        utc(2021, 7, 12, 9),
    )
    assert (
        next_change(zone, evening, first, date(2021, 7, 14), utc(2021, 7, 12, 9), days=weekend)
        is None
    )
    with pytest.raises(ValueError, match="no day of the week"):
        next_change(zone, evening, first, None, friday, days=())


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (None, ""),
        ((0, 1, 2, 3, 4, 5, 6), ""),
        ((0, 1, 2, 3, 4), "on weekdays"),
        ((5, 6), "on Saturdays and Sundays"),
        ((4,), "on Fridays"),
        ((0, 2, 4), "on Mondays, Wednesdays and Fridays"),
    ],
)
def test_days_of_the_week_in_words(days: tuple[int, ...] | None, text: str) -> None:
    assert days_text(days) == text
