"""End dates and days of the week, read next to a curfew.

"until at least 19 January", "through January 24, 2021", "will end on 5 May",
"extended to 30 June", "until 19/01/2022", "jusqu'au 4 janvier", "hasta el 22 de abril";
a date without a year is the next one on or after the alert's date. Days: "on weekdays",
"Monday through Friday", "on weekends", "Saturdays, Sundays and holidays",
"de lunes a viernes".
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

# How far from the text's date an end date may lie; beyond it is a typo or garbage.
UNTIL_YEARS = 10

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    # French and Spanish names whose first letters differ from the English ones.
    "jav": 1, "fév": 2, "fev": 2, "avr": 4, "mai": 5, "jui": 6, "aoû": 8, "aou": 8,
    "déc": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12, "mars": 3, "juil": 7,
}  # fmt: skip
MONTH_PATTERN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    r"|d[ée]cembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre"
    r"|octubre|noviembre|diciembre)\b\.?"
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "lun": 0, "mar": 1, "mer": 2, "mié": 2, "mie": 2, "jeu": 3, "jue": 3, "ven": 4,
    "vie": 4, "sam": 5, "sáb": 5, "sab": 5, "dim": 6, "dom": 6,
}  # fmt: skip
DAY_PATTERN = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bados?|domingos?)s?\b\.?"
)
_DATE = (
    r"(?:(?P<iso>\d{4}-\d{2}-\d{2})\b"
    r"|(?P<nd>\d{1,2})[/.](?P<nm>\d{1,2})(?:[/.](?P<ny>\d{2,4}))?\b(?![:.]\d)"
    r"|(?P<d1>\d{1,2})(?:st|nd|rd|th|er)?\s+(?:of\s+|de\s+)?(?P<m1>" + MONTH_PATTERN + r")"
    r"|(?P<m2>" + MONTH_PATTERN + r")\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?\b)"
    r"(?:,?\s+(?:de\s+)?(?P<y>\d{4})\b(?![:.]\d))?"
)
_UNTIL_RE = re.compile(
    r"\b(?:until|till|til|through|thru|to|ending|ends?\s+on|will\s+end\s+on|expires?\s+on"
    r"|expiring\s+on|extended\s+(?:to|until|through)|jusqu['’]\s?au|jusqu['’]\s?à|au"
    r"|hasta(?:\s+el)?|al|(?:during|from|du|del)\s+\d{1,2}(?:st|nd|rd|th)?\s*[-–])\s*(?:at\s+least\s+)?(?:the\s+)?"
    r"(?:[\d:.]+\s*(?:[ap]\.?m\.?|hrs|h)?\s+(?:on\s+)?)?"
    r"(?:the\s+end\s+of\s+[^,.;\d]{1,30},?\s+(?:on\s+)?(?:approximately\s+|about\s+|around\s+)?)?"
    r"(?:" + DAY_PATTERN + r",?\s+\(?)?" + _DATE,
    re.IGNORECASE,
)


def _month(name: str) -> int:
    folded = name.lower().rstrip(".")
    for length in (4, 3):
        if folded[:length] in _MONTHS:
            return _MONTHS[folded[:length]]
    raise KeyError(name)


def _named(match: re.Match[str], reference: date) -> date | None:
    if match["iso"]:
        try:
            return date.fromisoformat(match["iso"])
        except ValueError:
            return None
    if match["nd"]:
        day, month = int(match["nd"]), int(match["nm"])
        year_text = match["ny"]
        year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    else:
        try:
            month = _month(match["m1"] or match["m2"])
        except KeyError:
            return None
        day = int(match["d1"] or match["d2"])
        year = int(match["y"]) if match["y"] else None
    try:
        if year is not None:
            return date(year, month, day)
        # Eight years always reach a 29 February; other impossible dates never resolve.
        for candidate_year in range(reference.year, reference.year + 9):
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if candidate >= reference:
                return candidate
    except ValueError:
        return None
    return None


_DATE_RE = re.compile(_DATE, re.IGNORECASE)


def read_date(text: str, reference: date) -> date | None:
    """A date written on its own ("19/01/2027", "19.01", "19 January", "2027-01-19"), a
    date without a year resolved forward from `reference`; None when it is not one."""
    match = _DATE_RE.fullmatch(" ".join(text.split()))
    return None if match is None else _named(match, reference)


def end_dates(text: str, reference: date) -> list[tuple[int, int, date]]:
    """Each end date named in `text`: (start, end, date), resolved forward from
    `reference`; a year more than `UNTIL_YEARS` away is a typo or garbage, not an end."""
    found: list[tuple[int, int, date]] = []
    for match in _UNTIL_RE.finditer(text):
        named = _named(match, reference)
        if named is not None and abs(named.year - reference.year) <= UNTIL_YEARS:
            found.append((match.start(), match.end(), named))
    return found


_WEEKDAYS_RE = re.compile(
    r"\bweek\s?days?\b|\b(?:jours? de|en) semaine\b|\bd[ií]as? h[áa]biles\b", re.I
)
# "on weekends", "at the weekend", "le week-end"; not "the weekend lockdown".
_WEEKEND_RE = re.compile(
    r"\b(?:on|at|over|during|every|each|for)\s+(?:the\s+)?week-?ends?\b|\bweek-?ends\b"
    r"|\ble\s+week-?end\b|\b(?:los\s+|el\s+)?fin(?:es)?\s+de\s+semana\b",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(
    rf"(?P<a>{DAY_PATTERN})\s*(?:to|through|thru|till|until|-|–|au|a|al|à)\s*(?P<b>{DAY_PATTERN})",
    re.IGNORECASE,
)
# A plural day ("Fridays") or one after "every"/"each"/"on" is a day of the week; a day
# followed by a date ("Sunday, November 20", "Thursday (May 12)") is a date.
_DAY_RE = re.compile(
    rf"(?:(?P<every>every|each|les|los)\s+)?(?P<d>{DAY_PATTERN})(?!,?\s*\(?\s*(?:\d|{MONTH_PATTERN}))",
    re.IGNORECASE,
)


_JOIN_RE = re.compile(r"\s*(?:,|&|and|y|et|e)?\s*(?:,|&|and|y|et|e)?\s*", re.IGNORECASE)


def _day_number(name: str) -> int:
    # Every name DAY_PATTERN matches has three letters or more, the first three its key.
    return _DAY_NAMES[name.lower()[:3]]


def _span(a: int, b: int) -> tuple[int, ...]:
    return tuple(sorted((a + i) % 7 for i in range((b - a) % 7 + 1)))


def days_in(text: str) -> list[tuple[int, tuple[int, ...]]]:
    """Day-of-week expressions in `text`: (position, days), days numbered Mon=0."""
    found: list[tuple[int, tuple[int, ...]]] = []
    taken: list[tuple[int, int]] = []
    for match in _RANGE_RE.finditer(text):
        found.append((match.start(), _span(_day_number(match["a"]), _day_number(match["b"]))))
        taken.append(match.span())
    for match in _WEEKDAYS_RE.finditer(text):
        found.append((match.start(), (0, 1, 2, 3, 4)))
    for match in _WEEKEND_RE.finditer(text):
        found.append((match.start(), (5, 6)))
    # A day counts when plural ("Fridays"), after "every"/"each", or joined to another
    # by "and"/","/"y"/"et" ("Saturday and Sunday"); "on Friday" alone is a date.
    named: list[tuple[int, int, int, bool]] = []
    for match in _DAY_RE.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        word = match["d"].rstrip(".")
        plural = word.lower().endswith("s") and not word.lower().endswith(("tues", "thurs"))
        named.append(
            (match.start(), match.end(), _day_number(word), plural or bool(match["every"]))
        )
    groups: list[list[tuple[int, int, int, bool]]] = []
    for item in named:
        if groups and _JOIN_RE.fullmatch(text[groups[-1][-1][1] : item[0]]):
            groups[-1].append(item)
        else:
            groups.append([item])
    for group in groups:
        if len(group) > 1 or group[0][3]:
            found.append((group[0][0], tuple(sorted({d for _, _, d, _ in group}))))
    return sorted(found)


_ON_DATE_RE = re.compile(
    r"^\s*(?:local\s+time\s*)?(?:on|le|el)\s+(?:" + DAY_PATTERN + r",?\s+)?" + _DATE, re.I
)
_DAY_AFTER_RE = re.compile(
    r"\s*(?:on|del?|du|le|el)?\s*(?:este|ce|this)?\s*(?P<d>" + DAY_PATTERN + r")", re.IGNORECASE
)


def _after_first(text: str, start: int, end: int) -> str:
    """What follows the first clock time of a window, up to its end."""
    inner = text[start:end]
    cut = re.search(r"\d{1,4}(?:[:.h]\d\d)?(?:\s*[ap]\.?m\.?)?", inner)
    return inner[cut.end() :] if cut else ""


_DAY_BEFORE_RE = re.compile(r"(?P<d>" + DAY_PATTERN + r")\s*(?:at\s+)?$", re.IGNORECASE)


def one_night_end(text: str, start: int, end: int, reference: date) -> date | None:
    """The last date of a window for one day or night only: "from 0200-2359 local time on
    5 April", "de mardi 18h à mercredi 06h"; None for a daily window."""
    on = _ON_DATE_RE.match(text[end : end + 60])
    if on is not None:
        return _named(on, reference)
    # A weekday written at each end: "de mardi 18h à mercredi 06h", "from 22:00 this
    # Saturday until 7:00 a.m. on Sunday".
    first = _DAY_BEFORE_RE.search(text[max(0, start - 15) : start]) or _DAY_AFTER_RE.match(
        _after_first(text, start, end)
    )
    last = _DAY_AFTER_RE.match(text[end : end + 30])
    if last is None:
        # "de mardi 18h à mercredi 06h": the last weekday inside the window, when it is
        # not the one the start already named.
        inside = list(re.finditer(r"(?P<d>" + DAY_PATTERN + r")", text[start:end], re.I))
        last = inside[-1] if inside else None
    if first is None or last is None:
        return None
    weekday = _day_number(last["d"])
    return reference + timedelta(days=(weekday - reference.weekday()) % 7)


# A day named at one end of a window: after its clock time ("6 pm on Friday", "6:00 PM
# today (Saturday, April 2)", "06:00 on the 27th of April") ...
_DAY_NEXT_RE = re.compile(
    r"^[\s,(]*(?:local\s+time\b[\s,(]*)?"
    r"(?:(?P<today>today|tonight|aujourd['’]hui|ce\s+soir|hoy|esta\s+noche)\b[\s,(]*)?"
    r"(?:(?:on|le|el|this|ce|este)\s+)?(?:the\s+)?"
    r"(?:(?P<wd>" + DAY_PATTERN + r")[\s,(]*)?(?:" + _DATE + r")?",
    re.IGNORECASE,
)
# ... or before it ("from Friday 8 pm", "de vendredi 18h à lundi 6h", "until Monday at 6").
_DAY_PREVIOUS_RE = re.compile(
    r"(?:(?P<wd>" + DAY_PATTERN + r")[\s,(]*)?(?:" + _DATE + r")?[\s,)]*"
    r"(?:at|à|a\s+las?)?\s*$",
    re.IGNORECASE,
)
# Words that make a window with a day at each end nightly after all.
_NIGHTLY_RE = re.compile(
    r"\b(?:nightly|every\s+night|each\s+night|daily|every\s+day|each\s+day|per\s+night"
    r"|chaque\s+(?:nuit|soir|jour)|tous\s+les\s+(?:soirs|jours)|cada\s+(?:noche|d[ií]a)"
    r"|todas\s+las\s+noches|todos\s+los\s+d[ií]as)\b",
    re.IGNORECASE,
)


def _day_named(match: re.Match[str] | None, reference: date, after: date) -> date | None:
    """The date a `_DAY_NEXT_RE` or `_DAY_PREVIOUS_RE` match names: its date; else
    "today"; else its weekday, the first on or after `after`."""
    if match is None:
        return None
    if any(match[g] for g in ("iso", "nd", "d1", "m2")):
        return _named(match, reference)
    if "today" in match.groupdict() and match["today"]:
        return reference
    if match["wd"]:
        weekday = _day_number(match["wd"])
        return after + timedelta(days=(weekday - after.weekday()) % 7)
    return None


def unbroken_days(
    text: str, start: int, end: int, first: time, last: time, reference: date
) -> tuple[date, date] | None:
    """The first and last dates of a curfew that does not lift in between: "from 6 pm
    on Saturday until 6 am on Monday", "from 6:00 PM today (Saturday, April 2) until
    6:00 AM on Monday, April 4", "de vendredi 18h à lundi 6h". A day or date must be
    named at each end of the window (`text[start:end]`, from clock time `first` to
    `last`), and the two more than 24 hours apart; None otherwise (a nightly window, or
    one night: "from 10 pm Friday to 5 am Saturday")."""
    inner = text[start:end]
    times = list(
        re.finditer(
            r"\d{1,4}(?:[:.h]\d\d)?(?:\s*[ap]\.?\s?m\b\.?)?|\b(?:midnight|noon|midday)\b",
            inner,
            re.I,
        )
    )
    if len(times) < 2 or _NIGHTLY_RE.search(text):
        return None
    gap_from, gap_to = start + times[0].end(), start + times[-1].start()
    gap = text[gap_from:gap_to]
    opening = _DAY_NEXT_RE.match(gap)
    if opening is None or not any(opening[g] for g in ("today", "wd", "iso", "nd", "d1", "m2")):
        opening = _DAY_PREVIOUS_RE.search(text[max(0, start - 30) : start])
    first_day = _day_named(opening, reference, reference)
    closing = _DAY_NEXT_RE.match(text[end : end + 60])
    if closing is None or not any(closing[g] for g in ("wd", "iso", "nd", "d1", "m2")):
        # Not "today": the end's own day is named ("until Monday at 6 am").
        closing = _DAY_PREVIOUS_RE.search(gap)
    if first_day is None:
        return None
    last_day = _day_named(closing, reference, first_day)
    if last_day is None:
        return None
    hours = (
        datetime.combine(last_day, last) - datetime.combine(first_day, first)
    ).total_seconds() / 3600
    return (first_day, last_day) if hours > 24 else None
