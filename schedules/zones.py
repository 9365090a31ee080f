"""Time zones: the one place that talks to pytz.

A curfew is stored as local wall-clock times plus an IANA zone name; every instant the
rest of the code sees is an aware UTC datetime. This module turns one into the other for
the date in question, so offset changes (Kazakhstan went from UTC+6 to UTC+5 in 2024)
and daylight-saving nights come out right.

pytz objects never leave this module: python-telegram-bot and APScheduler have deprecated
them, and `datetime(..., tzinfo=pytz_zone)` silently gives Local Mean Time. Local
datetimes handed out carry a fixed-offset `datetime.timezone` instead.

Wall times that do not happen once exactly:
- In a spring-forward gap (02:30 on a night the clocks jump 02:00 -> 03:00) the time
  is read with the offset in force before the jump, which moves it forward by the size
  of the gap: 02:30 becomes 03:30 local. `LocalInstant.shifted` is True. This is the
  same reading as `zoneinfo` with `fold=0` (PEP 495).
- In a repeated hour (01:30 on a night the clocks go back 02:00 -> 01:00) the FIRST
  occurrence is taken, the earlier UTC instant, so a reminder is never late.
  `LocalInstant.ambiguous` is True.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache

import pytz


@dataclass(frozen=True)
class LocalInstant:
    """A local wall time on a date, resolved to one instant.

    `utc` is the instant (aware, UTC). `local` is the wall time actually used, aware with
    a fixed offset: it differs from the requested wall time only when `shifted`.
    """

    utc: datetime
    local: datetime
    shifted: bool = False
    ambiguous: bool = False


@cache
def _tz(zone: str) -> pytz.BaseTzInfo:
    try:
        return pytz.timezone(zone)
    except pytz.UnknownTimeZoneError:
        raise ValueError(f"unknown time zone: {zone!r}") from None


def is_valid_zone(name: str) -> bool:
    """True when `name` is an IANA zone name pytz knows (e.g. "Asia/Almaty")."""
    return name in pytz.all_timezones_set


def zones_for_country(cc: str) -> list[str]:
    """The zones of an ISO alpha-2 country, most populous first; [] when unknown."""
    try:
        return list(pytz.country_timezones[cc.upper()])
    except KeyError:
        return []


def _fold(text: str) -> str:
    """Case, accents and punctuation folded away, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.casefold()).split())


def _city(zone: str) -> str:
    """The city part of a zone name, folded: "America/Argentina/Buenos_Aires" -> "buenos aires"."""
    return _fold(zone.rsplit("/", 1)[-1].replace("_", " "))


def zone_for_area(cc: str, area: str | None) -> str | None:
    """The zone for a place in a country, or None when that is not decided.

    A single-zone country gives its zone whatever the area. Otherwise the area must name
    (as whole words, any case or accents, e.g. "almaty", "the New York area") the city
    of exactly one of the country's zones, or be the zone name itself. Cities without a
    zone of their own (Astana) do not decide anything.
    """
    zones = zones_for_country(cc)
    if len(zones) == 1:
        return zones[0]
    if not zones or not area:
        return None
    if area.strip() in zones:
        return area.strip()
    padded = f" {_fold(area)} "
    matches = {zone for zone in zones if f" {_city(zone)} " in padded}
    # A longer city name containing a shorter one ("Kentucky Louisville" vs
    # "Louisville") is not a worry: cities are compared as whole words, and two
    # different cities named in one area leave the zone undecided.
    return matches.pop() if len(matches) == 1 else None


def as_utc(instant: datetime, what: str = "instant") -> datetime:
    """`instant` in UTC; ValueError naming `what` when it is naive (an instant without a
    zone is a bug, never a guess). Every function that takes an instant checks with this."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


def local_and_utc(zone: str, instant: datetime, *, date_too: bool = True) -> str:
    """A time as people there read it, and in UTC, the one way every message shows one:
    "06 Jan 21:09 Almaty (15:09 UTC)"; without the date, "21:09 Almaty (15:09 UTC)"."""
    utc = as_utc(instant)
    local = utc_to_local(zone, utc)
    place = zone.rsplit("/", 1)[-1].replace("_", " ")
    layout = "%d %b %H:%M" if date_too else "%H:%M"
    return f"{local:{layout}} {place} ({utc:{layout}} UTC)"


def _fixed(local: datetime) -> datetime:
    """A pytz-localised datetime re-labelled with a plain fixed-offset timezone."""
    offset = local.utcoffset()
    assert offset is not None  # pytz always sets one on localised datetimes
    return local.replace(tzinfo=timezone(offset))


def local_to_utc(zone: str, day: date, wall: time) -> LocalInstant:
    """The instant at which the wall clock in `zone` shows `wall` on `day`.

    Gap and repeated-hour rules are in the module docstring. Raises ValueError for an
    unknown zone or a `wall` that carries a tzinfo.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall time must be naive local time")
    tz = _tz(zone)
    naive = datetime.combine(day, wall)
    # pytz's is_dst flag picks a side of a transition by DST flag, which is unreliable
    # for offset changes that are not DST and for zones with negative DST (Dublin).
    # Asking for both sides and choosing by UTC instant does not depend on those flags.
    candidates = {tz.localize(naive, is_dst=flag) for flag in (True, False)}
    real = [c for c in candidates if tz.normalize(c).replace(tzinfo=None) == naive]
    if real:
        chosen = min(real, key=lambda c: c.astimezone(UTC))
        ambiguous = len({c.astimezone(UTC) for c in real}) > 1
        return LocalInstant(
            utc=chosen.astimezone(UTC), local=_fixed(chosen), shifted=False, ambiguous=ambiguous
        )
    # In a gap the two readings use the offsets before and after the jump; the one
    # before gives the later instant, and shifts the wall time forward by the gap.
    chosen = max(candidates, key=lambda c: c.astimezone(UTC))
    return LocalInstant(
        utc=chosen.astimezone(UTC),
        local=_fixed(tz.normalize(chosen)),
        shifted=True,
        ambiguous=False,
    )


def utc_to_local(zone: str, instant: datetime) -> datetime:
    """The wall time in `zone` at an aware instant.

    Returned aware, with a fixed-offset `datetime.timezone` (never a pytz object), so it
    compares correctly with UTC instants and `.date()`/`.time()` give the local wall
    clock. Do not do wall-clock arithmetic on it across days: go back through
    `local_to_utc`, which knows about offset changes. Raises ValueError on a naive
    instant.
    """
    utc = as_utc(instant)
    tz = _tz(zone)
    return _fixed(tz.normalize(utc.astimezone(tz)))


def utc_offset(zone: str, instant: datetime) -> timedelta:
    """The zone's offset from UTC at an aware instant."""
    offset = utc_to_local(zone, instant).utcoffset()
    assert offset is not None
    return offset


def utc_offset_label(zone: str, instant: datetime) -> str:
    """The offset at `instant` as people write it: "UTC+5", "UTC+5:45", "UTC-3", "UTC+0"."""
    seconds = int(utc_offset(zone, instant).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    label = f"UTC{sign}{hours}"
    if minutes or secs:
        label += f":{minutes:02d}"
    if secs:  # only Local Mean Time, before a zone adopted standard time
        label += f":{secs:02d}"
    return label


def clock_label(value: time | None) -> str | None:
    """A wall-clock or UTC time of day as every message and report writes it: "23:00"."""
    return None if value is None else f"{value:%H:%M}"


def one_offset(zones: list[str], start: datetime, end: datetime) -> bool:
    """True when all `zones` have the same UTC offset at every instant of [start, end).

    Offsets only change at a zone's transitions, so comparing them at `start` and at
    each transition inside the span is exact, and costs a few lookups for a year ahead
    (a sample per hour would cost thousands). pytz lists the transitions only in
    `_utc_transition_times` (sorted, naive UTC: found by bisection, as pytz finds them);
    a zone without the attribute has a fixed offset.
    """
    lo, hi = as_utc(start, "start"), as_utc(end, "end")
    naive_lo, naive_hi = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    moments = {lo}
    for zone in zones:
        times: list[datetime] = getattr(_tz(zone), "_utc_transition_times", [])
        inside = times[bisect_right(times, naive_lo) : bisect_left(times, naive_hi)]
        moments.update(naive.replace(tzinfo=UTC) for naive in inside)
    return all(len({utc_offset(zone, moment) for zone in zones}) <= 1 for moment in moments)


@cache
def _zone_countries() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for cc, zones in pytz.country_timezones.items():
        for zone in zones:
            found.setdefault(zone, set()).add(cc)
    return {zone: frozenset(ccs) for zone, ccs in found.items()}


def country_of_zone(zone: str) -> str | None:
    """The one country that uses `zone` ("Asia/Bishkek" -> "KG"); None for a zone shared
    by several countries or by none."""
    countries = _zone_countries().get(zone, frozenset())
    return next(iter(countries)) if len(countries) == 1 else None
