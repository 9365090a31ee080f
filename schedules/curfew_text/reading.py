"""Reading a whole alert: each curfew statement with its times, place, days and dates.

An alert is read sentence by sentence, but a curfew statement borrows from around it:
the window may be in the next sentence ("A curfew has been declared. Movement is
banned from 10 pm to 5 am."), and the place, the end date and the days may sit in
another clause or sentence. What a statement says is classified before its windows are
offered:
- lifted, suspended or ended, with no times: a `Lift`, and no window;
- only a mention ("a curfew is not ruled out", "there is no curfew"): nothing;
- relaxation hours ("relaxed from 7 am to 8 pm"): the complement, 20:00-07:00;
- a superseded or past window ("instead of 11 pm", "from 10pm-5am to 11pm-5am",
  "had been in force from ..."): not offered when a current one is there;
- another country's curfew (a regional report): left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import TypeVar

from schedules.countries import countries_named_in, resolve_country
from schedules.curfew_text.clock import ClockToken, clock_tokens
from schedules.curfew_text.dates import days_in, end_dates, one_night_end, unbroken_days
from schedules.curfew_text.places import Mention, places_in
from schedules.curfew_times import Window

_T = TypeVar("_T")

# The longest area name kept (db.models.Curfew.area).
MAX_AREA = 100


@dataclass(frozen=True)
class FoundCurfew:
    """One curfew window found in a text.

    `window` is local wall-clock time; `days` the days of the week it applies to (Mon=0),
    None for every day; `until` the last local date named; `stated_start`/`stated_end`
    the UTC times the text gives for its ends (`stated_utc` when it gives both); `area`
    the place named for it; `zone` the zone the gazetteer gives that place, when the
    country is known; `sentence` where the window was found. With `from_day`, the curfew
    does not lift in between: it runs from the window's start on `from_day` to its end
    on `until` ("from 6 pm on Saturday until 6 am on Monday").
    """

    window: Window
    until: date | None
    stated_utc: Window | None
    area: str | None
    sentence: str
    days: tuple[int, ...] | None = None
    stated_start: time | None = None
    stated_end: time | None = None
    zone: str | None = None
    # Zones the text leaves out ("all of Spain except the Canary Islands").
    excluded: tuple[str, ...] = ()
    from_day: date | None = None


@dataclass(frozen=True)
class Lift:
    """A curfew the text says is lifted, suspended or over; `area` when it names one."""

    area: str | None
    zone: str | None
    sentence: str


@dataclass(frozen=True)
class Reading:
    curfews: list[FoundCurfew] = field(default_factory=list)
    lifts: list[Lift] = field(default_factory=list)


_CURFEW_RE = re.compile(r"\bcurfews?\b|couvre-feux?|toques? de queda", re.IGNORECASE)
_NEGATED_RE = re.compile(
    r"\bno\s+(?:\w+\s+)?curfew|\bnot\s+(?:be\s+|been\s+)?(?:ruled\s+out|imposed|declared"
    r"|in\s+(?:force|effect|place))|\bthere\s+is\s+no\b|\bno\s+(?:plans?|decision)\b"
    r"|\b(?:could|may|might)\s+(?:\w+\s+)?(?:impose|declare|introduce)|\bconsider(?:s|ing)?\s+"
    r"(?:a\s+|imposing\s+)|\bpossibility\s+of\b|\bthreaten\w*|\brumou?rs?\b"
    r"|\bpas\s+de\s+couvre-feu|\bno\s+hay\s+toque",
    re.IGNORECASE,
)
_LIFTED_RE = re.compile(
    r"\b(?:lift|lifted|lifts|lifting|suspended|revoked|rescinded|removed|abolished|cancell?ed"
    r"|scrapped|has\s+ended|was\s+ended|ended\s+(?:on|at|today)|no\s+longer\s+(?:in\s+(?:force"
    r"|effect|place)|applies)|lev[ée]e?s?|levant[óo]|levantad[oa]|suspendid[oa]|finaliz[óo])\b",
    re.IGNORECASE,
)
_NOT_A_LIFT_RE = re.compile(
    r"\buntil\s+(?:(?:the\s+)?\w+\s+){0,2}(?:is\s+|are\s+|has\s+been\s+)?(?:lifted|revoked"
    r"|rescinded|cancell?ed|suspended)\b|\b(?:until|till|before|when|once|after)\s+(?:the\s+)?(?:\w+\s+){0,2}(?:is|are|has\s+been"
    r"|have\s+been|gets)\s+lifted|\bre-?imposed\b",
    re.IGNORECASE,
)
# Who or what may move during the curfew, and when: not the curfew's own hours.
_EXEMPTION_RE = re.compile(
    r"\b(?:permitted|allowed|exempt\w*|authori[sz]ed)\b[^.;]{0,60}\bduring\s+(?:the\s+)?curfew"
    r"|\bexempt\w*\s+from\s+(?:the\s+)?curfew",
    re.IGNORECASE,
)
_STILL_RE = re.compile(
    r"\b(?:remains?|still|continues?|re-?impos\w*|new|reinstat\w*|maintain\w*)\b", re.IGNORECASE
)
_EXCEPT_RE = re.compile(
    r"\b(?:except|excluding|apart\s+from|sauf|excepto|salvo)\b[^.;]{0,15}$", re.I
)
_LIST_JOIN_RE = re.compile(r"[\s,]*(?:and|y|et|&)?[\s,]*", re.IGNORECASE)
_HISTORY_RE = re.compile(
    r"\bhad\b|\bpreviously\b|\bformerly\b|\binitially\b|\boriginally\b|\bearlier\b"
    r"|\blater\s+reviewed\b|\bsince\s+(?:mid-)?\w+\s+\d{4}\b|\bsuccessivement\b|\bauparavant\b"
    r"|\bpr[ée]c[ée]demment\b|\binitialement\b|\banteriormente\b|\bpreviamente\b"
    r"|\binicialmente\b",
    re.IGNORECASE,
)
_CHANGE_RE = re.compile(
    r"\b(?:chang\w+|pushed\s+back|brought\s+forward|moved|modif\w+|reduc\w+|shorten\w+"
    r"|revis\w+|adjust\w+|amend\w+|now|new\s+(?:curfew\s+)?hours|instead\s+of"
    r"|rather\s+than|au\s+lieu\s+de|en\s+lugar\s+de|en\s+vez\s+de|nouveaux?\s+horaires?"
    r"|nuevo\s+horario)\b",
    re.IGNORECASE,
)
_RELAX_RE = re.compile(
    r"(?:\blifted(?:(?!curfew|couvre|toque)[^.;]){0,30}$|\b(?:relax\w*|eas(?:ed|ing)|free\s+movement|(?:allowed|permitted)\s+to\s+(?:move"
    r"|go\s+out|leave)|(?:can|may)\s+(?:go\s+out|move\s+freely|leave\s+(?:home|their))"
    r"|movement\s+is\s+(?:allowed|permitted)|libre\s+circulation|libre\s+tr[áa]nsito"
    r"|assoupli\w*|flexibiliz\w*)\b[^.;]{0,100}?$)",
    re.IGNORECASE,
)
_SUPERSEDED_BEFORE_RE = re.compile(
    r"(?:instead\s+of|rather\s+than|replacing|au\s+lieu\s+de|en\s+lugar\s+de|en\s+vez\s+de"
    r"|down\s+from|up\s+from|change\s+from)\s+(?:the\s+)?(?:previous\s+|earlier\s+|old\s+)?(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_NATIONWIDE_RE = re.compile(
    r"\b(?:nation-?wide|country-?wide|island-?wide|entire\s+country|whole\s+country"
    r"|(?:across|throughout)\s+the\s+country|national\s+(?:curfew|level)|all\s+(?:provinces"
    r"|regions|states)|todo\s+el\s+(?:territorio|pa[ií]s)|tout\s+le\s+(?:territoire|pays)"
    r"|nivel\s+nacional|territorio\s+nacional|national\s+territory|elsewhere|ailleurs"
    r"|resto\s+del\s+pa[ií]s)\b",
    re.IGNORECASE,
)
_CONNECTOR_RE = re.compile(
    r"[-–—]|\b(?:to|until|till|til|through|thru|and|à|au|a|hasta|y|et|jusqu\w*)\b"
    r"|\bend(?:s|ing)?\s+at\b",
    re.IGNORECASE,
)
_GAP_STOP_RE = re.compile(r";|\b(?:from|between|curfew|entre|desde|de\s+\d)\b", re.IGNORECASE)
_BRACKETS_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_ASIDE_RE = re.compile(
    r"(?:instead\s+of|rather\s+than|au\s+lieu\s+de|en\s+lugar\s+de|en\s+vez\s+de)\s+[^,;]*",
    re.IGNORECASE,
)
_TWIN_GAP_RE = re.compile(
    r"^\s*(?:(?:Z|UTC|GMT|Zulu)\b\.?)?\s*(?:(?:hrs|hours|h)\b\.?\s*)?(?:local(?:\s+time)?\s*)?[(\[,/]?\s*"
    r"(?:(?:UTC|GMT)\b\s*:?\s*|local(?:\s+time)?\s*:?\s*|i\.e\.\s*)?[)\]]?\s*[(\[]?\s*$",
    re.IGNORECASE,
)
_SUPERSEDED_WINDOW_GAP_RE = re.compile(
    r"^\s*(?:hrs\.?\s*)?(?:local\s+time\s*)?,?\s*(?:to|into|à|a|por)\s+(?:the\s+)?(?:new\s+)?"
    r"(?:hours\s+of\s+)?(?:from\s+|between\s+|de\s+)?$",
    re.IGNORECASE,
)
# Not after "p.m." when one day or a date follows: "from 10 p.m. Friday to 5 a.m.
# Saturday", "6 p.m. Friday, 4 December"; "5 a.m. Saturdays and Sundays ..." is another.
_SENTENCE_BREAK_RE = re.compile(
    r"(?<=[.!?])\s+(?=[\"'“‘(]?[A-ZÀ-Þ])(?!UTC\b|GMT\b)"
    r"(?!(?<=[ap]\.m\.\s)(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b(?!s)"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s\d))"
)
_BLOCK_BREAK_RE = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•·–]|\d+[.)])\s)|\n(?=[A-Z][^\n:\d]{0,40}:\s)")
_OUR_POST_RE = re.compile(
    r"\b(?:U\.\s?S\.|US|United\s+States|UK|British|American)\s+(?:\w+\s+)?(?:Embassy|Consulate"
    r"|Mission|government|citizens?|nationals?|personnel|staff|Department)",
    re.IGNORECASE,
)
_CLAUSE_BREAK_RE = re.compile(r";|,\s*(?:and|but|while|whereas|y|e|pero|et|mais)\b", re.I)
_PLACE_RE = re.compile(
    r"\b(?i:in|across|throughout|around|within)\s+(?i:the\s+)?"
    r"(?i:(?:city|town|province|region|district|state|governorate|county)\s+of\s+)?"
    r"(?P<place>[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*)"
)
_NOT_PLACES = re.compile(
    r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)"
    r"\w*\.?$|^(?:UTC|GMT|local|the|a|an|this|these|it|midnight|noon|midday)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Sentence:
    block: int
    text: str


def _sentences(text: str) -> list[_Sentence]:
    # Paragraphs, list items and "Label:" lines are separate; a single newline inside a
    # paragraph is only line wrapping, so a sentence may run across it.
    found: list[_Sentence] = []
    for number, block in enumerate(_BLOCK_BREAK_RE.split(text)):
        flat = " ".join(block.split())
        for sentence in _SENTENCE_BREAK_RE.split(flat):
            if sentence:
                found.append(_Sentence(number, sentence))
    return found


@dataclass(frozen=True)
class _Window:
    window: Window
    start: int
    end: int
    stated_start: time | None
    stated_end: time | None


def _is_years(sentence: str, a: ClockToken, b: ClockToken) -> bool:
    """True for "2021-2022": a span of years, not 20:21 to 20:22."""
    ra, rb = sentence[a.start : a.end].strip(), sentence[b.start : b.end].strip()
    if not (ra.isdigit() and rb.isdigit() and len(ra) == len(rb) == 4):
        return False
    return ra[:2] in ("19", "20") and 0 < int(rb) - int(ra) <= 10


def _joined(sentence: str, a: ClockToken, b: ClockToken) -> bool:
    """Whether two times make one window: a connector between them ("to", "-", "and",
    "and last until"), and nothing that starts another window or another matter."""
    gap = _ASIDE_RE.sub(" ", _BRACKETS_RE.sub(" ", sentence[a.end : b.start]))
    if len(gap) > 70 or _GAP_STOP_RE.search(gap):
        return False
    return bool(_CONNECTOR_RE.search(gap)) and not _is_years(sentence, a, b)


def _twin_gap(gap: str) -> bool:
    """Whether what stands between a window and another-zone window of it is only a
    label: "local time (", ", i.e. ", ", currently ", "GMT, " ."""
    if _TWIN_GAP_RE.match(gap):
        return True
    rest = re.sub(r"\b(?:Z|UTC|GMT|Zulu|local|time|hrs|hours|i\.e)\b\.?|[()\[\],/:;.]", " ", gap)
    words = rest.split()
    return (
        len(gap) <= 30
        and len(words) <= 2
        and not any(
            w.lower() in {"and", "from", "between", "to", "until", "curfew", "y", "et"}
            for w in words
        )
    )


def _pairs(sentence: str, tokens: list[ClockToken]) -> list[tuple[ClockToken, ClockToken]]:
    pairs: list[tuple[ClockToken, ClockToken]] = []
    i = 0
    while i + 1 < len(tokens):
        a, b = tokens[i], tokens[i + 1]
        if a.value != b.value and _joined(sentence, a, b):
            pairs.append((a, b))
            i += 2
        else:
            i += 1
    return pairs


def _windows(sentence: str) -> list[_Window]:
    tokens = [t for t in clock_tokens(sentence) if t.kind != "foreign"]
    # "1700-0100 GMT": the zone written once, after both ends.
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        gap = sentence[a.end : b.start]
        if (
            a.kind == "local"
            and b.kind == "utc"
            and re.fullmatch(r"\s*(?:[-–—]|to)\s*", gap)
            and not re.match(r"\s*local", sentence[a.end : a.end + 12], re.IGNORECASE)
        ):
            tokens[i] = replace(a, kind="utc")
    current = [
        t
        for t in tokens
        if not _SUPERSEDED_BEFORE_RE.search(sentence[max(0, t.start - 40) : t.start])
    ]
    local = [t for t in current if t.kind == "local"]
    utc = [t for t in current if t.kind == "utc"]
    # A UTC window is two UTC times with no local time between them; otherwise each
    # belongs to the local time it follows ("begin at 2100 (1900 GMT) ... 0600 (0400 GMT)").
    utc_pairs = [
        (c, d)
        for c, d in _pairs(sentence, utc)
        if not any(c.end <= t.start and t.end <= d.start for t in local)
    ]
    paired_utc = {id(t) for pair in utc_pairs for t in pair}
    found: list[_Window] = []
    for a, b in _pairs(sentence, local):
        stated_start: time | None = None
        stated_end: time | None = None
        # A UTC window right before or after ("2300-0700 local time (1700-0100 UTC)").
        for c, d in utc_pairs:
            after = c.start >= b.end and _twin_gap(sentence[b.end : c.start])
            before = d.end <= a.start and _twin_gap(sentence[d.end : a.start])
            if after or before:
                stated_start, stated_end = c.value, d.value
                break
        # Or each end followed by its own ("begin at 2100 (1900 GMT) ...").
        for token, slot in ((a, "start"), (b, "end")):
            for u in utc:
                if id(u) in paired_utc or u.start < token.end:
                    continue
                if u.start - token.end <= 25 and re.fullmatch(
                    r"[\s(\[]*(?:local(?:\s+time)?)?[\s,(\[]*", sentence[token.end : u.start], re.I
                ):
                    if slot == "start":
                        stated_start = u.value
                    else:
                        stated_end = u.value
                break
        found.append(_Window(Window(a.value, b.value), a.start, b.end, stated_start, stated_end))
    # "changed from 10pm-5am to 11pm-5am": the first window is the old one.
    kept: list[_Window] = []
    for index, item in enumerate(found):
        following = found[index + 1] if index + 1 < len(found) else None
        if following is not None and _SUPERSEDED_WINDOW_GAP_RE.match(
            _BRACKETS_RE.sub(" ", sentence[item.end : following.start])
        ):
            continue
        kept.append(item)
    return kept


def _pick(
    spans: Sequence[tuple[int, _T]], lo: int, start: int, end: int, hi: int, *, wide: bool
) -> _T | None:
    """What belongs to the window at start..end inside its clause lo..hi: the first thing
    after it, else the last before it; with `wide`, else the last before it anywhere."""
    after = [value for pos, value in spans if end <= pos < hi]
    if after:
        return after[0]
    before = [value for pos, value in spans if lo <= pos < start]
    if before:
        return before[-1]
    if not wide:
        return None
    anywhere = [value for pos, value in spans if pos < start]
    return anywhere[-1] if anywhere else None


def _regex_places(sentence: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for match in _PLACE_RE.finditer(sentence):
        words = match["place"].split()
        while words and _NOT_PLACES.match(words[0]):
            words = words[1:]
        place = " ".join(words).rstrip(".,'’-")
        # A country is not an area, and a run of capitals longer than a place name (a
        # shouted headline) is not one either.
        if place and len(place) <= MAX_AREA and resolve_country(place) is None:
            found.append((match.start("place"), place))
    return found


def _about_another_country(sentence: _Sentence, block_text: str, country: str) -> bool:
    def named(text: str) -> list[str]:
        return [c.code for c in countries_named_in(_OUR_POST_RE.sub(" ", text))]

    here = named(sentence.text)
    if here:
        return country not in here
    in_block = named(block_text)
    return bool(in_block) and country not in in_block


@dataclass(frozen=True)
class _Found:
    curfew: FoundCurfew
    order: int
    history: bool
    change: bool
    still: bool


def _clause(sentence: str, windows: list[_Window], index: int) -> tuple[int, int]:
    window = windows[index]
    breaks = [m.start() for m in _CLAUSE_BREAK_RE.finditer(sentence)]
    lo = max([0] + [b for b in breaks if b <= window.start])
    if index > 0:
        lo = max(lo, windows[index - 1].end)
    hi = min([len(sentence)] + [b for b in breaks if b >= window.end])
    if index + 1 < len(windows):
        hi = min(hi, windows[index + 1].start)
    return lo, hi


def read_alert(text: str, *, reference: date, country: str | None = None) -> Reading:
    """Every curfew window and every lift in `text`, in order of appearance.

    `reference` is the alert's date (end dates without a year are resolved forward from
    it); `country` (ISO alpha-2) lets places be read through the gazetteer and another
    country's curfew be left out. Never raises on any input.
    """
    sentences = _sentences(text)
    blocks: dict[int, list[str]] = {}
    for s in sentences:
        blocks.setdefault(s.block, []).append(s.text)
    found: list[_Found] = []
    lifts: list[tuple[int, Lift]] = []
    for i, statement in enumerate(sentences):
        if not _CURFEW_RE.search(statement.text):
            continue
        if country and _about_another_country(
            statement, " ".join(blocks[statement.block]), country
        ):
            continue
        if _NEGATED_RE.search(statement.text) and not _CHANGE_RE.search(statement.text):
            continue
        hosts = _hosts(sentences, i)
        own = hosts[0][1] if hosts and hosts[0][0] is statement else []
        lifted = _lifts_curfew(statement.text, own)
        relaxing = any(
            _RELAX_RE.search(statement.text[max(0, w.start - 80) : w.start]) for w in own
        )
        if lifted and not relaxing:
            # "The nightly 19:00-06:00 curfew has been suspended": the window is the one
            # that is over.
            mentions = places_in(statement.text, country) if country else []
            area = mentions[0].text if mentions else None
            if area is None and not _NATIONWIDE_RE.search(statement.text):
                area = next(iter(_regex_places(statement.text)), (0, None))[1]
            lifts.append(
                (
                    i,
                    Lift(
                        area=area,
                        zone=mentions[0].place.zone if mentions else None,
                        sentence=statement.text,
                    ),
                )
            )
            continue
        for host, windows in hosts:
            found.extend(
                _read_windows(sentences, i, statement, host, windows, reference, country, text)
            )
    return Reading(curfews=_settle(found, lifts), lifts=[lift for _, lift in lifts])


def _lifts_curfew(sentence: str, windows: Sequence[_Window] = ()) -> bool:
    """Whether the sentence says a curfew is lifted: the verb's object or subject is the
    curfew ("lifted the daily curfew", "the curfew ... has been lifted"), not some other
    measure ("cancelled the planned lockdown and will impose a curfew"), and not the
    daily end of one of its `windows` ("imposed at 8 pm and lifted at 5 am daily")."""
    if _NOT_A_LIFT_RE.search(sentence):
        return False
    for match in _LIFTED_RE.finditer(sentence):
        if any(w.start <= match.start() < w.end for w in windows):
            continue
        after = sentence[match.end() : match.end() + 40]
        before = sentence[max(0, match.start() - 100) : match.start()]
        if _CURFEW_RE.search(after) or _CURFEW_RE.search(before):
            return True
    return False


_START_CUE_RE = re.compile(
    r"(?:start\w*|begin\w*|commenc\w*|from|à\s+partir\s+de|desde|comienza|empieza)"
    r"(?:\s+(?:at|à|a\s+las?|las?))?\s*$",
    re.IGNORECASE,
)
_END_CUE_RE = re.compile(
    r"(?:end\w*|finish\w*|until|till|jusqu\w*|hasta(?:\s+las?)?|termin\w*|finaliz\w*)"
    r"(?:\s+(?:at|à|a\s+las?|las?))?\s*$",
    re.IGNORECASE,
)


def _split_window(sentences: list[_Sentence], i: int) -> list[tuple[_Sentence, list[_Window]]]:
    """A window whose start and end are told apart: "starting at 11 o'clock tonight.
    Each night's curfew will end at 5:00 a.m." One start and one end, in the statement
    and the next sentence of its paragraph, make a window."""
    statement = sentences[i]
    group = [statement]
    if i + 1 < len(sentences) and sentences[i + 1].block == statement.block:
        group.append(sentences[i + 1])
    starts: list[tuple[_Sentence, ClockToken]] = []
    ends: list[tuple[_Sentence, ClockToken]] = []
    for sentence in group:
        for token in clock_tokens(sentence.text):
            if token.kind != "local":
                continue
            before = sentence.text[max(0, token.start - 30) : token.start]
            if _START_CUE_RE.search(before):
                starts.append((sentence, token))
            elif _END_CUE_RE.search(before):
                ends.append((sentence, token))
    if len(starts) != 1 or len(ends) != 1 or starts[0][1].value == ends[0][1].value:
        return []
    (host, a), (last, b) = starts[0], ends[0]
    if host is last and b.start < a.start:
        return []
    end = b.end if host is last else len(host.text)
    window = _Window(Window(a.value, b.value), a.start, end, None, None)
    return [(host, [window])]


def _hosts(sentences: list[_Sentence], i: int) -> list[tuple[_Sentence, list[_Window]]]:
    """The sentences that hold a statement's windows: its own; else the first of the next
    two in its paragraph (or after a colon) with times and no curfew of their own ("A
    curfew has been declared. Movement is banned from 10 pm to 5 am."); then any next
    sentence that goes on with other days ("Saturdays and Sundays from 7 pm to 5 am")."""
    statement = sentences[i]
    if _EXEMPTION_RE.search(statement.text):
        return []
    hosts: list[tuple[_Sentence, list[_Window]]] = []
    windows = _windows(statement.text)
    last = i
    if windows:
        hosts.append((statement, windows))
    else:
        for j in range(i + 1, min(i + 3, len(sentences))):
            nxt = sentences[j]
            same = nxt.block == statement.block or sentences[j - 1].text.endswith(":")
            if not same or _CURFEW_RE.search(nxt.text) or _EXEMPTION_RE.search(nxt.text):
                continue
            windows = _windows(nxt.text)
            if windows:
                hosts.append((nxt, windows))
                last = j
                break
    if not hosts:
        return _split_window(sentences, i)
    for j in range(last + 1, min(last + 3, len(sentences))):
        nxt = sentences[j]
        if nxt.block != sentences[last].block and not sentences[last].text.endswith(":"):
            break
        if _CURFEW_RE.search(nxt.text) or not days_in(nxt.text):
            break
        windows = _windows(nxt.text)
        if not windows:
            break
        hosts.append((nxt, windows))
        last = j
    return hosts


def _read_windows(
    sentences: list[_Sentence],
    i: int,
    statement: _Sentence,
    host: _Sentence,
    windows: list[_Window],
    reference: date,
    country: str | None,
    text: str,
) -> list[_Found]:
    sentence = host.text
    mentions: list[Mention] = places_in(sentence, country) if country else []
    excluded = {
        m.place.zone
        for m in mentions
        if _EXCEPT_RE.search(sentence[max(0, m.start - 40) : m.start])
    }
    if country:
        for other in (statement, *sentences[max(0, i - 1) : i]):
            if other is not host and other.block == host.block:
                excluded |= {
                    m.place.zone
                    for m in places_in(other.text, country)
                    if _EXCEPT_RE.search(other.text[max(0, m.start - 40) : m.start])
                }
    mentions = [m for m in mentions if m.place.zone not in excluded]
    # A place in the statement, else just before it, else earlier in its paragraph.
    fallback: Mention | None = None
    if country:
        earlier = [
            s
            for s in (statement, *reversed(sentences[:i]))
            if s is not host and s.block == statement.block
        ]
        for other in earlier:
            named = [
                m
                for m in places_in(other.text, country)
                if not _EXCEPT_RE.search(other.text[max(0, m.start - 40) : m.start])
            ]
            if named:
                fallback = named[0]
                break
    regex_places = _regex_places(sentence)
    dates = end_dates(sentence, reference)
    date_spans = [(a, b) for a, b, _ in dates]
    days = [
        (pos, d) for pos, d in days_in(sentence) if not any(a <= pos < b for a, b in date_spans)
    ]
    # End dates may also be in the sentences around ("It will remain in force until 19
    # January.", "Restrictions apply from 7 December to 7 January.").
    nearby_dates: list[date] = []
    for other in (statement, *sentences[max(0, i - 1) : i + 3]):
        if other is not host and other.block == host.block:
            nearby_dates.extend(d for _, _, d in end_dates(other.text, reference))
    history = bool(_HISTORY_RE.search(sentence))
    change = bool(_CHANGE_RE.search(sentence)) or bool(_CHANGE_RE.search(statement.text))
    still = bool(_STILL_RE.search(sentence))
    result: list[_Found] = []
    for index, item in enumerate(windows):
        lo, hi = _clause(sentence, windows, index)
        window = item.window
        stated_start, stated_end = item.stated_start, item.stated_end
        if _RELAX_RE.search(sentence[max(lo - 120, 0) : item.start]):
            # Hours when people may go out: the curfew is the rest of the day.
            window = Window(window.end, window.start)
            stated_start, stated_end = stated_end, stated_start
        clause_text = sentence[lo:hi]
        mention = _pick([(m.start, m) for m in mentions], lo, item.start, item.end, hi, wide=True)
        if mention is not None and mention.start < item.start:
            # "in Dhaka, Gazipur and Narsingdi": a list before the window is named by
            # its first place.
            before = [m for m in mentions if m.start <= mention.start]
            while len(before) > 1 and _LIST_JOIN_RE.fullmatch(
                sentence[before[-2].end : before[-1].start]
            ):
                before.pop()
                mention = before[-1]
        area: str | None
        zone: str | None = None
        if mention is not None:
            area, zone = mention.text, mention.place.zone
        elif _NATIONWIDE_RE.search(clause_text) or _NATIONWIDE_RE.search(sentence[: item.start]):
            area = None
        else:
            area = _pick(regex_places, lo, item.start, item.end, hi, wide=True)
            if fallback is not None:
                # A place the gazetteer does not know ("the National Capital District")
                # is placed by one named around it ("Port Moresby").
                zone = fallback.place.zone
                area = area or fallback.text
        span = unbroken_days(sentence, item.start, item.end, window.start, window.end, reference)
        until = span[1] if span is not None else None
        if until is None:
            until = _pick([(a, d) for a, _, d in dates], lo, item.start, item.end, hi, wide=True)
        if until is None:
            until = one_night_end(sentence, item.start, item.end, reference)
        if until is None and nearby_dates:
            until = nearby_dates[0]
        chosen_days = _pick(days, lo, item.start, item.end, hi, wide=False)
        if chosen_days is None and len(windows) == 1 and days:
            chosen_days = days[0][1]
        stated = (
            Window(stated_start, stated_end)
            if stated_start is not None and stated_end is not None and stated_start != stated_end
            else None
        )
        curfew = FoundCurfew(
            window=window,
            until=until,
            stated_utc=stated,
            area=area,
            sentence=sentence,
            days=None
            if span is not None or chosen_days is None or len(chosen_days) == 7
            else chosen_days,
            stated_start=stated_start,
            stated_end=stated_end,
            zone=zone,
            excluded=tuple(sorted(excluded)),
            from_day=span[0] if span is not None else None,
        )
        result.append(_Found(curfew, i, history, change, still))
    return result


def _settle(found: list[_Found], lifts: list[tuple[int, Lift]]) -> list[FoundCurfew]:
    """Drop what the text itself says is over: past windows when a current one is
    there, windows a later statement changes, windows a later lift ends; then repeats."""
    if lifts or any(not f.history for f in found):
        found = [f for f in found if not f.history]
    kept: list[_Found] = []
    for f in found:
        key = (f.curfew.area, f.curfew.days)
        replaced = any(
            g.change and g.order > f.order and (g.curfew.area, g.curfew.days) == key for g in found
        )
        # A lift ends the curfew of its place (or the nationwide one), before or after
        # it in the text, unless the window is said to remain or to be new.
        ended = not f.still and any(
            (lift.area or "").casefold() == (f.curfew.area or "").casefold() for _, lift in lifts
        )
        if not replaced and not ended:
            kept.append(f)
    unique: list[FoundCurfew] = []
    for f in kept:
        c = f.curfew
        twin = next(
            (
                u
                for u in unique
                if (u.window, u.days, u.area, u.from_day) == (c.window, c.days, c.area, c.from_day)
            ),
            None,
        )
        if twin is None:
            unique.append(c)
        elif (twin.until is None and c.until is not None) or (
            twin.stated_start is None and c.stated_start is not None
        ):
            unique[unique.index(twin)] = replace(
                twin,
                until=twin.until or c.until,
                stated_start=twin.stated_start or c.stated_start,
                stated_end=twin.stated_end or c.stated_end,
                stated_utc=twin.stated_utc or c.stated_utc,
            )
    return unique


def find_curfews(text: str, *, reference: date, country: str | None = None) -> list[FoundCurfew]:
    """Every curfew window in `text` (see `read_alert`)."""
    return read_alert(text, reference=reference, country=country).curfews
