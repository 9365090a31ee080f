"""The curfew reader's capitals: a nationwide curfew in a country of several zones is
offered first in the capital's."""

from __future__ import annotations

import pytest

from schedules.curfew_text.places import capital_zone, city_named


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("KZ", "Asia/Almaty"),  # Astana
        ("kz", "Asia/Almaty"),  # any case
        ("RU", "Europe/Moscow"),
        ("AU", "Australia/Sydney"),  # Canberra keeps Sydney's time
        ("BR", "America/Sao_Paulo"),  # Brasília
        ("CD", "Africa/Kinshasa"),
        ("ID", "Asia/Jakarta"),
        # Washington the city, not the state of that name on the Pacific.
        ("US", "America/New_York"),
        ("CA", "America/Toronto"),  # Ottawa
        ("MN", "Asia/Ulaanbaatar"),
        # A capital too small for the gazetteer (Melekeok), no capital, no such country.
        ("PW", None),
        ("AQ", None),
        ("XX", None),
    ],
)
def test_the_capitals_zone(country: str, zone: str | None) -> None:
    assert capital_zone(country) == zone


@pytest.mark.parametrize(
    ("name", "country", "zone"),
    [
        ("Almaty", "KZ", "Asia/Almaty"),
        ("ALMATY", "KZ", "Asia/Almaty"),  # any case
        # The most populous of the name: London, England, not London, Ontario.
        ("London", "GB", "Europe/London"),
        ("zurich", "CH", "Europe/Zurich"),  # accents folded away
        ("Nur-Sultan", "KZ", "Asia/Almaty"),  # punctuation too
        # A name is read up to its first 100 characters.
        ("London" + " " * 94 + "x", "GB", "Europe/London"),
    ],
)
def test_a_city_by_name(name: str, country: str, zone: str) -> None:
    place = city_named(name)
    assert place is not None
    assert (place.country, place.zone) == (country, zone)


@pytest.mark.parametrize("name", ["Qqxzv Wrrk", "", "x" * 100 + "Almaty"])
def test_no_city_of_that_name(name: str) -> None:
    assert city_named(name) is None
