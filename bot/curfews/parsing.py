"""Reading what a lead typed: `/curfew_set <country> [area] <start>-<end> [until <date>]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from db.refusal import Refusal
from schedules import zones
from schedules.countries import leading_country
from schedules.curfew_text import MAX_AREA, UNTIL_YEARS
from schedules.curfew_times import Window, parse_window

USAGE = (
    "Usage: /curfew_set <country> [area] <start>-<end> [until <date>], for example:\n"
    "/curfew_set KZ Almaty 23:00-07:00 until 19 January"
)


# -- reading what a lead typed -----------------------------------------------------------
@dataclass(frozen=True)
class CurfewRequest:
    country: str
    area: str | None
    zone: str
    window: Window
    until: date | None


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
_DAY_MONTH = ("%d %B", "%d %b", "%B %d", "%b %d")


def parse_until(text: str, *, today: date) -> date:
    """`19 January`, `January 19`, `19 Jan 2022`, `2022-01-19`; without a year, the next one."""
    cleaned = re.sub(r"[,.]|\b(at least|the|of)\b|(?<=\d)(st|nd|rd|th)\b", " ", text.strip())
    cleaned = " ".join(cleaned.split())
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, layout).date()  # noqa: DTZ007  # a date only
        except ValueError:
            pass
    for layout in _DAY_MONTH:
        try:
            # A leap year as the parsing base so "29 February" parses; the year is set below.
            parsed = datetime.strptime(f"{cleaned} 2000", f"{layout} %Y").date()  # noqa: DTZ007
        except ValueError:
            continue
        # Eight years always reach a 29 February; other impossible dates never resolve.
        for year in range(today.year, today.year + 9):
            try:
                candidate = parsed.replace(year=year)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    raise ValueError(f"I can't read the date “{text.strip()[:40]}”; write e.g. 19 January.")


def parse_curfew_request(raw: str, *, today: date) -> CurfewRequest:
    """`<country> [area] <window> [until <date>]`; a `Refusal` says in one line what is wrong."""
    text, until_text = _split_until(raw)
    words = text.split()
    if len(words) < 2:
        raise Refusal(USAGE)
    try:
        country, after = leading_country(text)
    except ValueError as error:
        raise Refusal(f"{error}\n{USAGE}") from None
    rest = after.split()
    last_error = ""
    for i in range(len(rest)):
        try:
            window = parse_window(" ".join(rest[i:]))
        except ValueError as error:
            last_error = str(error)
            continue
        area = " ".join(rest[:i]) or None
        break
    else:
        detail = f" ({last_error})" if rest else ""
        raise Refusal(f"I can't read the curfew times{detail}. Write e.g. 23:00-07:00 or 11pm-7am.")
    if area is not None and len(area) > MAX_AREA:
        raise Refusal(f"That area name is {len(area)} characters; please keep it under {MAX_AREA}.")
    zone = zones.zone_for_area(country.code, area)
    if zone is None:
        options = ", ".join(zones.zones_for_country(country.code)[:12])
        where = f"“{area}”" if area else "the country as a whole"
        raise Refusal(
            f"{country.name} has several time zones and {where} does not pick one. "
            f"Name the city or the zone, e.g. /curfew_set {country.code} "
            f"{options.split(', ')[0]} {window.label()}. Zones: {options}"
        )
    until = None
    if until_text:
        try:
            until = parse_until(until_text, today=today)
        except ValueError as error:
            raise Refusal(str(error)) from None
        if until < today:
            raise Refusal("That end date has already passed.")
        if until.year > today.year + UNTIL_YEARS:
            raise Refusal(f"That end date is more than {UNTIL_YEARS} years away.")
    return CurfewRequest(country=country.code, area=area, zone=zone, window=window, until=until)


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
