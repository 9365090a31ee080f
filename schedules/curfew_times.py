"""Curfew windows: reading them, and turning them into UTC instants day by day.

A curfew is a daily window of local wall-clock times ("23:00 to 07:00"), in force from a
first local date to an optional last one, in one IANA zone. Each day's instants are
computed for that day, so an offset change or a daylight-saving night moves the UTC
times while the local ones stay put. The rules for wall times that fall in a gap or a
repeated hour are those of `schedules.zones` (gap: shifted forward; repeated hour: first
occurrence).

An occurrence belongs to the local date on which it STARTS; when the end is not after
the start (23:00 to 07:00) it ends on the next local day. A curfew is in force from its
start (inclusive) to its end (exclusive).

A curfew may hold on some days of the week only (`days`, Mon=0: "Saturdays and Sundays
from 7 pm"): an occurrence counts on the day it starts.

Some curfews do not lift in the morning: "from 6 pm on Saturday until 6 am on Monday"
is one unbroken curfew of 36 hours. Such a curfew (`continuous`) has a single
occurrence, from the window's start on its first date to the window's end on its last
(`unbroken`); the functions below that take `continuous` treat it so.

The clock-time grammar (`TIME_PATTERN`, `parse_clock`) is shared with
`schedules.curfew_text`, which finds the same forms inside advisory prose.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from schedules.zones import LocalInstant, local_to_utc, utc_to_local


@dataclass(frozen=True)
class Window:
    """A daily curfew window in local wall-clock time; it crosses midnight when end <= start."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("a curfew window holds local wall-clock times, without tzinfo")
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start:%H:%M}: "
                "a curfew window needs different start and end times"
            )

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# One clock time, written any way advisories write them. No capturing groups, so it can
# be embedded in bigger patterns; `parse_clock` reads a matched piece.
_MERIDIEM = r"(?:a\.?\s?m\b\.?|p\.?\s?m\b\.?)"
_HOURS_WORD = r"(?:\s?(?:hrs|hours|hr|h)\b\.?)"
TIME_PATTERN = (
    r"(?:"
    r"(?<![\d:.])\d{1,2}(?:[:.]\d{2})?\s?" + _MERIDIEM + r"|"  # 11pm, 11:30 p.m.
    r"(?:12\s?)?(?:midnight|noon|midday)\b|"
    r"(?<![\d:.])\d{1,2}[:.h]\d{2}(?![\d:])" + _HOURS_WORD + r"?|"  # 23:00, 23.00, 23h00
    r"(?<![\d:.])\d{4}(?![\d:])" + _HOURS_WORD + r"?|"  # 2300, 2300 hrs
    r"(?<![\d:.])\d{1,2}h\b"  # 23h, as French and Spanish speakers write it
    r")"
)
# Between two times of a window. "and" is for "between ... and ...".
SEPARATOR_PATTERN = r"(?:\s*[-–—]+\s*|\s+(?:to|until|till|til|through|thru|and)\s+)"

_CLOCK_RE = re.compile(
    r"\s*(?:(?P<word>(?:12\s?)?(?:midnight|noon|midday))"
    r"|(?P<hhmm>\d{4})"
    r"|(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s?(?P<ampm>[ap](?=\.?\s?m))?)",
    re.IGNORECASE,
)
_WINDOW_RE = re.compile(
    r"^\s*(?:from\s+|between\s+(?:the\s+hours\s+of\s+)?)?"
    rf"(?P<a>{TIME_PATTERN}){SEPARATOR_PATTERN}(?P<b>{TIME_PATTERN})\s*"
    r"(?:local(?:\s+time)?)?\s*$",
    re.IGNORECASE,
)


def parse_clock(text: str) -> time:
    """One clock time matched by `TIME_PATTERN` -> `time`; ValueError when out of range.

    "24:00"/"2400" is read as midnight (00:00), as in "20:00 to 24:00".
    """
    piece = text.strip()
    match = _CLOCK_RE.match(piece)
    if not match:
        raise ValueError(f"not a clock time: {piece[:40]!r}")
    if match["word"]:
        return time(12, 0) if match["word"].lower().endswith(("noon", "midday")) else time(0)
    if match["hhmm"]:
        hours, minutes = int(match["hhmm"][:2]), int(match["hhmm"][2:])
    else:
        hours, minutes = int(match["h"]), int(match["m"] or 0)
    meridiem = match["ampm"]
    if minutes > 59:
        raise ValueError(f"minutes out of range in {piece[:40]!r}: minutes run 00-59")
    if meridiem:
        if not 1 <= hours <= 12:
            raise ValueError(f"hour out of range in {piece[:40]!r}: 12-hour times run 1-12")
        hours = hours % 12 + (12 if meridiem.lower() == "p" else 0)
    elif hours == 24 and minutes == 0:
        hours = 0
    elif hours > 23:
        raise ValueError(f"hour out of range in {piece[:40]!r}: hours run 00-23")
    return time(hours, minutes)


def parse_window(text: str) -> Window:
    """Read a curfew window typed by a person.

    Accepts "23:00-07:00", "2300-0700", "23.00-07.00", "23h00-07h00", "23h-7h",
    "23:00 to 07:00", "11pm-7am", "11pm to 7am", "11 p.m. - 7 a.m.", "11:30pm until 6am",
    "midnight to 5am", with an optional leading "from"/"between" and trailing "local
    time". Raises ValueError with a message fit to show the person.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError("no curfew window given: expected something like '23:00-07:00'")
    if len(cleaned) > 100:
        raise ValueError("curfew window too long: expected something like '23:00-07:00'")
    match = _WINDOW_RE.match(cleaned)
    if not match:
        raise ValueError(
            f"could not read a curfew window from {cleaned[:40]!r}: "
            "expected something like '23:00-07:00' or '11pm to 7am'"
        )
    return Window(start=parse_clock(match["a"]), end=parse_clock(match["b"]))


@dataclass(frozen=True)
class Occurrence:
    """One day's curfew: the window that starts on local date `day`."""

    day: date
    start: LocalInstant
    end: LocalInstant

    @property
    def starts_at(self) -> datetime:
        return self.start.utc

    @property
    def ends_at(self) -> datetime:
        return self.end.utc

    @property
    def shifted(self) -> bool:
        return self.start.shifted or self.end.shifted

    @property
    def ambiguous(self) -> bool:
        return self.start.ambiguous or self.end.ambiguous


def occurrence(zone: str, window: Window, day: date) -> Occurrence:
    """The start and end instants of the window that starts on local date `day`."""
    start = local_to_utc(zone, day, window.start)
    end_day = day + timedelta(days=1) if window.crosses_midnight else day
    end = local_to_utc(zone, end_day, window.end)
    if end.utc < start.utc:
        # Only when the start is pushed forward out of a gap past the end (02:30-03:10
        # on a night the clocks jump 02:00 -> 03:00): that night's curfew is empty.
        end = start
    return Occurrence(day=day, start=start, end=end)


def unbroken(zone: str, window: Window, first_day: date, last_day: date) -> Occurrence:
    """The one occurrence of a continuous curfew: from `window.start` on local date
    `first_day` to `window.end` on local date `last_day`, whatever lies between."""
    start = local_to_utc(zone, first_day, window.start)
    end = local_to_utc(zone, last_day, window.end)
    if end.utc < start.utc:
        end = start  # an end written before the start: nothing is in force
    return Occurrence(day=first_day, start=start, end=end)


def _aware_utc(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return instant.astimezone(UTC)


def _last_day_of_unbroken(last_day: date | None) -> date:
    if last_day is None:
        raise ValueError("a continuous curfew needs the date it ends")
    return last_day


def _on(days: Collection[int] | None, day: date) -> bool:
    """Whether a curfew held on `days` (None: every day) starts on `day`."""
    if days is not None and not days:
        raise ValueError("a curfew on no day of the week is no curfew")
    return days is None or day.weekday() in days


def occurrences_between(
    zone: str,
    window: Window,
    first_day: date,
    last_day: date | None,
    start_utc: datetime,
    end_utc: datetime,
    *,
    continuous: bool = False,
    days: Collection[int] | None = None,
) -> list[Occurrence]:
    """Occurrences on days first_day..last_day (those of `days` only, when given) that
    overlap [start_utc, end_utc), in order.

    An occurrence already running at `start_utc` is included, so callers that care only
    about starts (reminders) filter on `starts_at` themselves. A `continuous` curfew has
    one occurrence (`unbroken`) and needs its `last_day`.
    """
    lo = _aware_utc(start_utc, "start_utc")
    hi = _aware_utc(end_utc, "end_utc")
    if hi <= lo:
        return []
    if continuous:
        whole = unbroken(zone, window, first_day, _last_day_of_unbroken(last_day))
        overlaps = whole.ends_at > lo and whole.starts_at < hi and whole.ends_at > whole.starts_at
        return [whole] if overlaps else []
    # A window lasts under a day, so only days from the one before `lo` (local) can
    # still be running at `lo`; the margin also covers offsets of up to +-14 h.
    day = max(first_day, utc_to_local(zone, lo).date() - timedelta(days=1))
    stop = utc_to_local(zone, hi).date() + timedelta(days=1)
    if last_day is not None:
        stop = min(stop, last_day)
    found: list[Occurrence] = []
    while day <= stop:
        if _on(days, day):
            occ = occurrence(zone, window, day)
            # An empty night (see `occurrence`) overlaps nothing: there is no curfew to tell.
            if occ.ends_at > lo and occ.starts_at < hi and occ.ends_at > occ.starts_at:
                found.append(occ)
        day += timedelta(days=1)
    return found


def next_change(
    zone: str,
    window: Window,
    first_day: date,
    last_day: date | None,
    now: datetime,
    *,
    continuous: bool = False,
    days: Collection[int] | None = None,
) -> tuple[Literal["start", "end"], datetime] | None:
    """The next time the curfew starts or ends after `now`; None when it is over for good.

    While the curfew is in force this is its end; otherwise the next start.
    """
    current = _aware_utc(now, "now")
    if continuous:
        whole = unbroken(zone, window, first_day, _last_day_of_unbroken(last_day))
        if whole.ends_at == whole.starts_at:
            return None
        if whole.starts_at > current:
            return "start", whole.starts_at
        return ("end", whole.ends_at) if whole.ends_at > current else None
    day = max(first_day, utc_to_local(zone, current).date() - timedelta(days=1))
    while last_day is None or day <= last_day:
        occ = occurrence(zone, window, day)
        day += timedelta(days=1)
        if not _on(days, occ.day):
            continue
        if occ.ends_at == occ.starts_at:
            continue  # an empty night (see `occurrence`) neither starts nor ends anything
        if occ.starts_at > current:
            return "start", occ.starts_at
        if occ.ends_at > current:
            return "end", occ.ends_at
    return None


def is_in_force(
    zone: str,
    window: Window,
    first_day: date,
    last_day: date | None,
    now: datetime,
    *,
    continuous: bool = False,
    days: Collection[int] | None = None,
) -> bool:
    """True when `now` is inside one of the curfew's occurrences (start <= now < end)."""
    change = next_change(zone, window, first_day, last_day, now, continuous=continuous, days=days)
    return change is not None and change[0] == "end"


def format_window(zone: str, window: Window, day: date) -> str:
    """The window for people, e.g. "23:00 to 07:00 local time (17:00-01:00 UTC)".

    The UTC part is computed for the occurrence that starts on `day`.
    """
    occ = occurrence(zone, window, day)
    return (
        f"{window.start:%H:%M} to {window.end:%H:%M} local time "
        f"({occ.starts_at:%H:%M}-{occ.ends_at:%H:%M} UTC)"
    )


def format_unbroken(zone: str, window: Window, first_day: date, last_day: date) -> str:
    """A continuous curfew for people, e.g. "from 18:00 on Saturday 2 April to 06:00 on
    Monday 4 April local time (12:30 UTC on 2 April to 00:30 UTC on 4 April), without a
    break"."""
    whole = unbroken(zone, window, first_day, last_day)
    return (
        f"from {window.start:%H:%M} on {_day(first_day)} to {window.end:%H:%M} on "
        f"{_day(last_day)} local time ({whole.starts_at:%H:%M} UTC on "
        f"{_day(whole.starts_at.date(), weekday=False)} to {whole.ends_at:%H:%M} UTC on "
        f"{_day(whole.ends_at.date(), weekday=False)}), without a break"
    )


def _day(day: date, *, weekday: bool = True) -> str:
    named = f"{day.day} {day:%B}"
    return f"{day:%A} {named}" if weekday else named


def days_text(days: Collection[int] | None) -> str:
    """Days of the week for people: "on weekdays", "on Saturdays and Sundays", "" for
    every day."""
    if days is None or len(set(days)) == 7:
        return ""
    chosen = sorted(set(days))
    if chosen == [0, 1, 2, 3, 4]:
        return "on weekdays"
    names = [f"{_WEEKDAY_NAMES[d]}s" for d in chosen]
    return "on " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}")


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_duration(delta: timedelta) -> str:
    """A span for people: "2 h 5 min", "45 min", "1 d 3 h", "under 1 min".

    Rounded to the nearest minute. Raises ValueError for a negative span.
    """
    if delta < timedelta(0):
        raise ValueError("duration must not be negative")
    minutes = int((delta + timedelta(seconds=30)) // timedelta(minutes=1))
    if minutes == 0:
        return "under 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts)
