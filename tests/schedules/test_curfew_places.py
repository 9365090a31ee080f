"""The curfew reader's capitals: a nationwide curfew in a country of several zones is
offered first in the capital's."""

from __future__ import annotations

import pytest

from schedules.curfew_text.places import capital_zone


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
