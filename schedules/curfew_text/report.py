"""Curfews read from a text, placed in a time zone and checked against the tz database.

The zone comes from, in order: the zone the caller gives; the place the text names for
the window (the gazetteer); the country's only UTC offset on that date (all of
Kazakhstan is UTC+5 since March 2024, so a nationwide curfew there needs no question).
Where the country's zones differ and nothing decides, one window is given per distinct
offset: first the one agreeing with a UTC window the text states, otherwise the
capital's. Each stated UTC time is compared, end by end, with the tz database for that
zone and date.
"""

from __future__ import annotations

from datetime import date

from schedules.countries import country_name, resolve_country
from schedules.curfew_text.dates import WEEKDAYS
from schedules.curfew_text.places import capital_zone
from schedules.curfew_text.reading import FoundCurfew, read_alert
from schedules.curfew_times import occurrence
from schedules.zones import clock_label, is_valid_zone, zone_for_area, zones_for_country


def utc_check(found: FoundCurfew, zone: str, day: date) -> bool | None:
    """Whether the UTC times the text states agree with the tz database for `zone` on
    `day`, each end on its own; None when the text states none."""
    if found.stated_start is None and found.stated_end is None:
        return None
    occ = occurrence(zone, found.window, day)
    return (found.stated_start is None or occ.starts_at.time() == found.stated_start) and (
        found.stated_end is None or occ.ends_at.time() == found.stated_end
    )


def _zone_groups(found: FoundCurfew, code: str, day: date) -> list[list[str]]:
    """The country's zones grouped by the UTC times the window has in them on `day`,
    the group to offer first at the front."""
    zones = [z for z in zones_for_country(code) if z not in found.excluded] or zones_for_country(
        code
    )
    if not zones:
        raise ValueError(f"no time zone is known for {country_name(code)} ({code})")
    groups: dict[tuple[object, object], list[str]] = {}
    for zone in zones:
        occ = occurrence(zone, found.window, day)
        groups.setdefault((occ.starts_at.time(), occ.ends_at.time()), []).append(zone)
    ordered = list(groups.values())
    capital = capital_zone(code)

    def rank(group: list[str]) -> tuple[int, int]:
        agrees = utc_check(found, group[0], day) is True
        return (0 if agrees else 1, 0 if capital in group else 1)

    ordered.sort(key=rank)
    # The zone named for a group is the capital's when it is in it, else the first.
    return [sorted(g, key=lambda z: z != capital) for g in ordered]


def placements(
    found: FoundCurfew, code: str, day: date, zone: str | None = None
) -> list[list[str]]:
    """The zones a window is offered in, each group of zones with the same UTC times on
    `day`, the one to offer first at the front, its representative zone first. Raises
    ValueError when the country has no known zone and no place decides one."""
    if zone is not None:
        return [[zone]]
    if found.zone is not None:
        return [[found.zone]]
    named = zone_for_area(code, found.area) if found.area else None
    if named is not None and len(zones_for_country(code)) > 1:
        return [[named]]
    return _zone_groups(found, code, day)


def parse_report(
    text: str, *, country: str, day: date, zone: str | None = None
) -> list[dict[str, object]]:
    """The curfews in `text` as plain data, with UTC times for `day` from the tz database.

    `country` is a code or name ("KZ", "Kazakhstan"); `day` is both the date the UTC
    times are computed for and the reference for end dates without a year. Windows in
    force on `day` come first. Lifted curfews and mere mentions give nothing. Raises
    ValueError for an unknown country or zone, or a country without a known zone.
    """
    if zone is not None and not is_valid_zone(zone):
        raise ValueError(f"unknown time zone: {zone!r}")
    resolved = resolve_country(country)
    if resolved is None:
        raise ValueError(f"unknown country: {country!r}")
    found = read_alert(text, reference=day, country=resolved.code).curfews
    # Stable: the text's order among windows equally in force.
    found.sort(key=lambda f: 0 if f.days is None or day.weekday() in f.days else 1)
    report: list[dict[str, object]] = []
    for item in found:
        for group in placements(item, resolved.code, day, zone):
            place_zone = group[0]
            occ = occurrence(place_zone, item.window, day)
            stated = (
                {"start": clock_label(item.stated_start), "end": clock_label(item.stated_end)}
                if item.stated_start is not None or item.stated_end is not None
                else None
            )
            report.append(
                {
                    "start": clock_label(item.window.start),
                    "end": clock_label(item.window.end),
                    "zone": place_zone,
                    "start_utc": clock_label(occ.starts_at.time()),
                    "end_utc": clock_label(occ.ends_at.time()),
                    "until": item.until.isoformat() if item.until else None,
                    # A curfew without a break from this date to `until`.
                    "from": item.from_day.isoformat() if item.from_day else None,
                    "stated_utc": stated,
                    "utc_matches": utc_check(item, place_zone, day),
                    "place": item.area,
                    "days": None if item.days is None else [WEEKDAYS[d] for d in item.days],
                    "zones": group,
                }
            )
    return report
