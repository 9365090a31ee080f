"""Reading what people write about trips: a place and a date range.

"Kazakhstan Almaty 3 Jan - 20 Jan", "KZ 03/01-20/01/2027", "Almaty 2027-01-03 to
2027-01-20": the words before the dates name the country, a city in it, or both; dates
are day first (as outside the US), with a month name or number, the year optional. A
date without a year is the next one not long past. Nothing here knows about Telegram.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.countries import Named, Unknown, read_countries
from db.refusal import Refusal
from schedules.countries import Country

TRIP_USAGE = (
    "Usage: /trip <country or city> <first day> - <last day>, for example:\n"
    "/trip Kazakhstan Almaty 3 Jan - 20 Jan\n/trip KZ 03/01-20/01/2027"
)
# Longer than this is no trip but a posting; the leads see postings through /subscribe.
MAX_TRIP_DAYS = 366
# A date without a year this many days past is taken as next year's.
PAST_GRACE = timedelta(days=7)

_MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MONTH = r"[A-Za-z]{3,9}\.?"
_DATE = (
    rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}"
    rf"|\d{{1,2}}[./]\d{{1,2}}(?:[./]\d{{2,4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)"
)
_RANGE_RE = re.compile(
    rf"(?P<first>{_DATE})\s*(?:-|–|—|to|till|until|through)\s*(?P<last>{_DATE})\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DayMonth:
    """A date as written: the year may be missing."""

    day: int
    month: int
    year: int | None


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def read_date(text: str) -> DayMonth:
    """One date as written; a `Refusal` for what is no date."""
    cleaned = " ".join(text.replace(",", " ").split())
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned):
        return _checked(int(m[3]), int(m[2]), int(m[1]), text)
    if m := re.fullmatch(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?", cleaned):
        return _checked(int(m[1]), int(m[2]), _year(m[3]) if m[3] else None, text)
    if m := re.fullmatch(
        r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?(?:\s+(\d{4}))?", cleaned, re.I
    ):
        return _checked(int(m[1]), _month(m[2], text), int(m[3]) if m[3] else None, text)
    if m := re.fullmatch(
        r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s+(\d{4}))?", cleaned, re.I
    ):
        return _checked(int(m[2]), _month(m[1], text), int(m[3]) if m[3] else None, text)
    raise Refusal(f"I can't read the date “{text[:40]}”. Write it like 3 Jan or 03/01/2027.")


def _month(name: str, text: str) -> int:
    number = _MONTHS.get(name.casefold())
    if number is None:
        raise Refusal(f"I can't read the month in “{text[:40]}”. Write it like 3 Jan.")
    return number


def _checked(day: int, month: int, year: int | None, text: str) -> DayMonth:
    try:
        date(year or 2028, month, day)  # 2028: a leap year, so 29 Feb passes here
    except ValueError:
        raise Refusal(f"“{text[:40]}” is not a date in the calendar.") from None
    return DayMonth(day, month, year)


def _on(value: DayMonth, year: int, text: str) -> date:
    try:
        return date(year, value.month, value.day)
    except ValueError:
        raise Refusal(f"“{text[:40]}” is not a date in {year}.") from None


def date_range(first_text: str, last_text: str, *, today: date) -> tuple[date, date]:
    """The first and last day of a stay; a `Refusal` for dates that make no trip."""
    first, last = read_date(first_text), read_date(last_text)
    if last.year is not None:
        end = _on(last, last.year, last_text)
        year = first.year or (
            end.year if (first.month, first.day) <= (end.month, end.day) else end.year - 1
        )
        start = _on(first, year, first_text)
    else:
        year = first.year or today.year
        start = _on(first, year, first_text)
        if first.year is None and start < today - PAST_GRACE:
            start = _on(first, year + 1, first_text)
        end = _on(last, start.year, last_text)
        if end < start:
            end = _on(last, start.year + 1, last_text)
    if end < start:
        raise Refusal(f"The trip ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y}).")
    if end < today:
        raise Refusal(f"That trip ended on {end:%d %b %Y}; only trips not over are recorded.")
    if (end - start).days + 1 > MAX_TRIP_DAYS:
        raise Refusal(
            f"That is {(end - start).days + 1} days; a trip is at most {MAX_TRIP_DAYS}. "
            "For a posting, /subscribe to the country instead."
        )
    return start, end


@dataclass(frozen=True)
class Destination:
    country: Country
    city: str | None


def read_destination(text: str) -> Destination:
    """The country and, if named, the city of a trip: "Kazakhstan Almaty", "Almaty", "KZ"."""
    if not text.strip():
        raise Refusal(f"Where to?\n{TRIP_USAGE}")
    read = read_countries(text)
    unknown = [r for r in read if isinstance(r, Unknown)]
    if unknown:
        hint = f" Did you mean {unknown[0].suggestion.label()}?" if unknown[0].suggestion else ""
        raise Refusal(f"I don't know the place “{unknown[0].text[:60]}”.{hint}\n{TRIP_USAGE}")
    named = [r for r in read if isinstance(r, Named)]
    countries = {n.country.code for n in named}
    if len(countries) > 1:
        listed = ", ".join(sorted(countries))
        raise Refusal(f"One trip goes to one country; that names {listed}. Send one /trip each.")
    city = next((n.city for n in named if n.city), None)
    return Destination(country=named[0].country, city=city)


@dataclass(frozen=True)
class TripRequest:
    destination: Destination
    first_day: date
    last_day: date
    traveller: str | None  # "@username" or an id, when a lead records someone else's trip


def parse_trip(text: str, *, today: date) -> TripRequest:
    """`/trip` arguments; a `Refusal` says what is wrong, before anything is written."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Refusal(TRIP_USAGE)
    traveller = None
    first_word, _, rest = cleaned.partition(" ")
    if first_word.startswith("@") or (first_word.lstrip("-").isdigit() and len(first_word) > 4):
        traveller, cleaned = first_word, rest
    m = _RANGE_RE.search(cleaned)
    if m is None:
        raise Refusal(f"When? I need a first and a last day.\n{TRIP_USAGE}")
    first_day, last_day = date_range(m["first"], m["last"], today=today)
    destination = read_destination(cleaned[: m.start()])
    return TripRequest(destination, first_day, last_day, traveller)
