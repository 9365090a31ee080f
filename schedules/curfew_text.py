"""Curfew extraction: find curfew windows in the prose of travel advisories.

Advisories write curfews every which way: "a curfew from 2300 hrs to 0700 hrs",
"between the hours of 11 p.m. and 5 a.m.", "23:00–07:00 local time (17:00–01:00 UTC)
until at least 19 January". `find_curfews` pulls out each window with its end date, any
UTC window the text states, and the place it names, so a lead can confirm it rather
than type it. `parse_report` adds the zone and the UTC times from the tz database for a
given date, and says whether a stated UTC window agrees with it: advisories copy UTC
times from last year's text, after an offset change (Kazakhstan, 2024), more often than
one would like.

Only sentences that mention a curfew are read; a time range elsewhere (office hours,
flight times) is not a curfew. A window stated only in UTC, with no local times next to
it, is left out: the local window is what a curfew is stored as.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from schedules.countries import country_name, resolve_country
from schedules.curfew_times import (
    SEPARATOR_PATTERN,
    TIME_PATTERN,
    Window,
    occurrence,
    parse_clock,
)
from schedules.zones import is_valid_zone, zone_for_area, zones_for_country

_T = TypeVar("_T")


@dataclass(frozen=True)
class FoundCurfew:
    """One curfew window found in text.

    `window` is in local wall-clock time; `until` is the last local date named, resolved
    against the reference date; `stated_utc` is a UTC window the text gives next to it;
    `area` is the place the sentence names for it; `sentence` is where it was found.
    """

    window: Window
    until: date | None
    stated_utc: Window | None
    area: str | None
    sentence: str


# The longest area name kept (db.models.Curfew.area).
MAX_AREA = 100
# How far from the text's date an end date may lie; beyond it is a typo or garbage.
UNTIL_YEARS = 10

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_PATTERN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAY_PATTERN = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?"

_CURFEW_RE = re.compile(r"\bcurfew", re.IGNORECASE)
_ZONE_MARK = r"(?:\s?(?:UTC|GMT|Z)\b)"
_WINDOW_RE = re.compile(
    rf"(?P<a>{TIME_PATTERN})(?P<az>{_ZONE_MARK})?{SEPARATOR_PATTERN}"
    rf"(?P<b>{TIME_PATTERN})(?P<bz>{_ZONE_MARK})?",
    re.IGNORECASE,
)
_UNTIL_RE = re.compile(
    r"\b(?:until|till|til|through|thru|to|ending|ends?\s+on|expires?\s+on|expiring\s+on"
    r"|lifted\s+on)\s+(?:at\s+least\s+)?(?:the\s+)?(?:" + _WEEKDAY_PATTERN + r",?\s+)?"
    r"(?:(?P<iso>\d{4}-\d{2}-\d{2})\b"
    r"|(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>" + _MONTH_PATTERN + r")"
    r"|(?P<m2>" + _MONTH_PATTERN + r")\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?\b)"
    r"(?:,?\s+(?P<y>\d{4})\b(?![:.]\d))?",
    re.IGNORECASE,
)
# A place is a run of capitalised words after a preposition: "in Almaty", "across the
# Almaty Region", "in the city of New York".
_PLACE_RE = re.compile(
    r"\b(?i:in|across|throughout|around|within)\s+(?i:the\s+)?"
    r"(?i:(?:city|town|province|region|district|state|governorate|county)\s+of\s+)?"
    r"(?P<place>[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*)"
)
_NOT_PLACES = re.compile(
    rf"^(?:{_MONTH_PATTERN}|{_WEEKDAY_PATTERN}|UTC|GMT|local|the|a|an|this|these|it)$",
    re.IGNORECASE,
)
# What may stand between a window and its other-zone twin: "23:00-07:00 local time
# (17:00-01:00 UTC)", "1700-0100 GMT, 2300-0700 local", "... hrs [UTC: 1700-0100]".
_TWIN_GAP_RE = re.compile(
    r"^\s*(?:(?:hrs|hours|h)\b\.?\s*)?(?:local(?:\s+time)?\s*)?[(\[,/]\s*"
    r"(?:(?:UTC|GMT)\b\s*:?\s*|local(?:\s+time)?\s*:?\s*|i\.e\.\s*)?$",
    re.IGNORECASE,
)
_CLAUSE_BREAK_RE = re.compile(r";|,\s*(?:and|but|while|whereas)\b", re.IGNORECASE)
_SENTENCE_BREAK_RE = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘]?[A-Z])(?!UTC\b|GMT\b)")
_BLOCK_BREAK_RE = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•·]|\d+[.)])\s)")


def _sentences(text: str) -> Iterator[str]:
    # Paragraphs and list items are separate; a single newline inside a paragraph is
    # only line wrapping, so a sentence may run across it.
    for block in _BLOCK_BREAK_RE.split(text):
        flat = " ".join(block.split())
        for sentence in _SENTENCE_BREAK_RE.split(flat):
            if sentence:
                yield sentence


@dataclass(frozen=True)
class _Span:
    window: Window
    start: int
    end: int
    utc: bool


def _bracket_around(sentence: str, start: int, end: int) -> str | None:
    """The text of the bracket a match sits in, or None."""
    opened = max(sentence.rfind("(", 0, start), sentence.rfind("[", 0, start))
    closed = max(sentence.rfind(")", 0, start), sentence.rfind("]", 0, start))
    if opened <= closed:
        return None
    close_at = [i for i in (sentence.find(")", end), sentence.find("]", end)) if i >= 0]
    return sentence[opened + 1 : min(close_at) if close_at else len(sentence)]


def _looks_like_years(match: re.Match[str]) -> bool:
    """True for "2021-2022": a span of years, not 20:21 to 20:22."""
    a, b = match["a"].strip(), match["b"].strip()
    if not (a.isdigit() and b.isdigit() and len(a) == len(b) == 4):
        return False
    return a[:2] in ("19", "20") and 0 < int(b) - int(a) <= 10


def _spans(sentence: str) -> list[_Span]:
    spans: list[_Span] = []
    for match in _WINDOW_RE.finditer(sentence):
        if _looks_like_years(match):
            continue
        try:
            window = Window(start=parse_clock(match["a"]), end=parse_clock(match["b"]))
        except ValueError:
            continue  # "25:00", "13pm", equal ends: not a curfew window
        after = sentence[match.end() :]
        if match["az"] or match["bz"] or re.match(r"\s*(?:UTC|GMT|Zulu)\b", after, re.I):
            utc = True
        elif re.match(r"\s*local\b", after, re.IGNORECASE):
            utc = False
        else:
            bracket = _bracket_around(sentence, match.start(), match.end()) or ""
            utc = bool(re.search(r"\b(?:UTC|GMT)\b", bracket, re.IGNORECASE)) and not re.search(
                r"\blocal\b", bracket, re.IGNORECASE
            )
        spans.append(_Span(window=window, start=match.start(), end=match.end(), utc=utc))
    return spans


def _resolve_until(match: re.Match[str], reference: date) -> date | None:
    """The named date; without a year, the next one on or after `reference`.

    A year more than `UNTIL_YEARS` from the reference is a typo or garbage, not an end.
    """
    named = _named_until(match, reference)
    if named is None or abs(named.year - reference.year) > UNTIL_YEARS:
        return None
    return named


def _named_until(match: re.Match[str], reference: date) -> date | None:
    if match["iso"]:
        try:
            return date.fromisoformat(match["iso"])
        except ValueError:
            return None
    month = _MONTHS[(match["m1"] or match["m2"]).lower()[:3]]
    day = int(match["d1"] or match["d2"])
    try:
        if match["y"]:
            return date(int(match["y"]), month, day)
        # Eight years always reach a 29 February; other impossible dates never resolve.
        for year in range(reference.year, reference.year + 9):
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= reference:
                return candidate
    except ValueError:  # year outside what `date` holds
        return None
    return None


def _places(sentence: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for match in _PLACE_RE.finditer(sentence):
        words = match["place"].split()
        # Drop leading words that are not places ("in January", "in UTC").
        while words and _NOT_PLACES.match(words[0]):
            words = words[1:]
        place = " ".join(words).rstrip(".,'’-")
        # A country is not an area, and a run of capitals longer than a place name (a
        # shouted headline) is not one either; an area is stored in MAX_AREA characters.
        if place and len(place) <= MAX_AREA and resolve_country(place) is None:
            found.append((match.start("place"), place))
    return found


def _pick(spans: list[tuple[int, _T]], lo: int, start: int, end: int, hi: int) -> _T | None:
    """What belongs to the window at start..end inside lo..hi: the first thing after it,
    else the last thing before it, else (anywhere in the sentence) the last before it."""
    after = [value for pos, value in spans if end <= pos < hi]
    if after:
        return after[0]
    before = [value for pos, value in spans if lo <= pos < start]
    if before:
        return before[-1]
    anywhere_before = [value for pos, value in spans if pos < start]
    return anywhere_before[-1] if anywhere_before else None


def _pairs(sentence: str, spans: list[_Span]) -> Iterator[tuple[_Span, Window | None]]:
    """Each local window with the UTC window stated next to it, if any."""
    i = 0
    while i < len(spans):
        span = spans[i]
        twin = spans[i + 1] if i + 1 < len(spans) else None
        next_to = twin is not None and bool(_TWIN_GAP_RE.match(sentence[span.end : twin.start]))
        if twin is not None and next_to and span.utc != twin.utc:
            local, utc = (twin, span) if span.utc else (span, twin)
            yield local, utc.window
            i += 2
            continue
        if not span.utc:
            yield span, None
        i += 1


def find_curfews(text: str, *, reference: date) -> list[FoundCurfew]:
    """Every curfew window in `text`, in order of appearance, without exact repeats.

    Never raises on any input: text that cannot be read yields nothing.
    """
    found: list[FoundCurfew] = []
    for sentence in _sentences(text):
        if not _CURFEW_RE.search(sentence):
            continue
        spans = _spans(sentence)
        if not spans:
            continue
        breaks = [m.start() for m in _CLAUSE_BREAK_RE.finditer(sentence)]
        dates = [
            (m.start(), d)
            for m in _UNTIL_RE.finditer(sentence)
            if (d := _resolve_until(m, reference)) is not None
        ]
        places = _places(sentence)
        pairs = list(_pairs(sentence, spans))
        for index, (span, stated) in enumerate(pairs):
            # The window's own clause: bounded by its neighbours and by "; " / ", and".
            lo = max([0] + [b for b in breaks if b <= span.start])
            if index > 0:
                lo = max(lo, pairs[index - 1][0].end)
            hi = min([len(sentence)] + [b for b in breaks if b >= span.end])
            if index + 1 < len(pairs):
                hi = min(hi, pairs[index + 1][0].start)
            item = FoundCurfew(
                window=span.window,
                until=_pick(dates, lo, span.start, span.end, hi),
                stated_utc=stated,
                area=_pick(places, lo, span.start, span.end, hi),
                sentence=sentence,
            )
            if all(
                (f.window, f.until, f.stated_utc, f.area)
                != (item.window, item.until, item.stated_utc, item.area)
                for f in found
            ):
                found.append(item)
    return found


def utc_check(found: FoundCurfew, zone: str, day: date) -> bool | None:
    """Whether the stated UTC window agrees with the tz database for `zone` on `day`.

    None when the text stated no UTC window.
    """
    if found.stated_utc is None:
        return None
    occ = occurrence(zone, found.window, day)
    return (
        occ.starts_at.time() == found.stated_utc.start
        and occ.ends_at.time() == found.stated_utc.end
    )


def _zone_for(found: FoundCurfew, code: str) -> str:
    zone = zone_for_area(code, found.area) or zone_for_area(code, found.sentence)
    if zone is not None:
        return zone
    zones = zones_for_country(code)
    if not zones:
        raise ValueError(f"no time zone is known for {country_name(code)} ({code})")
    raise ValueError(
        f"{country_name(code)} has several time zones and the text does not say which "
        f"applies to {found.window.label()}; give one of: {', '.join(zones)}"
    )


def parse_report(
    text: str, *, country: str, day: date, zone: str | None = None
) -> list[dict[str, object]]:
    """The curfews in `text` as plain data, with UTC times for `day` from the tz database.

    `country` is a code or name ("KZ", "Kazakhstan"); `day` is both the date the UTC
    times are computed for and the reference for end dates without a year. The zone is
    `zone` when given, else the one an area in the sentence names, else the country's
    only zone. Raises ValueError for an unknown country or zone, or when the country has
    several zones and nothing decides (the message lists them).
    """
    if zone is not None and not is_valid_zone(zone):
        raise ValueError(f"unknown time zone: {zone!r}")
    resolved = resolve_country(country)
    if resolved is None:
        raise ValueError(f"unknown country: {country!r}")
    report: list[dict[str, object]] = []
    for found in find_curfews(text, reference=day):
        place_zone = zone if zone is not None else _zone_for(found, resolved.code)
        occ = occurrence(place_zone, found.window, day)
        stated = found.stated_utc
        report.append(
            {
                "start": f"{found.window.start:%H:%M}",
                "end": f"{found.window.end:%H:%M}",
                "zone": place_zone,
                "start_utc": f"{occ.starts_at:%H:%M}",
                "end_utc": f"{occ.ends_at:%H:%M}",
                "until": found.until.isoformat() if found.until else None,
                "stated_utc": (
                    {"start": f"{stated.start:%H:%M}", "end": f"{stated.end:%H:%M}"}
                    if stated
                    else None
                ),
                "utc_matches": utc_check(found, place_zone, day),
            }
        )
    return report
