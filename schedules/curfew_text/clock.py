"""Clock times as alerts write them in prose, found anywhere in a text.

"2300", "23:00", "23.00", "23h00", "21H00", "11pm", "11.00 p.m.", "12 am", "midnight",
"noon", "ten in the evening", "21 heures", "8 de la noche". Each time found is a
`ClockToken` with its place in the text and whether the text marks it as UTC/GMT, as
local time, or as the time of some other place ("Moscow time"): only local times make a
curfew window, and UTC times are kept to be checked against the time-zone database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Literal

Kind = Literal["local", "utc", "foreign"]

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    # Spanish and French
    "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
}  # fmt: skip
# Words after an hour that say morning or evening, in English, French and Spanish.
_PM_WORDS = (
    r"(?:tonight|this\s+evening|ce\s+soir|esta\s+noche|in\s+the\s+(?:evening|afternoon)"
    r"|at\s+night|de\s+la\s+(?:noche|tarde)|du\s+soir|de\s+l'apr[eè]s-midi)"
)
_AM_WORDS = r"(?:in\s+the\s+morning|de\s+la\s+ma[ñn]ana|de\s+la\s+madrugada|du\s+matin)"
_MERIDIEM = r"(?:[ap]\.?\s?m\b\.?|" + _PM_WORDS + "|" + _AM_WORDS + ")"
_PM_RE = re.compile(r"p\.?\s?m\b|" + _PM_WORDS, re.IGNORECASE)
_NIGHT_RE = re.compile(r"at\s+night|de\s+la\s+noche|du\s+soir", re.IGNORECASE)
_AM_RE = re.compile(r"a\.?\s?m\b|" + _AM_WORDS, re.IGNORECASE)
_UNIT = r"(?:\s?(?:hrs|hours|hr|h|horas|heures|o'clock|o’clock)\b\.?)"
_NOT_AFTER = r"(?<![\d:.,/\w])"
_TOKEN_RE = re.compile(
    r"(?:"
    r"(?P<word>(?:12\s?)?(?:midnight|noon|midday|minuit|midi|medianoche|mediod[ií]a))\b"
    rf"|{_NOT_AFTER}(?P<hw>{'|'.join(_NUMBER_WORDS)})(?:\s+o['’]clock)?\s+{_MERIDIEM}"
    rf"|{_NOT_AFTER}(?P<h1>\d{{1,2}})(?:[:.hH](?P<m1>\d{{2}}))?{_UNIT}?\s?{_MERIDIEM}"
    rf"|{_NOT_AFTER}(?P<h2>\d{{1,2}})[:.hH](?P<m2>\d{{2}})(?![\d:]){_UNIT}?"
    rf"|{_NOT_AFTER}(?P<hhmm>\d{{4}})(?![\d:]){_UNIT}?"
    rf"|{_NOT_AFTER}(?P<h3>\d{{1,2}})(?:\s?(?:h|heures?|horas|hrs|o['’]clock)\b)"
    r")",
    re.IGNORECASE,
)
_MONTH_BEFORE_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|janv|févr|avr|mai|juin|juil|"
    r"août|sept|déc|ene|abr|ago|dic)[a-zéû]*\.?,?\s*(?:\d{1,2}(?:st|nd|rd|th|er)?,?\s*)?"
    r"(?:de\s+)?$",
    re.IGNORECASE,
)
_UTC_AFTER_RE = re.compile(r"\s*\(?\s*(?:UTC|GMT|Z\b|Zulu)", re.IGNORECASE)
_LOCAL_AFTER_RE = re.compile(r"\s*(?:hrs\.?\s*|hours\s*)?(?:local|heure locale|hora local)", re.I)
_FOREIGN_AFTER_RE = re.compile(r"\s*\(?\s*(?!local\b)(?:[A-Z][a-z]+\s+){1,2}time\b")


@dataclass(frozen=True)
class ClockToken:
    """A clock time in a text: `value`, its span, and what the text says it is."""

    value: time
    start: int
    end: int
    kind: Kind


def _value(match: re.Match[str]) -> time | None:
    if match["word"]:
        word = match["word"].lower()
        return time(12) if word.endswith(("noon", "midday", "midi", "día", "dia")) else time(0)
    if match["hhmm"]:
        hours, minutes = int(match["hhmm"][:2]), int(match["hhmm"][2:])
    else:
        raw = match["hw"] or match["h1"] or match["h2"] or match["h3"]
        hours = _NUMBER_WORDS[raw.lower()] if match["hw"] else int(raw)
        minutes = int(match["m1"] or match["m2"] or 0)
    if minutes > 59:
        return None
    # The meridiem follows the digits (or the number word); "12 am" is midnight.
    tail = (
        match.group(0)[len(match["hw"] or match["h1"] or "") :]
        if match["hw"] or match["h1"]
        else ""
    )
    pm = bool(_PM_RE.search(tail))
    am = not pm and bool(_AM_RE.search(tail))
    explicit = bool(re.search(r"[ap]\.?\s?m\b", tail, re.IGNORECASE))
    if (pm or am) and hours > 12 and not explicit:
        pm = am = False  # "22:00 tonight": already a 24-hour time
    if pm or am:
        if not 1 <= hours <= 12:
            return None
        # "twelve at night", "doce de la noche": midnight, not noon.
        night = pm and hours == 12 and bool(_NIGHT_RE.search(tail))
        hours = 0 if night else hours % 12 + (12 if pm else 0)
    elif hours == 24 and minutes == 0:
        hours = 0
    elif hours > 23:
        return None
    return time(hours, minutes)


def _bracket(text: str, start: int) -> str | None:
    """The text of the bracket that `start` sits in, or None."""
    opened = max(text.rfind("(", 0, start), text.rfind("[", 0, start))
    closed = max(text.rfind(")", 0, start), text.rfind("]", 0, start))
    if opened <= closed:
        return None
    ends = [i for i in (text.find(")", start), text.find("]", start)) if i >= 0]
    return text[opened + 1 : min(ends) if ends else len(text)]


def _kind(text: str, start: int, end: int) -> Kind:
    after = text[end : end + 40]
    if _UTC_AFTER_RE.match(after):
        return "utc"
    if _LOCAL_AFTER_RE.match(after):
        return "local"
    bracket = _bracket(text, start)
    if bracket is not None:
        if re.search(r"\blocal\b", bracket, re.IGNORECASE):
            return "local"
        if re.search(r"\b(?:UTC|GMT|Zulu)\b", bracket, re.IGNORECASE):
            return "utc"
        if re.search(r"\b[A-Z][a-z]+\s+time\b", bracket):
            return "foreign"
    if _FOREIGN_AFTER_RE.match(after):
        return "foreign"
    return "local"


def clock_tokens(text: str) -> list[ClockToken]:
    """Every clock time in `text`, in order; years and dates are not times."""
    found: list[ClockToken] = []
    for match in _TOKEN_RE.finditer(text):
        # "19 January 2022": a bare four-digit number after a month is a year.
        if (
            match["hhmm"]
            and not match.group(0)[4:].strip()
            and _MONTH_BEFORE_RE.search(text[max(0, match.start() - 20) : match.start()])
        ):
            continue
        value = _value(match)
        if value is None:
            continue
        found.append(
            ClockToken(value, match.start(), match.end(), _kind(text, match.start(), match.end()))
        )
    return found
