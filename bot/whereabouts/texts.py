"""What travellers and leads read about trips, places and who is where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from bot.curfews.texts import describe
from db.cards import Advisory
from db.models import Alert, Curfew, Staff, Trip, Whereabouts
from db.whereabouts import Present
from schedules.countries import country_name
from schedules.zones import local_and_utc

TRIPS_NONE = "You have no trips recorded. /trip Kazakhstan Almaty 3 Jan - 20 Jan records one."
LOCATION_OFFER_BUTTON = "Get its alerts"


def days(trip: Trip) -> str:
    """ "3 Jan – 20 Jan 2027", as a trip's dates are shown everywhere."""
    first = f"{trip.first_day.day} {trip.first_day:%b}"
    if trip.first_day.year != trip.last_day.year:
        first += f" {trip.first_day.year}"
    return f"{first} – {trip.last_day.day} {trip.last_day:%b %Y}"


def destination(trip: Trip) -> str:
    name = country_name(trip.country)
    return f"{trip.city}, {name}" if trip.city else name


def recorded(trip: Trip, traveller: Staff, *, for_self: bool) -> str:
    whose = "Trip" if for_self else f"Trip for {render.esc(traveller.display_name)}"
    return (
        f"✈️ {whose} #{trip.id} recorded: <b>{render.esc(destination(trip))}</b>, {days(trip)}.\n"
        f"From the first day to the last (local time) {'you get' if for_self else 'they get'} "
        f"everything sent to {render.esc(country_name(trip.country))}: alerts, curfews and "
        "roll calls. /trips lists trips; /trip_end ends one early."
    )


def recorded_for_you(trip: Trip, *, by: Staff) -> str:
    return (
        f"✈️ {render.esc(by.display_name)} from your security team recorded a trip for you: "
        f"#{trip.id} <b>{render.esc(destination(trip))}</b>, {days(trip)}. While there you get "
        f"everything sent to {render.esc(country_name(trip.country))}. /trips lists your "
        "trips; /trip_end ends one early."
    )


def recorded_in_import(*, by: Staff) -> str:
    return (
        f"✈️ {render.esc(by.display_name)} from your security team recorded your travel "
        "from the travel bookings. While on a trip you get everything sent to the country "
        "you are in. /trips lists your trips; /trip_end ends one early."
    )


def trip_line(trip: Trip, *, now: datetime) -> str:
    state = "now" if trip.starts_at <= now else "coming"
    return f"• #{trip.id} {render.esc(destination(trip))}, {days(trip)} ({state})"


def trips_list(trips: Sequence[Trip], *, now: datetime) -> str:
    if not trips:
        return TRIPS_NONE
    lines = [trip_line(t, now=now) for t in trips]
    return "✈️ <b>Your trips</b>\n" + "\n".join(lines) + "\n\n/trip_end &lt;id&gt; ends one early."


def ended(trip: Trip) -> str:
    return (
        f"Trip #{trip.id} to {render.esc(destination(trip))} ended. Alerts for "
        f"{render.esc(country_name(trip.country))} stop unless you follow it."
    )


def age(seen: datetime, now: datetime) -> str:
    minutes = max(0, int((now - seen).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def location_answer(*, city: str | None, country: str | None, zone: str | None) -> str:
    if country is None:
        return ""
    where = f"{city}, {country_name(country)}" if city else country_name(country)
    return f"You appear to be in {render.esc(where)}" + (
        f" (time zone {render.esc(zone)})." if zone else "."
    )


def location_offer(country: str) -> str:
    return f"You appear to be in {render.esc(country_name(country))}. Get its alerts?"


def location_reply(
    *, staff_id: int, offer: str | None, city: str | None, country: str | None, zone: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The line a shared location adds to the answer, and the offer's button if any: the
    subscriptions' own "follow" button (`sub:f:<staff id>:<country>`)."""
    if offer is not None:
        button = InlineKeyboardButton(
            LOCATION_OFFER_BUTTON, callback_data=f"sub:f:{staff_id}:{offer}"
        )
        return location_offer(offer), InlineKeyboardMarkup([[button]])
    return location_answer(city=city, country=country, zone=zone), None


def own_zone_line(zone: str, why: str, now: datetime) -> str:
    return (
        f"🕒 Times are shown to you in {render.esc(zone)} ({render.esc(why)}): "
        f"now {local_and_utc(zone, now, date_too=False)}."
    )


def where_set(city: str, country: str, zone: str, now: datetime) -> str:
    return (
        f"📍 Your place is {render.esc(city)}, {render.esc(country_name(country))}. When no "
        f"trip or recent location says otherwise, times are shown to you in {render.esc(zone)}: "
        f"now {local_and_utc(zone, now, date_too=False)}."
    )


def _reason(entry: Present, now: datetime) -> str:
    why = []
    if entry.trip is not None:
        why.append(f"trip {days(entry.trip)}" + (f", {entry.trip.city}" if entry.trip.city else ""))
    place: Whereabouts | None = entry.place
    if place is not None and place.seen_at is not None:
        shown = place.city or country_name(place.country or "")
        why.append(f"location {shown}, {age(place.seen_at, now)}")
    return "; ".join(why)


def _who(person: Staff) -> str:
    return render.profile_link(person.display_name, person.telegram_user_id, person.username)


def whois(
    *,
    country: str,
    present: Sequence[Present],
    followers: Sequence[Staff],
    arriving: Sequence[tuple[Staff, Trip]],
    now: datetime,
) -> list[str]:
    """`/whois KZ`: who is believed there now and why, who follows it, who is coming."""
    name = render.esc(country_name(country))
    header = (
        f"👥 <b>{name} ({country})</b>: {render.plural(len(present), 'person', 'people')} "
        f"believed there now"
    )
    lines: list[str] = []
    if present:
        lines.append("<b>There now</b>")
        lines += [f"• {_who(p.person)}: {render.esc(_reason(p, now))}" for p in present]
    if followers:
        lines.append(f"<b>Following {name}</b> (where they are is not known)")
        lines += [f"• {_who(p)}" for p in followers]
    if arriving:
        lines.append("<b>Arriving in the next 7 days</b>")
        lines += [
            f"• {_who(p)}: trip {days(t)}" + (f", {render.esc(t.city)}" if t.city else "")
            for p, t in arriving
        ]
    if not lines:
        lines.append("Nobody is there, follows it or is due to arrive in the next 7 days.")
    return render.split_lines(header, lines)


def briefing(
    *,
    trip: Trip,
    level: Advisory,
    curfews: Sequence[Curfew],
    alerts: Sequence[Alert],
    leads: Sequence[Staff],
    now: datetime,
) -> list[str]:
    """The day before a trip: the advisory, curfews, the latest alerts, who answers."""
    name = render.esc(country_name(trip.country))
    lines = [
        f"Your trip #{trip.id} to {render.esc(destination(trip))} starts on "
        f"{trip.first_day.day} {trip.first_day:%B} ({days(trip)})."
    ]
    if level.level is not None and level.level_at is not None:
        lines.append(f"<b>Advisory level {level.level}</b> since {level.level_at:%d %b %Y}.")
    else:
        lines.append("No official advisory level is recorded for it.")
    if level.departure:
        lines.append("🚨 <b>A departure advisory is in force.</b>")
    if curfews:
        lines.append("<b>Curfews in force</b>")
        lines += [f"• {render.esc(describe(c, now=now))}" for c in curfews]
    else:
        lines.append("No curfew is in force.")
    if alerts:
        lines.append("<b>Latest alerts</b>")
        lines += [
            f"• {render.utc_stamp(a.sent_at or a.created_at)}: "
            f"{render.esc((a.title or a.body)[:200])}"
            for a in alerts
        ]
    if leads:
        lines.append("<b>Your security leads for it</b>")
        lines += [f"• {_who(p)}" for p in leads]
    lines.append("/help_me reaches them at any time; /curfew shows curfews where you are.")
    return render.split_lines(f"🧳 <b>Briefing: {name}</b>", lines)


def welcome(*, trip: Trip, curfews: Sequence[Curfew], now: datetime) -> list[str]:
    """The first day of a trip: a short welcome and tonight's curfew, if there is one."""
    name = render.esc(country_name(trip.country))
    lines = [
        f"Welcome to {render.esc(destination(trip))}. Until {trip.last_day.day} "
        f"{trip.last_day:%b} you get everything sent to {name}."
    ]
    for curfew in curfews:
        lines.append(f"🌙 Tonight: {render.esc(describe(curfew, now=now))}.")
    lines.append("/help_me reaches your security leads at any time.")
    return ["\n".join(lines)]


def departure_presence(*, country: str, present: Sequence[Present], now: datetime) -> list[str]:
    """To the leads with a departure advisory: the people believed there now."""
    name = render.esc(country_name(country))
    lines = [f"• {_who(p.person)}: {render.esc(_reason(p, now))}" for p in present]
    return render.split_lines(
        f"🚨 <b>Departure advisory for {name}</b>: "
        f"{render.plural(len(present), 'person', 'people')} there now on a trip or by location "
        "(followers are not listed; /whois shows everyone)",
        lines,
    )
