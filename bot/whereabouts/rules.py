"""The whereabouts rules: recording trips, reading shared locations, each person's own
zone, and who is in a country.

Nothing here knows about Telegram: the rules take a session and plain values, and say
what happened (a request turned down raises a `Refusal`); bot.whereabouts.handlers shows
it. Who hears about a country is `db.subscriptions.audience`, which reads the trips and
places recorded here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from bot.access import require_answers_for
from bot.whereabouts import texts
from bot.whereabouts.parsing import TripRequest
from db import audit, deliveries, leads, sources, staff, subscriptions
from db import whereabouts as db
from db.cards import advisory_of
from db.curfews import active as active_curfews
from db.deliveries import Recipient
from db.models import DeliveryKind, Priority, Role, Staff, Trip, TripSource
from db.refusal import Refusal
from schedules.countries import country_name, resolve_country
from schedules.curfew_text.places import city_named
from schedules.locate import Spot, locate
from schedules.zones import local_to_utc, one_offset, utc_to_local, zones_for_country

log = logging.getLogger(__name__)

# /whois lists who is due to arrive this far ahead.
ARRIVING_WITHIN = timedelta(days=7)


# -- trips --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """Where a trip's days are counted, and the instants they begin and end."""

    zone: str | None
    starts_at: datetime
    ends_at: datetime


def trip_span(country: str, city: str | None, first: date, last: date) -> Span:
    """The zone of a trip (the city's, else the country's when it keeps one offset over
    the stay) and the instants its first day begins and its last day ends there. A
    country of several offsets without a city counts from the first of its days to
    begin to the last to end, so nobody there is missed."""
    place = city_named(city) if city else None
    zone = place.zone if place is not None and place.country == country else None
    zones = [zone] if zone else zones_for_country(country) or ["UTC"]
    beginning = [local_to_utc(z, first, time(0)).utc for z in zones]
    ending = [local_to_utc(z, last + timedelta(days=1), time(0)).utc for z in zones]
    starts_at, ends_at = min(beginning), max(ending)
    if zone is None and (len(zones) == 1 or one_offset(zones, starts_at, ends_at)):
        zone = zones[0]
    return Span(zone=zone, starts_at=starts_at, ends_at=ends_at)


def _today_for(country: str, now: datetime) -> date:
    """The date in the country's first zone (its main one): "today" for a trip's dates."""
    zones = zones_for_country(country)
    return utc_to_local(zones[0], now).date() if zones else now.date()


def traveller_for(session: Session, *, person: Staff, reference: str | None) -> Staff:
    """The person a trip is for: oneself, or (for a lead) the one named."""
    if reference is None:
        return person
    if Role(person.role).rank < Role.LEAD.rank:
        raise Refusal("Only security leads record trips for someone else; /trip <place> <dates>.")
    found = staff.find(session, reference=reference)
    if found is None:
        raise Refusal(f"Nobody enrolled is {reference[:70]}. Nothing was recorded.")
    return found


def new_trip(
    *,
    traveller: Staff,
    country: str,
    city: str | None,
    first: date,
    last: date,
    source: TripSource,
    by: Staff,
    now: datetime,
) -> Trip:
    span = trip_span(country, city, first, last)
    return Trip(
        staff_id=traveller.id or 0,
        country=country,
        city=city,
        zone=span.zone,
        first_day=first,
        last_day=last,
        starts_at=span.starts_at,
        ends_at=span.ends_at,
        source=source.value,
        created_by_staff_id=by.id if by.id != traveller.id else None,
        created_at=now,
    )


def record_trip(
    session: Session, *, person: Staff, request: TripRequest, now: datetime
) -> tuple[Trip, Staff]:
    """Record a trip from `/trip`: the trip and the traveller. A lead recording someone
    else's trip must answer for the country."""
    traveller = traveller_for(session, person=person, reference=request.traveller)
    country = request.destination.country.code
    if traveller.id != person.id:
        require_answers_for(session, person=person, country=country)
    trip = new_trip(
        traveller=traveller,
        country=country,
        city=request.destination.city,
        first=request.first_day,
        last=request.last_day,
        source=TripSource.COMMAND,
        by=person,
        now=now,
    )
    db.record_trips(session, trips=[trip])
    audit.by(session, person, action="trip_add", trip_id=trip.id, country=country)
    if traveller.id != person.id:
        # Nobody's whereabouts are recorded behind their back.
        deliveries.enqueue(
            session,
            kind=DeliveryKind.TRIP_NOTICE,
            dedupe_key=f"trip:{trip.id}:recorded",
            recipients=deliveries.recipients([traveller]),
            parts=[texts.recorded_for_you(trip, by=person)],
            priority=Priority.ROUTINE,
            now=now,
        )
    return trip, traveller


def end_trip(session: Session, *, person: Staff, trip_id: int, now: datetime) -> Trip:
    trip = db.end_trip(session, trip_id=trip_id, staff_id=person.id or 0, now=now)
    if trip is None:
        raise Refusal(f"You have no trip #{trip_id} that is not over; /trips lists yours.")
    audit.by(session, person, action="trip_end", trip_id=trip_id)
    return trip


# -- places -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Located:
    """A location read: the place, and the country to offer when they neither follow
    it nor travel there."""

    spot: Spot
    offer: str | None


def record_location(
    session: Session,
    *,
    person: Staff,
    latitude: float,
    longitude: float,
    now: datetime,
    live_seconds: int | None = None,
    message_id: int | None = None,
) -> Located:
    """Keep a shared location as the person's last known place."""
    try:
        spot = locate(latitude, longitude)
    except ValueError:
        spot = Spot(None, None, None)
    staff_id = person.id or 0
    db.record_location(
        session,
        staff_id=staff_id,
        latitude=latitude,
        longitude=longitude,
        country=spot.country,
        city=spot.city,
        zone=spot.zone,
        now=now,
        live_until=now + timedelta(seconds=live_seconds) if live_seconds else None,
        live_message_id=message_id if live_seconds else None,
    )
    offer = None
    if spot.country is not None:
        follows = subscriptions.countries_of(session, staff_id=staff_id)
        travelling = {t.country for t in db.trips_of(session, staff_id=staff_id, now=now)}
        if spot.country not in follows and spot.country not in travelling:
            offer = spot.country
    return Located(spot=spot, offer=offer)


def moved(
    session: Session,
    *,
    person: Staff,
    message_id: int,
    latitude: float,
    longitude: float,
    now: datetime,
) -> bool:
    """A live location moved: the place follows it while it is shared. False for an edit
    of anything else (or of a live location that has ended)."""
    if not db.live_message(session, staff_id=person.id or 0, message_id=message_id, now=now):
        return False
    try:
        spot = locate(latitude, longitude)
    except ValueError:
        return False
    db.record_location(
        session,
        staff_id=person.id or 0,
        latitude=latitude,
        longitude=longitude,
        country=spot.country,
        city=spot.city,
        zone=spot.zone,
        now=now,
    )
    return True


def choose_place(session: Session, *, person: Staff, text: str) -> tuple[str, str, str]:
    """`/where <city>`: the city, its country and zone, kept as the person's own place."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise Refusal("Which city? For example /where Almaty.")
    if resolve_country(cleaned) is not None:
        raise Refusal("Name a city rather than a country, e.g. /where Almaty.")
    place = city_named(cleaned)
    if place is None:
        raise Refusal(f"I don't know the city “{cleaned[:60]}”. Name a city, e.g. /where Almaty.")
    db.choose_place(
        session,
        staff_id=person.id or 0,
        city=place.name,
        country=place.country,
        zone=place.zone,
    )
    return place.name, place.country, place.zone


@dataclass(frozen=True)
class OwnZone:
    zone: str
    why: str  # "your trip to Almaty", "your location (Bishkek)", ...


def own_zone(session: Session, *, staff_id: int, now: datetime) -> OwnZone | None:
    """The zone a person's times are shown in (see `own_zones`); None when nothing says."""
    return own_zones(session, staff_ids=[staff_id], now=now).get(staff_id)


def own_zones(session: Session, *, staff_ids: Sequence[int], now: datetime) -> dict[int, OwnZone]:
    """Each person's own zone: their current trip's, else their last location's, else the
    one they chose with /where, else the country they follow when they follow one and it
    keeps one offset these days. Three queries however many people (a roll call asks
    thousands)."""
    found: dict[int, OwnZone] = {}
    for trip in db.current_trips(session, staff_ids=staff_ids, now=now):
        if trip.zone and trip.staff_id not in found:
            place = trip.city or country_name(trip.country)
            found[trip.staff_id] = OwnZone(trip.zone, f"your trip to {place}")
    for row in db.places_of(session, staff_ids=staff_ids):
        if row.staff_id in found:
            continue
        if row.zone and row.seen_at is not None:
            found[row.staff_id] = OwnZone(row.zone, f"your location ({row.city or row.zone})")
        elif row.chosen_zone:
            found[row.staff_id] = OwnZone(row.chosen_zone, f"/where {row.chosen_city}")
    follows: dict[int, list[str]] = {}
    for staff_id, country in subscriptions.follows_of(session, staff_ids=staff_ids):
        follows.setdefault(staff_id, []).append(country)
    one_clock: dict[str, bool] = {}  # per country: thousands of people follow the same one
    for staff_id, countries in follows.items():
        if staff_id in found or len(countries) != 1:
            continue
        zones = zones_for_country(countries[0])
        if countries[0] not in one_clock:
            one_clock[countries[0]] = bool(zones) and one_offset(
                zones, now, now + timedelta(days=1)
            )
        if one_clock[countries[0]]:
            found[staff_id] = OwnZone(zones[0], f"{country_name(countries[0])}, which you follow")
    return found


# -- who is there -------------------------------------------------------------------------
@dataclass(frozen=True)
class Whois:
    country: str
    present: list[db.Present]
    followers: list[Staff]
    arriving: list[tuple[Staff, Trip]]


def whois(session: Session, *, person: Staff, country: str, now: datetime) -> Whois:
    require_answers_for(session, person=person, country=country)
    audit.by(session, person, action="whois", country=country)
    there = db.present(session, country=country, now=now)
    ids = {p.person.id for p in there}
    following = [p for p in subscriptions.followers(session, country=country) if p.id not in ids]
    coming = [
        (p, t) for p, t in db.arriving(session, country=country, now=now, within=ARRIVING_WITHIN)
    ]
    return Whois(country=country, present=there, followers=following, arriving=coming)


def tell_leads_who_is_there(session: Session, *, country: str, alert_id: int, now: datetime) -> int:
    """With a departure advisory, the country's leads get the people believed there now
    (trips, locations), who may not follow it; how many are listed."""
    there = db.present(session, country=country, now=now)
    if not there:
        return 0
    deliveries.enqueue(
        session,
        kind=DeliveryKind.WHO_IS_THERE,
        dedupe_key=f"alert:{alert_id}:who-is-there",
        recipients=deliveries.recipients(leads.leads_for_country(session, country=country)),
        parts=texts.departure_presence(country=country, present=there, now=now),
        priority=Priority.HIGH,
        now=now,
        alert_id=alert_id,
    )
    return len(there)


# -- briefings ----------------------------------------------------------------------------
def queue_trip_briefings(session: Session, *, now: datetime) -> int:
    """The day before a trip begins, a briefing; on its first day, a welcome. Each once
    (the dedupe key), so this may run as often as wanted; how many were queued."""
    queued = 0
    for trip in db.starting_between(
        session, start=now - timedelta(days=1), end=now + timedelta(days=1)
    ):
        person = session.get(Staff, trip.staff_id)
        if person is None or not person.reachable:
            continue
        if trip.starts_at > now:
            parts = texts.briefing(
                trip=trip,
                level=advisory_of(session, country=trip.country),
                curfews=list(active_curfews(session, countries=[trip.country])),
                alerts=sources.recent_alerts(session, country=trip.country),
                leads=list(leads.leads_for_country(session, country=trip.country)),
                now=now,
            )
            key = f"trip:{trip.id}:briefing"
        else:
            parts = texts.welcome(
                trip=trip,
                curfews=list(active_curfews(session, countries=[trip.country])),
                now=now,
            )
            key = f"trip:{trip.id}:welcome"
        queued += deliveries.enqueue(
            session,
            kind=DeliveryKind.TRIP_NOTICE,
            dedupe_key=key,
            recipients=[Recipient(person.id or 0, person.chat_id)],
            parts=parts,
            priority=Priority.ROUTINE,
            now=now,
        )
    return queued
