"""Tests for schedules.zones: wall time <-> UTC against an independent tz implementation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytz
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.zones import (
    as_utc,
    is_valid_zone,
    local_and_utc,
    local_to_utc,
    one_offset,
    utc_offset_label,
    utc_to_local,
    zone_for_area,
    zones_for_country,
)

ALL_COUNTRY_ZONES = sorted({zone for zones in pytz.country_timezones.values() for zone in zones})
_PYTZ_DATA = Path(pytz.__file__).parent / "zoneinfo"


@cache
def oracle(zone: str) -> ZoneInfo:
    """The stdlib's zoneinfo reading pytz's own copy of the tz data.

    Independent code, same data release: the system copy can be older (tzdata 2025b
    still has Moldova changing clocks an hour earlier than later releases), and a data
    difference is not what these tests are about.
    """
    with (_PYTZ_DATA / zone).open("rb") as handle:
        return ZoneInfo.from_file(handle, key=zone)


def expected(zone: str, wall: datetime) -> tuple[datetime, datetime, bool, bool]:
    """(UTC instant, local wall used, shifted, ambiguous) by PEP 495 rules.

    fold=0 reads a gap with the offset before the jump (shifted forward) and a repeated
    hour as its first occurrence: exactly the rules zones.py states.
    """
    tz = oracle(zone)
    first = wall.replace(tzinfo=tz).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    local = first.astimezone(tz)
    shifted = local.replace(tzinfo=None) != wall
    ambiguous = not shifted and first != second
    return first, local, shifted, ambiguous


def transitions(zone: str, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of every offset change in `year`."""
    tz = oracle(zone)

    def offset(at: datetime) -> timedelta:
        # The local wall time minus the UTC one: no Optional to narrow away.
        return at.astimezone(tz).replace(tzinfo=None) - at.replace(tzinfo=None)

    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        nxt = day + timedelta(days=1)
        if offset(day) != offset(nxt):
            lo, hi = day, nxt  # offset(lo) differs from offset(hi): bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            found.append((hi, offset(lo), offset(hi)))
        day = nxt
    return found


def check(zone: str, wall: datetime) -> None:
    got = local_to_utc(zone, wall.date(), wall.time())
    utc, local, shifted, ambiguous = expected(zone, wall)
    context = f"{zone} {wall:%Y-%m-%d %H:%M}"
    assert got.utc == utc, context
    assert got.utc.tzinfo is UTC, context
    assert got.local.replace(tzinfo=None) == local.replace(tzinfo=None), context
    assert got.local.utcoffset() == local.utcoffset(), context
    assert (got.shifted, got.ambiguous) == (shifted, ambiguous), context


def test_every_country_zone_around_every_2025_transition() -> None:
    checked_transitions = 0
    for zone in ALL_COUNTRY_ZONES:
        for month in (1, 7):  # zones without transitions still get their offsets checked
            check(zone, datetime(2025, month, 15, 23, 0))  # noqa: DTZ001 - local wall time
        for instant, before, after in transitions(zone, 2025):
            checked_transitions += 1
            wall_at_jump = (instant + before).replace(tzinfo=None)
            walls = [
                wall_at_jump - timedelta(hours=1),  # an hour before, old offset
                (instant + after).replace(tzinfo=None) + timedelta(hours=1),  # an hour after
                wall_at_jump,  # first wall time in the gap / of the repeated stretch
                wall_at_jump + abs(after - before) / 2,  # inside the gap / repeated stretch
                wall_at_jump - timedelta(minutes=1),  # last minute before the change
            ]
            for wall in walls:
                check(zone, wall)
    # The scan is only worth something if it found the world's DST transitions.
    assert checked_transitions > 150
    assert len(transitions("Europe/London", 2025)) == 2


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ALL_COUNTRY_ZONES),
    wall=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31)),  # noqa: DTZ001
)
def test_any_zone_any_time_agrees_with_zoneinfo(zone: str, wall: datetime) -> None:
    check(zone, wall.replace(second=0, microsecond=0))


def test_almaty_offset_is_right_for_the_date() -> None:
    before = local_to_utc("Asia/Almaty", date(2022, 1, 6), time(23, 0))
    after = local_to_utc("Asia/Almaty", date(2025, 1, 6), time(23, 0))
    assert before.utc == datetime(2022, 1, 6, 17, 0, tzinfo=UTC)
    assert after.utc == datetime(2025, 1, 6, 18, 0, tzinfo=UTC)
    assert not (before.shifted or before.ambiguous or after.shifted or after.ambiguous)


def test_wall_time_in_spring_gap_is_shifted_forward_by_the_gap() -> None:
    # Europe/London, 30 March 2025: clocks jump 01:00 GMT -> 02:00 BST.
    got = local_to_utc("Europe/London", date(2025, 3, 30), time(1, 30))
    assert got.shifted and not got.ambiguous
    assert got.utc == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert got.local.replace(tzinfo=None) == datetime(2025, 3, 30, 2, 30)  # noqa: DTZ001
    assert got.local.utcoffset() == timedelta(hours=1)


def test_us_gap_example_from_the_rules() -> None:
    # New York, 9 March 2025: 02:00 EST -> 03:00 EDT; 02:30 becomes 03:30 local.
    got = local_to_utc("America/New_York", date(2025, 3, 9), time(2, 30))
    assert got.shifted
    assert got.local.time() == time(3, 30)
    assert got.utc == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)


def test_wall_time_in_repeated_hour_takes_the_first_occurrence() -> None:
    # Europe/London, 26 October 2025: 02:00 BST -> 01:00 GMT; 01:30 happens twice.
    got = local_to_utc("Europe/London", date(2025, 10, 26), time(1, 30))
    assert got.ambiguous and not got.shifted
    assert got.utc == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # BST, the earlier one
    assert got.local.utcoffset() == timedelta(hours=1)


def test_negative_dst_zone_repeated_hour_still_takes_the_earlier_instant() -> None:
    # Dublin's tz data marks winter, not summer, as the DST side; the rule must not care.
    got = local_to_utc("Europe/Dublin", date(2025, 10, 26), time(1, 30))
    assert got.ambiguous
    assert got.utc == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_offset_change_that_is_not_dst_repeats_an_hour() -> None:
    # Almaty went from UTC+6 to UTC+5 at midnight starting 1 March 2024: 23:30 on
    # 29 February happened twice.
    got = local_to_utc("Asia/Almaty", date(2024, 2, 29), time(23, 30))
    assert got.ambiguous
    assert got.utc == datetime(2024, 2, 29, 17, 30, tzinfo=UTC)


def test_local_to_utc_rejects_unknown_zone_and_aware_wall() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        local_to_utc("Mars/Olympus_Mons", date(2025, 1, 1), time(23, 0))
    with pytest.raises(ValueError, match="naive"):
        local_to_utc("Asia/Almaty", date(2025, 1, 1), time(23, 0, tzinfo=UTC))


def test_utc_to_local_gives_aware_local_wall_time_without_pytz() -> None:
    local = utc_to_local("Asia/Almaty", datetime(2025, 1, 6, 18, 0, tzinfo=UTC))
    assert (local.date(), local.time()) == (date(2025, 1, 6), time(23, 0))
    assert local.utcoffset() == timedelta(hours=5)
    assert not isinstance(local.tzinfo, pytz.BaseTzInfo)
    assert local == datetime(2025, 1, 6, 18, 0, tzinfo=UTC)


def test_utc_to_local_rejects_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_to_local("Asia/Almaty", datetime(2025, 1, 6, 18, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("zone", "instant", "label"),
    [
        ("Asia/Almaty", datetime(2022, 1, 6, tzinfo=UTC), "UTC+6"),
        ("Asia/Almaty", datetime(2025, 1, 6, tzinfo=UTC), "UTC+5"),
        ("Asia/Kathmandu", datetime(2025, 1, 6, tzinfo=UTC), "UTC+5:45"),
        ("America/St_Johns", datetime(2025, 1, 6, tzinfo=UTC), "UTC-3:30"),
        ("America/Bogota", datetime(2025, 1, 6, tzinfo=UTC), "UTC-5"),
        ("Europe/London", datetime(2025, 1, 6, tzinfo=UTC), "UTC+0"),
        ("Europe/London", datetime(2025, 7, 6, tzinfo=UTC), "UTC+1"),
    ],
)
def test_utc_offset_label(zone: str, instant: datetime, label: str) -> None:
    assert utc_offset_label(zone, instant) == label


def test_zones_for_country() -> None:
    assert zones_for_country("kz")[0] == "Asia/Almaty"
    assert "Asia/Oral" in zones_for_country("KZ")
    assert zones_for_country("KE") == ["Africa/Nairobi"]
    assert zones_for_country("ZZ") == []


@pytest.mark.parametrize(
    ("cc", "area", "zone"),
    [
        ("KZ", "Almaty", "Asia/Almaty"),
        ("KZ", "almaty", "Asia/Almaty"),
        ("KZ", "Almaty Region", "Asia/Almaty"),
        ("kz", "Asia/Oral", "Asia/Oral"),
        ("US", "New York", "America/New_York"),
        ("US", "new york city", "America/New_York"),
        ("AR", "Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("KE", "Mombasa", "Africa/Nairobi"),  # one zone: any area
        ("KE", None, "Africa/Nairobi"),
        ("KZ", "Astana", None),  # a city without a zone of its own does not decide
        ("KZ", None, None),
        ("KZ", "Almaty and Oral", None),
        ("US", "York", None),  # whole words only, and York is not New York
        ("ZZ", "Almaty", None),
    ],
)
def test_zone_for_area(cc: str, area: str | None, zone: str | None) -> None:
    assert zone_for_area(cc, area) == zone


def test_is_valid_zone() -> None:
    assert is_valid_zone("Asia/Almaty")
    assert is_valid_zone("UTC")
    assert not is_valid_zone("Asia/Nowhere")
    assert not is_valid_zone("")


def test_a_time_is_shown_in_the_places_local_time_and_utc_for_its_date() -> None:
    # Almaty was UTC+6 in January 2022 and UTC+5 from March 2024.
    assert local_and_utc("Asia/Almaty", datetime(2022, 1, 6, 17, tzinfo=UTC)) == (
        "06 Jan 23:00 Almaty (06 Jan 17:00 UTC)"
    )
    assert local_and_utc("Asia/Almaty", datetime(2025, 1, 6, 17, tzinfo=UTC), date_too=False) == (
        "22:00 Almaty (17:00 UTC)"
    )
    assert local_and_utc("America/New_York", datetime(2024, 7, 4, 1, 30, tzinfo=UTC)) == (
        "03 Jul 21:30 New York (04 Jul 01:30 UTC)"
    )
    with pytest.raises(ValueError, match="instant must be timezone-aware"):
        local_and_utc("Asia/Almaty", datetime(2022, 1, 6, 17))  # noqa: DTZ001
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        as_utc(datetime(2022, 1, 6, 17), "now")  # noqa: DTZ001


def test_one_offset_holds_only_while_every_zone_keeps_the_same_offset() -> None:
    def utc(year: int, month: int, day: int) -> datetime:
        return datetime(year, month, day, tzinfo=UTC)

    kazakhstan = zones_for_country("KZ")
    # Almaty moved from UTC+6 to UTC+5 on 1 March 2024, joining the rest of the country.
    assert not one_offset(kazakhstan, utc(2024, 2, 1), utc(2024, 2, 28))
    assert one_offset(kazakhstan, utc(2024, 3, 5), utc(2025, 3, 5))
    # A span reaching back across the change still had two offsets in it.
    assert not one_offset(kazakhstan, utc(2024, 2, 20), utc(2024, 3, 10))
    # London and Reykjavik agree in winter; British summer time parts them on 30 March.
    pair = ["Europe/London", "Atlantic/Reykjavik"]
    assert one_offset(pair, utc(2024, 11, 1), utc(2025, 3, 29))
    assert not one_offset(pair, utc(2024, 11, 1), utc(2025, 4, 1))


# Zones whose clocks changed only on a quarter hour since 1990: all but a few (Goose Bay
# and St John's until 2011, Moncton, Gaza, Casey), which changed a minute past.
QUARTER_HOUR_ZONES = [
    zone
    for zone in ALL_COUNTRY_ZONES
    if not any(
        t.year >= 1990 and (t.minute % 15 or t.second)
        for t in getattr(pytz.timezone(zone), "_utc_transition_times", [])
    )
]


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    start=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 1, 1)),  # noqa: DTZ001
    hours=st.integers(min_value=1, max_value=24 * 60),
)
def test_one_offset_agrees_with_every_quarter_hour_of_the_span(
    data: st.DataObject, start: datetime, hours: int
) -> None:
    lo = start.replace(tzinfo=UTC)
    hi = lo + timedelta(hours=hours)
    # Zones that agree at the start (where they part, if at all, is the question).
    first_zone = data.draw(st.sampled_from(QUARTER_HOUR_ZONES))
    offset = lo.astimezone(oracle(first_zone)).utcoffset()
    alike = [z for z in QUARTER_HOUR_ZONES if lo.astimezone(oracle(z)).utcoffset() == offset]
    zones = [first_zone, *data.draw(st.lists(st.sampled_from(alike), max_size=2))]
    # Their clocks change on a quarter hour, so the offsets at the span's start and at
    # each quarter hour inside it (by zoneinfo) are all the offsets the span has.
    first = lo.replace(minute=lo.minute - lo.minute % 15, second=0, microsecond=0)
    moments = [lo] + [
        moment
        for step in range(1, 4 * hours + 2)
        if lo < (moment := first + timedelta(minutes=15 * step)) < hi
    ]
    offsets_agree = all(
        len({moment.astimezone(oracle(zone)).utcoffset() for zone in zones}) == 1
        for moment in moments
    )
    assert one_offset(zones, lo, hi) == offsets_agree
