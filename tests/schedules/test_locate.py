"""Reading a shared location offline: country, nearest city, zone (`schedules/locate.py`)."""

from __future__ import annotations

import pytest

from schedules.locate import Spot, locate
from schedules.zones import country_of_zone


@pytest.mark.parametrize(
    ("point", "spot"),
    [
        ((42.8746, 74.5698), Spot("KG", "Bishkek", "Asia/Bishkek")),
        ((43.2380, 76.9450), Spot("KZ", "Almaty", "Asia/Almaty")),
        ((51.1694, 71.4491), Spot("KZ", "Astana", "Asia/Almaty")),
        ((41.7151, 44.8271), Spot("GE", "Tbilisi", "Asia/Tbilisi")),
        # Mid-Atlantic: no city within reach, and a zone no country uses.
        ((0.0, -30.0), Spot(None, None, "Etc/GMT+2")),
    ],
)
def test_a_point_is_read_into_country_city_and_zone(point: tuple[float, float], spot: Spot) -> None:
    assert locate(*point) == spot


def test_a_point_off_the_globe_is_refused() -> None:
    with pytest.raises(ValueError, match="not a place on Earth"):
        locate(91.0, 0.0)


def test_only_a_zone_one_country_uses_names_a_country() -> None:
    assert country_of_zone("Asia/Bishkek") == "KG"
    assert country_of_zone("Etc/GMT+2") is None
