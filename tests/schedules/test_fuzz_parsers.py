"""Curfew, country, zone and deadline parsers under hostile input.

Whatever is typed or read from a feed, these either give a usable result or refuse with
a `ValueError` whose message is one short line fit to show a person; nothing else
escapes, and what they give can be stored (db.models column sizes) and computed with
(every day of a curfew they accept has instants).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytz
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules import rollcall, zones
from schedules.countries import (
    countries_named_in,
    normalise_name,
    resolve_country,
    suggest_country,
)
from schedules.curfew_text import find_curfews, parse_report
from schedules.curfew_times import (
    Window,
    format_window,
    is_in_force,
    next_change,
    occurrence,
    occurrences_between,
    parse_clock,
    parse_window,
)
from tests.strategies import any_text, hostile_text

MAX_AREA = 100  # db.models.Curfew.area
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
zone_names = st.sampled_from(sorted(pytz.all_timezones))
clock_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
windows = (
    st.tuples(clock_times, clock_times)
    .filter(lambda ab: ab[0] != ab[1])
    .map(lambda ab: Window(*ab))
)
# Prose with curfew sentences in it, and a run of capitalised words where a place goes.
capitalised = st.lists(
    st.sampled_from(["Almaty", "New", "York", "Région", "X", "Of", "The", "UTC", "KZ"]),
    max_size=60,
).map(" ".join)
curfew_prose = st.builds(
    lambda a, place, window, until, b: (
        f"{a} A curfew is in place in {place} from {window} until {until}. {b}"
    ),
    hostile_text,
    st.one_of(capitalised, hostile_text),
    st.one_of(
        st.sampled_from(["23:00-07:00", "2300 hrs to 0700 hrs", "11 p.m. and 5 a.m."]),
        hostile_text,
    ),
    st.one_of(
        st.sampled_from(["9 May", "31 December 9999", "9999-12-31", "29 February", "0001-01-01"]),
        hostile_text,
    ),
    hostile_text,
)


def clear(error: ValueError, *, longest: int = 500) -> str:
    """A refusal fit to show: one line, not empty, bounded whatever the input."""
    message = str(error)
    assert message.strip() and "\n" not in message and len(message) <= longest, message
    return message


def check_window_computes(zone: str, window: Window, first: date, last: date | None) -> None:
    """A curfew that was accepted has instants for each day it covers, and a next change."""
    for day in {first, last or first}:
        format_window(zone, window, day)
    now = datetime.combine(first, time(12), tzinfo=UTC)
    next_change(zone, window, first, last, now)
    is_in_force(zone, window, first, last, now)
    occurrences_between(zone, window, first, last, now, now + timedelta(days=2))
    if last is not None:
        occurrence(zone, window, last)


@settings(max_examples=150)
@given(text=st.one_of(curfew_prose, any_text(6000)), reference=days)
def test_find_curfews_gives_storable_windows(text: str, reference: date) -> None:
    for found in find_curfews(text, reference=reference):
        assert found.area is None or 0 < len(found.area) <= MAX_AREA, found.area
        # A stale end date is kept (the lead sees it); an absurd one is dropped.
        assert found.until is None or abs(found.until.year - reference.year) <= 10
        zone = zones.zone_for_area("KZ", found.area) or "Asia/Almaty"
        check_window_computes(zone, found.window, reference, found.until)


@settings(max_examples=60)
@given(
    text=curfew_prose,
    country=st.one_of(st.sampled_from(["KZ", "US", "Kazakhstan", "RU"]), hostile_text),
    day=days,
    zone=st.none() | zone_names | hostile_text,
)
def test_parse_report_gives_data_or_a_value_error(
    text: str, country: str, day: date, zone: str | None
) -> None:
    try:
        report = parse_report(text, country=country, day=day, zone=zone)
    except ValueError as error:
        clear(error, longest=2000)  # may list a country's zones, as many as the US has
        return
    for row in report:
        assert {"start", "end", "zone", "start_utc", "end_utc"} <= set(row)


@settings(max_examples=150)
@given(text=st.one_of(any_text(300), st.from_regex(r"\s*\d{1,4}[:.h]?\d{0,3}\s?[ap]?\.?m?")))
def test_clock_and_window_readers_refuse_clearly(text: str) -> None:
    for read in (parse_clock, parse_window):
        try:
            read(text)
        except ValueError as error:
            clear(error)


@settings(max_examples=100)
@given(zone=zone_names, window=windows, first=days, length=st.none() | st.integers(0, 800))
def test_any_window_in_any_zone_computes(
    zone: str, window: Window, first: date, length: int | None
) -> None:
    last = first + timedelta(days=length) if length is not None else None
    check_window_computes(zone, window, first, last)


@settings(max_examples=150)
@given(text=any_text(500))
def test_country_readers_accept_anything(text: str) -> None:
    normalise_name(text)
    found = resolve_country(text)
    assert found is None or (len(found.code) == 2 and found.name)
    suggestion = suggest_country(text)
    assert suggestion is None or len(suggestion.code) == 2
    for country in countries_named_in(text):
        assert len(country.code) == 2


@settings(max_examples=100)
@given(
    country=st.one_of(st.sampled_from(["US", "RU", "KZ", "AQ", "ZZ", ""]), hostile_text),
    area=st.none() | any_text(300),
)
def test_zone_for_area_accepts_anything(country: str, area: str | None) -> None:
    zone = zones.zone_for_area(country, area)
    assert zone is None or zones.is_valid_zone(zone)


@settings(max_examples=150)
@given(word=st.one_of(hostile_text, st.from_regex(r"\d{0,6}h?\d{0,6}m?(in)?", fullmatch=True)))
def test_deadlines_parse_or_refuse_clearly(word: str) -> None:
    try:
        deadline = rollcall.parse_deadline(word)
    except ValueError as error:
        clear(error)
        return
    assert rollcall.looks_like_deadline(word)
    assert timedelta(minutes=5) <= deadline <= timedelta(hours=72)
