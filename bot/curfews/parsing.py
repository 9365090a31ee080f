"""Reading what a lead typed: `/curfew_set <country or city> [area] <start>-<end> [from <date>]
[until <date>] [without a break]`.

A lead types a curfew once, the way they think of it: "Almaty 23:00-07:00 until 19/01",
"KZ 23h-7h until further notice". A curfew that does not lift in the morning ends with
"without a break": "LK 18:00-06:00 from 2 April until 4 April without a break" is one
curfew of 36 hours. A city is looked up in the gazetteer, which gives its
country and zone; a country whose zones all share one offset on the curfew's dates needs
no zone. What was read from words that could mean something else (a city's country, a
numeric date) is kept for the preview, so the lead checks it before confirming.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from db.refusal import Refusal
from schedules import zones
from schedules.countries import country_name, leading_country
from schedules.curfew_text import MAX_AREA, UNTIL_YEARS
from schedules.curfew_text.dates import days_in, read_date
from schedules.curfew_text.places import leading_place, places_named
from schedules.curfew_times import Window, parse_window

USAGE = (
    "Usage: /curfew_set <country or city> [area] <start>-<end> [on <days>] [from <date>] "
    "[until <date>] [without a break], for example:\n"
    "/curfew_set Almaty 23:00-07:00 until 19 January"
)
_UNBROKEN_RE = re.compile(r"\s+(?:without\s+a\s+break|non-?stop)\.?\s*$", re.IGNORECASE)
_DAYS_RE = re.compile(r"\s+(?P<days>(?:on|every)\s+[^\d:]+)$", re.IGNORECASE)
# The last "from": the window itself may start with one ("from 11pm to 7am").
_FROM_RE = re.compile(r"\s+from\s+(?P<day>(?:(?!\sfrom\s).)+)$", re.IGNORECASE)
# An open-ended curfew's zone must keep one offset for this long; a country's zones
# drifting apart later than that would be announced long before.
OPEN_ENDED_CHECK = timedelta(days=366)


@dataclass(frozen=True)
class CurfewRequest:
    country: str
    area: str | None
    zone: str
    window: Window
    until: date | None
    until_typed: str | None = None  # the end date as the lead wrote it
    place_note: str | None = None  # which of several places of that name was taken
    from_day: date | None = None  # the first night (or the start of an unbroken curfew)
    continuous: bool = False  # from the start on `from_day` to the end on `until`
    days: tuple[int, ...] | None = None  # the days of the week it starts on; None: every day


def parse_until(text: str, *, today: date) -> date:
    """`19 January`, `January 19`, `19 Jan 2022`, `2022-01-19`, `19/01/2027`, `19.01`;
    without a year, the next one."""
    cleaned = re.sub(r"\b(at least|the)\b", " ", text.strip(), flags=re.IGNORECASE)
    found = read_date(cleaned.strip().rstrip("."), today)
    if found is None:
        raise ValueError(
            f"I can't read the date “{text.strip()[:40]}”; write e.g. 19 January or 19/01/2027."
        )
    return found


def parse_curfew_request(raw: str, *, today: date) -> CurfewRequest:
    """`<country or city> [area] <window> [from <date>] [until <date> | until further
    notice] [without a break]`; a `Refusal` says in one line what is wrong."""
    text, first, until, until_text, unbroken = _dates(raw, today=today)
    text, days = _days(text)
    if days is not None and unbroken:
        raise Refusal("A curfew without a break has no days of the week: give its dates.")
    request = _place_and_window(text, first, until, until_text, unbroken, today=today)
    return replace(request, days=days) if days is not None else request


def _days(text: str) -> tuple[str, tuple[int, ...] | None]:
    """The days of the week the text ends with ("on weekends", "on Saturdays and
    Sundays", "every Friday"), and the text before them."""
    match = _DAYS_RE.search(text)
    if match is None:
        return text, None
    found = days_in(match["days"])
    if len(found) != 1:
        raise Refusal(
            f"I can't read the days “{match['days'][:40]}”; write e.g. on weekdays, on "
            "weekends or on Fridays and Saturdays."
        )
    days = found[0][1]
    return text[: match.start()], None if len(days) == 7 else days


def _dates(raw: str, *, today: date) -> tuple[str, date | None, date | None, str, bool]:
    """What is left of `raw` once its dates are read: the place and window; the first
    day, the last and how it was written; and whether the curfew is unbroken."""
    unbroken = _UNBROKEN_RE.search(raw)
    if unbroken is not None:
        raw = raw[: unbroken.start()]
    text, until_text = _split_until(raw)
    until = _until(until_text, today=today)
    first: date | None = None
    starting = _FROM_RE.search(text)
    if starting is not None:
        try:
            first = parse_until(starting["day"], today=today)
        except ValueError as error:
            if not _is_window(f"from {starting['day']}"):
                raise Refusal(str(error)) from None
        else:
            text = text[: starting.start()]
    if until is not None and first is not None and until < first:
        raise Refusal("That curfew ends before it starts: check the dates.")
    if unbroken is not None and until is None:
        raise Refusal(
            "A curfew without a break needs the date it ends, e.g. /curfew_set LK "
            "18:00-06:00 from 2 April until 4 April without a break."
        )
    return text, first, until, until_text, unbroken is not None


def _is_window(text: str) -> bool:
    try:
        parse_window(text)
    except ValueError:
        return False
    return True


def _place_and_window(
    text: str,
    first: date | None,
    until: date | None,
    until_text: str,
    unbroken: bool,
    *,
    today: date,
) -> CurfewRequest:
    if len(text.split()) < 2:
        raise Refusal(USAGE)
    try:
        country_found: tuple[str, str] | None = _code_and_rest(text)
        country_error = ""
    except ValueError as error:
        country_found, country_error = None, str(error)
    place = leading_place(text)
    # "Mexico City" is a city, not Mexico with an area "City": the longer reading wins.
    if place is not None and (
        country_found is None or place[2] > len(text.split()) - len(country_found[1].split())
    ):
        typed, hits, used = place
        chosen = hits[0]
        window, area = _window_and_area(text.split(maxsplit=used)[used:])
        if area is not None:
            raise Refusal(f"I can't read the curfew times “{area[:40]}”. {USAGE}")
        note = None
        others = [p for p in hits if p.country != chosen.country]
        if others:
            note = (
                f"“{typed}” is a place in several countries; I took the most populous, "
                f"in {country_name(chosen.country)}. For another, start with its country, "
                f"e.g. /curfew_set {others[0].country} {typed} {window.label()}"
            )
        return CurfewRequest(
            country=chosen.country,
            area=chosen.name,
            zone=chosen.zone,
            window=window,
            until=until,
            until_typed=until_text if until else None,
            place_note=note,
            from_day=first,
            continuous=unbroken,
        )
    if country_found is None:
        raise Refusal(f"{country_error}\n{USAGE}")
    code, after = country_found
    window, area = _window_and_area(after.split())
    if area is not None and len(area) > MAX_AREA:
        raise Refusal(f"That area name is {len(area)} characters; please keep it under {MAX_AREA}.")
    zone = _zone(code, area, today=today, until=until)
    if zone is None:
        options = ", ".join(zones.zones_for_country(code)[:12])
        where = f"“{area}”" if area else "the country as a whole"
        raise Refusal(
            f"{country_name(code)} has several time zones and {where} does not pick one. "
            f"Name the city or the zone, e.g. /curfew_set {code} "
            f"{options.split(', ')[0]} {window.label()}. Zones: {options}"
        )
    return CurfewRequest(
        country=code,
        area=area,
        zone=zone,
        window=window,
        until=until,
        until_typed=until_text if until else None,
        from_day=first,
        continuous=unbroken,
    )


def _code_and_rest(text: str) -> tuple[str, str]:
    country, after = leading_country(text)
    return country.code, after


def _window_and_area(rest: list[str]) -> tuple[Window, str | None]:
    """The window the words end with, and the words before it (the area), if any."""
    last_error = ""
    for i in range(len(rest)):
        try:
            window = parse_window(" ".join(rest[i:]))
        except ValueError as error:
            last_error = str(error)
            continue
        return window, " ".join(rest[:i]) or None
    detail = f" ({last_error})" if rest else ""
    raise Refusal(
        f"I can't read the curfew times{detail}. Write e.g. 23:00-07:00, 23h-7h or 11pm-7am."
    )


def _zone(code: str, area: str | None, *, today: date, until: date | None) -> str | None:
    """The area's zone (a zone's city, or a place the gazetteer knows in the country);
    else the country's first zone when all its zones keep one offset on the curfew's
    dates; else None."""
    named = zones.zone_for_area(code, area)
    if named is not None:
        return named
    if area:
        places = places_named(area, code)
        if places:
            return places[0].zone
    country_zones = zones.zones_for_country(code)
    if not country_zones:
        return None
    # From the start of today anywhere to the end of the last night anywhere.
    start = datetime.combine(today, time(0), tzinfo=UTC) - timedelta(days=1)
    last = until if until is not None else today + OPEN_ENDED_CHECK
    end = datetime.combine(last, time(0), tzinfo=UTC) + timedelta(days=3)
    return country_zones[0] if zones.one_offset(country_zones, start, end) else None


def _until(until_text: str, *, today: date) -> date | None:
    if not until_text or re.fullmatch(r"further\s+notice\.?", until_text, re.IGNORECASE):
        return None
    try:
        until = parse_until(until_text, today=today)
    except ValueError as error:
        raise Refusal(str(error)) from None
    if until < today:
        raise Refusal("That end date has already passed.")
    if until.year > today.year + UNTIL_YEARS:
        raise Refusal(f"That end date is more than {UNTIL_YEARS} years away.")
    return until


def _split_until(raw: str) -> tuple[str, str]:
    match = re.search(r"\s+until\s+", raw, flags=re.IGNORECASE)
    if match is None:
        return raw.strip(), ""
    return raw[: match.start()].strip(), raw[match.end() :].strip()


# -- reading how early a person wants to be reminded -----------------------------------
MIN_REMINDER_MINUTES = 1
MAX_REMINDER_MINUTES = 720  # 12 hours: an earlier reminder is no longer about this curfew
REMIND_USAGE = (
    "Usage: /remind 30, /remind 1h or /remind 1h30 (how long before each curfew starts), "
    "or /remind off"
)
_HOURS = r"(?:h|hr|hrs|hour|hours)"
_MINUTES = r"(?:m|min|mins|minute|minutes)?"
_REMINDER_RE = re.compile(
    rf"^(?:(?P<hours>\d{{1,3}})\s*{_HOURS}\s*(?:(?P<and>\d{{1,3}})\s*{_MINUTES})?"
    rf"|(?P<minutes>\d{{1,5}})\s*{_MINUTES})$",
    re.IGNORECASE,
)


def parse_reminder(text: str) -> int | None:
    """Minutes before a curfew starts ("30", "30m", "1h", "90 minutes", "1h30"), or None
    for "off"; a `Refusal` gives the usage, or the allowed range for a value outside it."""
    cleaned = " ".join(text.split())
    if cleaned.lower() == "off":
        return None
    match = _REMINDER_RE.match(cleaned) if cleaned.isascii() else None
    if match is None:
        raise Refusal(REMIND_USAGE)
    if match["minutes"] is not None:
        minutes = int(match["minutes"])
    else:
        minutes = int(match["hours"]) * 60 + int(match["and"] or 0)
    if not MIN_REMINDER_MINUTES <= minutes <= MAX_REMINDER_MINUTES:
        raise Refusal(
            f"Choose between {MIN_REMINDER_MINUTES} minute and {MAX_REMINDER_MINUTES} minutes "
            f"({MAX_REMINDER_MINUTES // 60} hours) before a curfew starts, or /remind off."
        )
    return minutes
