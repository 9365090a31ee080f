"""Trips in bulk: a CSV export from a travel agency or HR system (for leads), and a
calendar invitation (.ics) for a flight or a booking (for the traveller).

Every line is accounted for: recorded, or refused with the reason. A file that cannot be
read at all is refused whole and nothing is recorded. Nothing here knows about Telegram.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.whereabouts.parsing import Destination, date_range, read_destination
from bot.whereabouts.rules import new_trip
from bot.whereabouts.texts import recorded_in_import
from db import audit, deliveries, leads, staff
from db import whereabouts as db
from db.models import DeliveryKind, Priority, Role, Staff, Trip, TripSource
from db.refusal import Refusal
from schedules.countries import country_name

MAX_CSV_BYTES = 2_000_000
MAX_ROWS = 5000
# Up to this many trips recorded are listed one by one in the report; more, by country.
LIST_RECORDED = 30
# Column names as exports write them, folded; the first of each group that is present
# is read.
_COLUMNS = {
    "who": (
        "telegram",
        "telegram id",
        "telegram username",
        "username",
        "user",
        "traveller",
        "traveler",
        "employee",
        "name",
        "full name",
        "staff",
        "person",
        "passenger",
    ),
    "country": ("country", "destination country", "country code", "destination"),
    "city": ("city", "destination city", "town", "location"),
    "start": (
        "start",
        "start date",
        "from",
        "departure",
        "depart",
        "first day",
        "arrival",
        "check in",
        "checkin",
        "begin",
    ),
    "end": ("end", "end date", "to", "until", "return", "last day", "check out", "checkout"),
}
CSV_USAGE = (
    "Send the CSV file with the caption /trips_csv. Columns: who (name, @username or "
    "Telegram id), country, city (may be empty), start, end; a header line names them."
)


@dataclass
class ImportReport:
    recorded: list[Trip] = field(default_factory=list)
    travellers: dict[int, Staff] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").casefold().split())


def _header(row: Sequence[str]) -> dict[str, int] | None:
    folded = [_fold(cell) for cell in row]
    found: dict[str, int] = {}
    for key, names in _COLUMNS.items():
        for name in names:
            if name in folded and folded.index(name) not in found.values():
                found[key] = folded.index(name)
                break
    return found if {"who", "country", "start", "end"} <= found.keys() else None


def _day_of(text: str) -> str:
    """The date part of "2027-01-03 08:15" or "2027-01-03T08:15:00"."""
    cleaned = text.strip()
    if len(cleaned) > 10 and cleaned[4:5] == "-" and cleaned[10:11] in ("T", " "):
        return cleaned[:10]
    return cleaned


class _People:
    """Everyone enrolled, looked up by id, username or name without a query per line."""

    def __init__(self, session: Session) -> None:
        self.everyone = list(staff.everyone(session))
        self.by_id = {p.telegram_user_id: p for p in self.everyone}
        self.by_username: dict[str, list[Staff]] = {}
        self.by_name: dict[str, list[Staff]] = {}
        for p in self.everyone:
            if p.username:
                self.by_username.setdefault(p.username.casefold(), []).append(p)
            self.by_name.setdefault(_fold(p.display_name), []).append(p)

    def find(self, text: str) -> Staff:
        ref = text.strip()
        if not ref:
            raise Refusal("nobody named")
        if ref.isdigit():
            found = self.by_id.get(int(ref))
            if found is None:
                raise Refusal(f"nobody enrolled has the Telegram id {ref}")
            return found
        holders = self.by_username.get(ref.removeprefix("@").casefold(), [])
        if not holders and not ref.startswith("@"):
            holders = self.by_name.get(_fold(ref), [])
        if len(holders) > 1:
            raise Refusal(f"{len(holders)} people are called {ref[:60]}; use the @username or id")
        if not holders:
            raise Refusal(f"nobody enrolled is called {ref[:60]}")
        return holders[0]


def import_csv(
    session: Session, *, lead: Staff, content: bytes, now: datetime, today: date
) -> ImportReport:
    """Record the trips of a CSV file for the people in it; refused lines say why."""
    if len(content) > MAX_CSV_BYTES:
        raise Refusal(f"That file is over {MAX_CSV_BYTES // 1_000_000} MB; split it.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise Refusal("I can't read that file as text; export it as CSV (UTF-8).") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        raise Refusal(f"That file is empty. {CSV_USAGE}")
    if len(rows) > MAX_ROWS + 1:
        raise Refusal(f"That file has {len(rows)} lines; send at most {MAX_ROWS} at a time.")
    columns = _header(rows[0]) if rows else None
    start_line = 2
    if columns is None:
        # No header: the columns in the documented order.
        columns = {"who": 0, "country": 1, "city": 2, "start": 3, "end": 4}
        start_line = 1
        if rows and len(rows[0]) < 4:
            raise Refusal(CSV_USAGE)
    else:
        rows = rows[1:]
    people = _People(session)
    admin = lead.role == Role.ADMIN.value
    led = set(leads.countries_led(session, staff_id=lead.id or 0))
    report = ImportReport()
    # Trips already recorded, so that a file sent twice records nothing twice; and each
    # place read once (an export names the same few places hundreds of times).
    seen = db.open_trip_keys(session, now=now)
    places: dict[str, Destination | Refusal] = {}
    for number, row in enumerate(rows, start=start_line):
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            index = columns.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        try:
            traveller = people.find(cell("who"))
            place = " ".join(x for x in (cell("country"), cell("city")) if x)
            if place not in places:
                try:
                    places[place] = read_destination(place)
                except Refusal as refusal:
                    places[place] = refusal
            read = places[place]
            if isinstance(read, Refusal):
                raise read
            destination = read
            country = destination.country.code
            if not admin and country not in led:
                raise Refusal(f"you don't answer for {destination.country.label()}")
            first, last = date_range(_day_of(cell("start")), _day_of(cell("end")), today=today)
            key = (traveller.id or 0, country, first, last)
            if key in seen:
                raise Refusal("this trip is already recorded")
            seen.add(key)
        except Refusal as refusal:
            why = str(refusal).split("\n", 1)[0].rstrip(".")
            report.refused.append((number, why))
            continue
        report.recorded.append(
            new_trip(
                traveller=traveller,
                country=country,
                city=destination.city,
                first=first,
                last=last,
                source=TripSource.CSV,
                by=lead,
                now=now,
            )
        )
        report.travellers[traveller.id or 0] = traveller
    db.record_trips(session, trips=report.recorded)
    told = [p for p in report.travellers.values() if p.id != lead.id]
    if told and report.recorded:
        # One message for all (one insert): each traveller reads their own with /trips.
        deliveries.enqueue(
            session,
            kind=DeliveryKind.TRIP_NOTICE,
            dedupe_key=f"trips-import:{report.recorded[0].id}",
            recipients=deliveries.recipients(told),
            parts=[recorded_in_import(by=lead)],
            priority=Priority.ROUTINE,
            now=now,
        )
    audit.by(
        session,
        lead,
        action="trips_csv",
        recorded=len(report.recorded),
        refused=len(report.refused),
    )
    return report


def import_calendar(
    session: Session, *, person: Staff, content: bytes, now: datetime, today: date
) -> ImportReport:
    """Trips from a calendar invitation: each event's place (its location, else the words
    after "to" or "in" in its title) and its local days. Events to one country that
    touch or overlap make one trip (the flight out and the hotel)."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(content)
    except ValueError:
        raise Refusal("I can't read that calendar file (.ics).") from None
    report = ImportReport()
    stays: list[tuple[str, str | None, date, date]] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        title = str(event.get("SUMMARY", "")).strip()
        label = f"event {number}" + (f" “{title[:60]}”" if title else "")
        try:
            start = event.decoded("DTSTART")
            end = event.decoded("DTEND") if "DTEND" in event else start
        except (KeyError, ValueError):
            report.refused.append((0, f"{label}: it has no start date"))
            continue
        first = start.date() if isinstance(start, datetime) else start
        # An all-day event's end is exclusive.
        last = end.date() if isinstance(end, datetime) else max(first, end - timedelta(days=1))
        destination = None
        for words in _places_in(event):
            try:
                destination = read_destination(words)
                break
            except Refusal:
                continue
        if destination is None:
            report.refused.append((0, f"{label}: no country or city I know in it"))
            continue
        if last < today:
            report.refused.append((0, f"{label}: it is over"))
            continue
        stays.append((destination.country.code, destination.city, first, last))
    for country, city, first, last in _merged(stays):
        if db.same_trip(session, staff_id=person.id or 0, country=country, first=first, last=last):
            report.refused.append((0, f"the trip to {country} {first:%d %b} is already recorded"))
            continue
        trip = new_trip(
            traveller=person,
            country=country,
            city=city,
            first=first,
            last=last,
            source=TripSource.CALENDAR,
            by=person,
            now=now,
        )
        report.recorded.append(trip)
        report.travellers[person.id or 0] = person
    db.record_trips(session, trips=report.recorded)
    audit.by(session, person, action="trips_ics", recorded=len(report.recorded))
    return report


def _places_in(event: Mapping[str, object]) -> list[str]:
    """Where an event may say it is: its location (whole, then by parts, last first: "Hotel
    Kazakhstan, Abay Ave 52, Almaty"), then the words after "to" or "in" in its title."""
    found = []
    location = str(event.get("LOCATION", "") or "").strip()
    if location:
        found += [location, *reversed([p.strip() for p in location.split(",") if p.strip()])]
    title = str(event.get("SUMMARY", "") or "")
    for word in (" to ", " in ", " at ", "→", "->", " - "):
        if word in title:
            found.append(title.rsplit(word, 1)[1].strip())
    return [f for f in found if f]


def _merged(
    stays: list[tuple[str, str | None, date, date]],
) -> list[tuple[str, str | None, date, date]]:
    merged: list[tuple[str, str | None, date, date]] = []
    for country, city, first, last in sorted(stays, key=lambda s: (s[0], s[2])):
        if merged and merged[-1][0] == country and first <= merged[-1][3] + timedelta(days=1):
            c, cty, f, lst = merged[-1]
            merged[-1] = (c, cty or city, f, max(lst, last))
        else:
            merged.append((country, city, first, last))
    return sorted(merged, key=lambda s: s[2])


def report_text(report: ImportReport, *, what: str, unit: str = "line") -> list[str]:
    """What an import recorded and each line it refused, with why."""
    from bot import render
    from bot.whereabouts.texts import days, destination

    header = (
        f"📥 <b>{render.esc(what)}</b>: {render.plural(len(report.recorded), 'trip')} recorded"
        f", {render.plural(len(report.refused), unit)} refused"
    )
    lines: list[str] = []
    if len(report.recorded) <= LIST_RECORDED:
        for trip in report.recorded:
            who = report.travellers.get(trip.staff_id)
            name = render.esc(who.display_name) if who else "?"
            lines.append(f"✅ #{trip.id} {name}: {render.esc(destination(trip))}, {days(trip)}")
    else:
        # A long import is summed up by country; /whois lists the people.
        by_country = Counter(trip.country for trip in report.recorded)
        lines += [
            f"✅ {render.esc(country_name(code))}: {render.plural(n, 'trip')}"
            for code, n in sorted(by_country.items())
        ]
        lines.append("/whois &lt;country&gt; shows who is there and who arrives this week.")
    for number, why in report.refused:
        lines.append(f"❌ line {number}: {render.esc(why)}" if number else f"❌ {render.esc(why)}")
    return render.split_lines(header, lines)
