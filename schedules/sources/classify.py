"""Classification: how urgent an item is, and whether it tells people to leave.

A departure (government staff ordered or authorised to leave, people told to leave the
country now, US Level 4, FCDO advice against all travel to the whole country) outranks a
curfew, which outranks an embassy's security alert, which outranks a routine advisory.
Official prose is full of near misses ("the departure tax", "make plans to leave the
country", "lifted the ordered departure", "no reports of protests"), so the rules read
whole sentences and are tested against those phrases, and against a corpus of real FCDO
change descriptions (tests/schedules/sources/fcdo_changes.toml).

A travel advisory (State Department, GOV.UK page) is routine unless its words say
otherwise; for GOV.UK the change description is the news, so attacks, unrest and threats
named in it make a security alert. State Department advisories name "terrorism" and
"civil unrest" in their standing text, so for them only the level and departures count.
An embassy's alert or a plain feed's item is a security alert unless it is more.
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
# People told to go, in words other than the above: "British nationals should leave",
# "leave now", evacuation and charter flights, and the FCDO newly advising against all
# travel ("now advises against all travel to"; "all but essential" is not this).
_TOLD_TO_GO = re.compile(
    r"\b(?:British|UK|U\.S\.|US)\s+(?:nationals|citizens|people|tourists|travell?ers)\b"
    r".{0,60}?\b(?:should|must|are\s+(?:advised|urged|told)\s+to)\s+(?:now\s+)?"
    r"(?:consider\s+)?(?:leav(?:e|ing)|depart(?:ing)?|return(?:ing)?\s+(?:to\s+the\s+UK|home))\b"
    r"(?!\s+(?:only|if|when|once)\b)"
    r"|\bleave\s+now\b"
    r"|\bevacuation\s+(?:flights?|orders?|of\s+(?:British|UK|U\.S\.|foreign)|is\s+under\s*way)\b"
    r"|\b(?:charter|rescue|assisted\s+departure)\s+flights?\b"
    r"|\bevacuat(?:e|ed|ing)\s+(?:British|UK|U\.S\.|foreign|embassy)\b"
    r"|\b(?:now|has\s+(?:changed|updated)\s+its\s+(?:travel\s+)?advice\s+to)\s+"
    r"advis(?:es|e|ing)\s+against\s+all\s+travel\b",
    re.IGNORECASE,
)
# Standing or conditional wording of the same: "follow any evacuation orders", "if an
# evacuation is needed", "no longer advises against all travel".
_NOT_TOLD_TO_GO = re.compile(
    r"\b(?:any|possible|potential|future|in\s+case\s+of|if|should\s+there\s+be)\s+"
    r"(?:an?\s+)?evacuation\b"
    r"|\bno\s+longer\s+advis\w*\s+against\b"
    r"|\bremov(?:ed|al\s+of)\b",
    re.IGNORECASE,
)
# What makes a security alert of a change description: violence that happened or is
# threatened, and unrest. Whole words, so "attack" is not "heart attack" (_NOT_SECURITY),
# and industrial "strikes" or a "state of emergency" after a storm are not violence.
_SECURITY = re.compile(
    r"\b(?:attack(?:s|ed|ers?)?|shootings?|gunfire|gunm[ae]n"
    r"|shots?\s+(?:were\s+|was\s+|being\s+)?fired|open(?:ed)?\s+fire|exchanges?\s+of\s+fire"
    r"|rocket\s+fire|stabbings?|explosions?|explosives?|blasts?|bomb(?:s|ings?|ed)?|IEDs?"
    r"|rockets?|missiles?|(?:air|drone|missile)\s*strikes?|drone\s+attacks?"
    r"|shelling|mortars?|military\s+(?:action|operations?|activity|escalation)|hostilities"
    r"|fighting|armed\s+(?:clashes|conflict)|clashes|coup|insurgen\w*"
    r"|kidnap(?:s|ping|pings|ped)?|hostages?|abduct\w*"
    r"|unrest|riots?|rioting|looting|protests?|protesters?|demonstrations?|demonstrators?"
    r"|tear\s+gas|violence|violent|terroris[mt]s?|terror"
    r"|threat\s+(?:to|against)\s+(?:the\s+)?(?:British\s+)?(?:embassy|high\s+commission)"
    r"|state\s+of\s+siege|martial\s+law|security\s+incidents?)\b",
    re.IGNORECASE,
)
# Words that take the violence out of a sentence: it did not happen, is over, or was
# taken out of the advice ("no reports of protests", "the unrest has ended").
_SECURITY_DENIED = re.compile(
    r"\b(?:no|not|without)\s+(?:\w+\s+){0,3}?(?:reports?\s+of\s+)?(?:\w+\s+){0,2}?"
    r"(?:attacks?|protests?|demonstrations?|unrest|violence|incidents?)\b"
    r"|\b(?:ended|lifted|(?:is|are|now)\s+over|subsided|calmed|removed|removal|no\s+longer)\b",
    re.IGNORECASE,
)
# Not violence at all: medicine and wildlife.
_NOT_SECURITY = re.compile(r"\b(?:heart|panic|asthma|shark|dog|animal)\s+attacks?\b", re.IGNORECASE)
# A page's references to its own sections ("(See 'Summary' and 'Terrorism' pages)",
# "Terrorism section and summary –") say where the words are, not what happened.
_SECTION_REFERENCE = re.compile(
    r"\([^()]*\b(?:pages?|sections?|summary)\b[^()]*\)"
    r"|^[^.;:–—-]{0,80}?\b(?:sections?|pages?)\b[^.;:–—-]{0,40}?\s[–—-]\s",
    re.IGNORECASE | re.MULTILINE,
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
    if source_kind is SourceKind.US_STATE:
        return AlertKind.ADVISORY, False
    if source_kind in (SourceKind.FCDO, SourceKind.FCDO_GLOBAL):
        return (AlertKind.SECURITY if mentions_security(text) else AlertKind.ADVISORY), False
    return AlertKind.SECURITY, False


def mentions_security(text: str) -> bool:
    """Whether a sentence reports or warns of violence or unrest that is not denied or over."""
    for sentence in split_sentences(_SECTION_REFERENCE.sub(" ", text)):
        if _NOT_SECURITY.search(sentence):
            sentence = _NOT_SECURITY.sub(" ", sentence)
        if _SECURITY.search(sentence) and not _SECURITY_DENIED.search(sentence):
            return True
    return False


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
        if _TOLD_TO_GO.search(sentence) and not _NOT_TOLD_TO_GO.search(sentence):
            return True
        if _STAFF_DEPARTURE.search(sentence):
            if _DEPARTURE_LIFTED.search(sentence):
                lifted = True
            else:
                ordered = True
    return ordered and not lifted
