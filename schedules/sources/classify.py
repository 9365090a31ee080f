"""Classification: how urgent an item is, and whether it tells people to leave.

A departure (government staff ordered or authorised to leave, people told to leave the
country now, US Level 4, FCDO advice against all travel to the whole country) outranks a
curfew, which outranks an embassy's security alert, which outranks a routine advisory.
Official prose is full of near misses ("the departure tax", "make plans to leave the
country", "lifted the ordered departure"), so the rules read whole sentences and are
tested against those phrases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from schedules.sources.base import AlertKind, SourceKind
from schedules.sources.text import extract_curfew_text, split_sentences

WHOLE_COUNTRY_NO_TRAVEL = "avoid_all_travel_to_whole_country"

# Government staff sent away: "ordered departure", "authorized the voluntary departure of
# non-emergency employees", "ordered employees and their family members to leave".
_STAFF_DEPARTURE = re.compile(
    r"\b(?:ordered|authori[sz]ed|voluntary|mandatory)\s+(?:the\s+)?(?:voluntary\s+)?"
    r"departure\b"
    r"|\b(?:ordered|authori[sz]ed|directed|required)\b.{0,120}?"
    r"\b(?:employees|staff|personnel|family\s+members|dependents|dependants)\b"
    r".{0,60}?\bto\s+(?:leave|depart)\b",
    re.IGNORECASE,
)
# The same measure ended or denied: "lifting of ordered departure", "has not ordered".
_DEPARTURE_LIFTED = re.compile(
    r"\b(?:lift(?:ed|s|ing)?|end(?:ed|s|ing)?|terminat\w*|conclud\w*|rescind\w*|"
    r"cancell?(?:ed|s|ing)?|no\s+longer)\b"
    r"|\b(?:not|no|never)\s+(?:\w+\s+){0,2}(?:ordered|authori[sz]ed)\b",
    re.IGNORECASE,
)
# Where people are told to go: the country, a named place (capitalised), or "now".
_LEAVE_OBJECT = (
    r"(?:(?i:the\s+country|immediately|now|at\s+once|without\s+delay|as\s+soon\s+as)\b"
    r"|[A-Z][\w'’-]+(?:\s+(?:and\s+)?[A-Z][\w'’-]+){0,3})"
)
# People told to go now. "Make plans to leave the country" and "leave originals in your
# hotel safe" are standing advice and deliberately do not match.
_LEAVE_NOW = re.compile(
    rf"(?i:\b(?:should|must)\s+(?:try\s+to\s+)?(?:leave|depart))\s+{_LEAVE_OBJECT}"
    r"(?!\s+(?i:only|if|when|once)\b)"
    r"|(?i:\bleave)\s+(?:(?i:the\s+country)|[A-Z][\w'’-]+(?:\s+(?:and\s+)?[A-Z][\w'’-]+){0,3})"
    r"\s+(?i:immediately|now|at\s+once|without\s+delay|as\s+soon\s+as)\b"
    rf"|(?i:\burg(?:e|es|ed|ing)\b.{{0,60}}?\bto\s+(?:leave|depart))\s+{_LEAVE_OBJECT}"
)
# FCDO prose, for Atom entries that carry no alert status.
_WHOLE_COUNTRY_PROSE = re.compile(
    r"\bagainst\s+all\s+travel\s+to\s+(?:the\s+whole\s+(?:of\b|country\b)|all\s+(?:parts|areas)\s+of\b)",
    re.IGNORECASE,
)


def classify(
    text: str,
    *,
    level: int | None,
    alert_status: Sequence[str] = (),
    source_kind: SourceKind,
) -> tuple[AlertKind, bool]:
    """(kind, departure) for an item's plain text, its US level and its FCDO status."""
    departure = (
        level == 4
        or WHOLE_COUNTRY_NO_TRAVEL in alert_status
        or mentions_departure(text)
        or bool(_WHOLE_COUNTRY_PROSE.search(text))
    )
    if departure:
        return AlertKind.DEPARTURE, True
    if extract_curfew_text(text) is not None:
        return AlertKind.CURFEW, False
    if source_kind in (SourceKind.US_STATE, SourceKind.FCDO):
        return AlertKind.ADVISORY, False
    return AlertKind.SECURITY, False


def mentions_departure(text: str) -> bool:
    """Whether the text orders staff out or tells people to leave now.

    A staff departure counts only when no sentence of the same text lifts or ends one:
    advisories keep the history ("ordered departure on 25 March ... ended on 15 June"),
    and the lift is the news.
    """
    ordered = lifted = False
    for sentence in split_sentences(text):
        if _LEAVE_NOW.search(sentence):
            return True
        if _STAFF_DEPARTURE.search(sentence):
            if _DEPARTURE_LIFTED.search(sentence):
                lifted = True
            else:
                ordered = True
    return ordered and not lifted
