"""Countries: turn what people and feeds write into ISO 3166-1 alpha-2 codes.

Staff type `kz`, `KAZ` or `Kazakhstan`; feeds write `Cote d'Ivoire`, `Burma` or
`Mainland China`. Everything that names a country goes through `resolve_country`, so the
rest of the code only ever sees upper-case alpha-2 codes. A near miss is never guessed:
`suggest_country` offers the closest name for the caller to show, and changes nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry
import pytz

# Names in everyday use that neither pycountry nor pytz carries.
_ALIASES: dict[str, str] = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "america": "US",
    "united states of america": "US",
    "russia": "RU",
    "burma": "MM",
    "macau": "MO",
    "macao": "MO",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "turkey": "TR",
    "turkiye": "TR",
    "north korea": "KP",
    "south korea": "KR",
    "korea": "KR",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "congo kinshasa": "CD",
    "republic of the congo": "CG",
    "congo brazzaville": "CG",
    "mainland china": "CN",
    "vatican": "VA",
    "holy see": "VA",
    "east timor": "TL",
    "swaziland": "SZ",
    "cape verde": "CV",
    "micronesia": "FM",
    "the gambia": "GM",
    "gambia": "GM",
    "the bahamas": "BS",
    "bahamas": "BS",
    "palestinian territories": "PS",
    "west bank": "PS",
    "gaza": "PS",
    "kosovo": "XK",
    "moldova": "MD",
    "tanzania": "TZ",
    "venezuela": "VE",
    "sao tome": "ST",
    "st kitts and nevis": "KN",
    "st lucia": "LC",
    "st vincent and the grenadines": "VC",
    "brunei": "BN",
}

# Kosovo has no ISO code; XK is the user-assigned code in wide use (and in feeds).
_EXTRA_NAMES: dict[str, str] = {"XK": "Kosovo"}

# Shorter display names where the ISO name is not what staff would write.
_DISPLAY: dict[str, str] = {
    "RU": "Russia",
    "KP": "North Korea",
    "MD": "Moldova",
    "TZ": "Tanzania",
    "CD": "DR Congo",
    "PS": "Palestinian Territories",
}


@dataclass(frozen=True)
class Country:
    """An ISO 3166-1 country as shown to people."""

    code: str
    name: str

    def label(self) -> str:
        return f"{self.name} ({self.code})"


def normalise_name(text: str) -> str:
    """Fold case, accents, punctuation and spacing so that spellings compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_only = ascii_only.replace("&", " and ").replace("’", "").replace("'", "")
    words = re.sub(r"[^a-z0-9]+", " ", ascii_only.casefold()).split()
    if words[:1] == ["the"] and len(words) > 1:
        words = words[1:]
    return " ".join(words)


@cache
def _index() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(alpha-2 -> display name, alpha-3 -> alpha-2, normalised name -> alpha-2)."""
    display: dict[str, str] = {}
    alpha3: dict[str, str] = {}
    names: dict[str, str] = {}
    for record in pycountry.countries:
        code = str(record.alpha_2)
        common = getattr(record, "common_name", None)
        display[code] = str(common or record.name)
        alpha3[str(record.alpha_3)] = code
        for name in (record.name, common, getattr(record, "official_name", None)):
            if name:
                names.setdefault(normalise_name(str(name)), code)
    for code_lower, name in pytz.country_names.items():
        names.setdefault(normalise_name(name), code_lower.upper())
    display.update(_DISPLAY)
    for code, name in _EXTRA_NAMES.items():
        display[code] = name
        names.setdefault(normalise_name(name), code)
    for alias, code in _ALIASES.items():
        names.setdefault(normalise_name(alias), code)
    for code, name in display.items():
        names.setdefault(normalise_name(name), code)
    return display, alpha3, names


def country(code: str) -> Country:
    """The country for a known alpha-2 code (KeyError when unknown)."""
    display, _, _ = _index()
    upper = code.upper()
    return Country(code=upper, name=display[upper])


def country_name(code: str) -> str:
    """Display name for an alpha-2 code; the code itself when unknown."""
    display, _, _ = _index()
    return display.get(code.upper(), code.upper())


def resolve_country(text: str) -> Country | None:
    """Exact match on alpha-2, alpha-3 or a name, any case; None when there is none."""
    display, alpha3, names = _index()
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 100:
        return None
    upper = cleaned.upper()
    if len(upper) == 2 and upper in display:
        return country(upper)
    if len(upper) == 3 and upper in alpha3:
        return country(alpha3[upper])
    code = names.get(normalise_name(cleaned))
    return country(code) if code else None


def suggest_country(text: str) -> Country | None:
    """The closest country name to a misspelling, for a "did you mean" reply."""
    _, _, names = _index()
    key = normalise_name(text[:100])
    if len(key) < 3:
        return None
    matches = difflib.get_close_matches(key, list(names), n=1, cutoff=0.8)
    return country(names[matches[0]]) if matches else None


def leading_country(text: str, *, max_words: int | None = None) -> tuple[Country, str]:
    """The country a command starts with (a code, an alpha-3 code or a name of up to
    `max_words` words, on the first line; by default as many as the longest name has)
    and the text after it, line breaks kept.

    Raises ValueError saying which word is no country, with a "did you mean" when one is
    close; the same words for every command that starts with a country.
    """
    stripped = text.strip()
    words = list(re.finditer(r"\S+", stripped.split("\n", 1)[0]))
    most = _longest_name() if max_words is None else max_words
    for n in range(min(most, len(words)), 0, -1):
        found = resolve_country(" ".join(word.group() for word in words[:n]))
        if found is not None:
            return found, stripped[words[n - 1].end() :].strip()
    first = words[0].group() if words else ""
    suggestion = suggest_country(first)
    hint = f" Did you mean {suggestion.label()}?" if suggestion else ""
    raise ValueError(f"I don't know the country “{first[:60]}”.{hint}")


@cache
def _longest_name() -> int:
    """Words in the longest known name ("Democratic Republic of the Congo" has five)."""
    _, _, names = _index()
    return max(len(name.split()) for name in names)


def countries_named_in(text: str) -> list[Country]:
    """Countries named in prose, by their names (not by two- or three-letter codes, which
    collide with ordinary words such as "IN" or "CAN"); in order of first mention. The
    longest name wins, and its words name nothing else ("South Sudan" is not Sudan)."""
    _, _, names = _index()
    words = re.findall(r"[\w’'-]+", text[:5000])
    found: dict[str, Country] = {}
    taken = 0  # words before this index belong to a name already found
    for start in range(len(words)):
        if start < taken or not words[start][:1].isupper():
            continue
        for length in range(_longest_name(), 0, -1):
            phrase = " ".join(words[start : start + length])
            if len(phrase) < 4:
                continue
            code = names.get(normalise_name(phrase))
            if code is not None:
                found.setdefault(code, country(code))
                taken = start + length
                break
    return list(found.values())
