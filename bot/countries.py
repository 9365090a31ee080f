"""Reading the countries a person names, and changing the countries they follow or lead.

/subscribe, /unsubscribe, /lead, /unlead and the roll-call commands that take a round's
country all read it here, so they understand the same names and refuse in the same
words. /subscribe and /unsubscribe take several at once ("Kazakhstan, Kyrgyzstan", "KZ
KG") and cities ("Almaty" is Kazakhstan); every name read is accounted for, either
changed, already so, or not understood (with the closest country when one is near).
Nothing here knows about Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from db.models import Staff
from db.refusal import Refusal
from schedules.countries import Country, country, resolve_country, suggest_country
from schedules.curfew_text.places import city_named

WHICH_COUNTRY = "Which country? For example: Kazakhstan, KZ or KAZ."


def understand_country(text: str) -> Country:
    """The country meant; a `Refusal` says why there is none, with a "did you mean"."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Refusal(WHICH_COUNTRY)
    found = resolve_country(cleaned)
    if found is not None:
        return found
    shown = cleaned[:60]
    suggestion = suggest_country(cleaned)
    if suggestion is not None:
        raise Refusal(f"I don't know the country “{shown}”. Did you mean {suggestion.label()}?")
    raise Refusal(f"I don't know the country “{shown}”. Use its English name or ISO code, e.g. KZ.")


class CountryChange(Protocol):
    """Follow, stop following, lead or stop leading a country: whether anything changed."""

    def __call__(self, session: Session, *, staff_id: int, country: str) -> bool: ...


def change_country(
    session: Session, *, person: Staff, text: str, change: CountryChange
) -> tuple[Country, bool]:
    """Apply `change` to the country `text` names, for `person`: the country, and whether
    anything changed. A name that is no country is refused before anything is written."""
    country = understand_country(text)
    return country, change(session, staff_id=person.id or 0, country=country.code)


@dataclass(frozen=True)
class Named:
    """A country a person named, directly or through a city in it (`city`)."""

    country: Country
    city: str | None = None


@dataclass(frozen=True)
class Unknown:
    """Words that name no country or city; `suggestion` is the closest country, if any."""

    text: str
    suggestion: Country | None


# Names are separated by commas, semicolons, slashes or lines; within a part, by spaces.
_PARTS_RE = re.compile(r"[,;/\n]+")
# Words between names that name nothing themselves ("Kazakhstan and Kyrgyzstan").
_FILLERS = frozenset({"and", "&", "or", "plus"})
# "Democratic Republic of the Congo" has five words.
_LONGEST_NAME = 5
# More names than this are refused whole: the answer, a line for each, must fit in one
# message, and nothing read may go unanswered.
MAX_NAMES = 20


def _place(text: str, *, cities: bool = True) -> Named | None:
    """The country `text` names, or the country of the city it names; None for neither."""
    found = resolve_country(text)
    if found is not None:
        return Named(found)
    city = city_named(text) if cities else None
    if city is None:
        return None
    try:
        return Named(country(city.country), city=city.name)
    except KeyError:  # a gazetteer country without an ISO code we know
        return None


def read_countries(text: str) -> list[Named | Unknown]:
    """Every country and city named in `text`, in order, and every run of words that
    names neither; a `Refusal` when nothing is named at all."""
    read: list[Named | Unknown] = []
    for part in _PARTS_RE.split(text[:2000]):
        cleaned = " ".join(part.split())
        if not cleaned:
            continue
        whole = _place(cleaned)
        if whole is not None:
            read.append(whole)
            continue
        words = cleaned.split(" ")
        unread: list[str] = []
        i = 0
        while i < len(words):
            if words[i].casefold() in _FILLERS:  # "and" is also Andorra's alpha-3 code
                i += 1
                continue
            # Among other words, only a capitalised one is read as a city: the gazetteer
            # has a town named like many an ordinary word.
            cities = words[i][:1].isupper()
            for n in range(min(_LONGEST_NAME, len(words) - i), 0, -1):
                found = _place(" ".join(words[i : i + n]), cities=cities)
                if found is not None:
                    break
            else:
                unread.append(words[i])
                i += 1
                continue
            read.extend(_unknown(unread))
            unread = []
            read.append(found)
            i += n
        read.extend(_unknown(unread))
    if not read:
        raise Refusal(WHICH_COUNTRY)
    if len(read) > MAX_NAMES:
        raise Refusal(
            f"That is {len(read)} names; send at most {MAX_NAMES} at a time. Nothing was changed."
        )
    return read


def _unknown(words: list[str]) -> list[Unknown]:
    if not words:
        return []
    text = " ".join(words)
    return [Unknown(text[:60], suggest_country(text))]


@dataclass
class CountriesChange:
    """What a change to several countries did: the countries changed, those already so,
    the cities read as their countries, and the names not understood."""

    changed: list[Country] = field(default_factory=list)
    unchanged: list[Country] = field(default_factory=list)
    cities: list[Named] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)


def change_countries(
    session: Session, *, person: Staff, text: str, change: CountryChange
) -> CountriesChange:
    """Apply `change` to every country `text` names (cities count for their country), for
    `person`; names that are no country change nothing and are reported back."""
    outcome = CountriesChange()
    seen: set[str] = set()
    for item in read_countries(text):
        if isinstance(item, Unknown):
            outcome.unknown.append(item)
            continue
        if item.city is not None:
            outcome.cities.append(item)
        if item.country.code in seen:
            continue
        seen.add(item.country.code)
        if change(session, staff_id=person.id or 0, country=item.country.code):
            outcome.changed.append(item.country)
        else:
            outcome.unchanged.append(item.country)
    return outcome
