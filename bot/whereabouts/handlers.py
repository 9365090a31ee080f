"""Whereabouts on Telegram: /trip, /trips, /trip_end, /trips_csv, calendar invitations,
/where, /whois, and shared locations (one-off and live).

Handlers are thin: they read the update, call bot.whereabouts.rules or .imports, reply.
A location offers the country it lies in with the subscriptions' own "follow" button
(`sub:f:<staff id>:<country>`).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import filters

from bot.access import command_argument, requires, row_id
from bot.context import Context, services
from bot.countries import understand_country
from bot.curfews.jobs import plan_curfew_jobs
from bot.whereabouts import imports, rules, texts
from bot.whereabouts.parsing import parse_trip
from db import whereabouts as db
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal

log = logging.getLogger(__name__)

# A CSV of trips sent with the command as its caption.
CSV_CAPTION = filters.Document.ALL & filters.CaptionRegex(r"^/trips_csv(?:@\w+)?(?:\s|$)")
# A calendar invitation: an .ics file, whatever its caption.
CALENDAR = filters.Document.FileExtension("ics") | filters.Document.MimeType("text/calendar")
# Files these handlers read, which are not messages for a call for help.
TRIP_FILES = CSV_CAPTION | CALENDAR

MAX_FILE_BYTES = imports.MAX_CSV_BYTES
BRIEFINGS_JOB = "trip-briefings"
BRIEFINGS_INTERVAL_SECONDS = 600


def _after_change(context: Context) -> None:
    """A trip changes who a country's curfew reminders and briefings go to."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        queued = rules.queue_trip_briefings(session, now=svc.clock())
    if queued:
        svc.wake_dispatcher()
    plan_curfew_jobs(context.application)


async def _reply_parts(message: Message, parts: list[str]) -> None:
    for part in parts:
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.STAFF, action="trip")
async def cmd_trip(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/trip [@user] <country or city> <first day> - <last day>"""
    svc = services(context)
    raw = command_argument(update)

    def run() -> str:
        # In a worker thread: the first city read loads the gazetteer.
        now = svc.clock()
        with session_scope(svc.engine) as session:
            # A trip that ends today (UTC) is still recorded: the destination's day may
            # be a few hours ahead or behind.
            request = parse_trip(raw, today=now.date())
            trip, traveller = rules.record_trip(session, person=person, request=request, now=now)
            return texts.recorded(trip, traveller, for_self=traveller.id == person.id)

    text = await asyncio.to_thread(run)
    await message.reply_text(text, parse_mode=ParseMode.HTML)
    _after_change(context)  # after the answer: a welcome for today comes second


@requires(Role.STAFF)
async def cmd_trips(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/trips: the person's trips not over, with ids."""
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        trips = list(db.trips_of(session, staff_id=person.id or 0, now=now))
        zone = rules.own_zone(session, staff_id=person.id or 0, now=now)
    text = texts.trips_list(trips, now=now)
    if zone is not None:
        text += "\n\n" + texts.own_zone_line(zone.zone, zone.why, now)
    await message.reply_text(text, parse_mode=ParseMode.HTML)


@requires(Role.STAFF, action="trip_end")
async def cmd_trip_end(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/trip_end <id>: end one of one's trips now."""
    trip_id = row_id(command_argument(update))
    if trip_id is None:
        raise Refusal("Which trip? /trip_end <id>; /trips lists yours with their ids.")
    svc = services(context)
    with session_scope(svc.engine) as session:
        trip = rules.end_trip(session, person=person, trip_id=trip_id, now=svc.clock())
        text = texts.ended(trip)
    plan_curfew_jobs(context.application)
    await message.reply_text(text, parse_mode=ParseMode.HTML)


async def _download(context: Context, message: Message) -> bytes:
    document = message.document
    assert document is not None
    if document.file_size and document.file_size > MAX_FILE_BYTES:
        raise Refusal(f"That file is over {MAX_FILE_BYTES // 1_000_000} MB; split it.")
    try:
        file = await context.bot.get_file(document.file_id)
        return bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not fetch a document: %s", error)
        raise Refusal("I could not fetch that file from Telegram; please send it again.") from None


@requires(Role.LEAD, action="trips_csv")
async def cmd_trips_csv(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/trips_csv as the caption of a CSV file (or in reply to one): record its trips."""
    source = message if message.document is not None else message.reply_to_message
    if source is None or source.document is None:
        raise Refusal(imports.CSV_USAGE)
    content = await _download(context, source)
    svc = services(context)
    name = source.document.file_name or "CSV import"

    def run() -> list[str]:
        # In a worker thread: reading hundreds of lines (and, the first time, the
        # gazetteer) must not hold up every alert in flight.
        now = svc.clock()
        with session_scope(svc.engine) as session:
            report = imports.import_csv(
                session, lead=person, content=content, now=now, today=now.date()
            )
            return imports.report_text(report, what=name)

    parts = await asyncio.to_thread(run)
    await _reply_parts(message, parts)
    _after_change(context)


@requires(Role.STAFF, action="trips_ics")
async def msg_calendar(update: Update, context: Context, person: Staff, message: Message) -> None:
    """A calendar invitation (.ics) sent to the bot: the trips it describes."""
    assert message.document is not None
    content = await _download(context, message)
    svc = services(context)
    name = message.document.file_name or "Calendar"

    def run() -> list[str]:
        now = svc.clock()
        with session_scope(svc.engine) as session:
            report = imports.import_calendar(
                session, person=person, content=content, now=now, today=now.date()
            )
            return imports.report_text(report, what=name, unit="event")

    parts = await asyncio.to_thread(run)
    await _reply_parts(message, parts)
    _after_change(context)


@requires(Role.STAFF, action="where")
async def cmd_where(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/where <city>: the place whose time is shown when nothing newer says where they are;
    /where alone: the zone their times are shown in, and why."""
    svc = services(context)
    now = svc.clock()
    raw = command_argument(update)
    with session_scope(svc.engine) as session:
        if raw.strip():
            city, country, zone = rules.choose_place(session, person=person, text=raw)
            text = texts.where_set(city, country, zone, now)
        else:
            own = rules.own_zone(session, staff_id=person.id or 0, now=now)
            text = (
                texts.own_zone_line(own.zone, own.why, now)
                if own is not None
                else "I don't know where you are. /where &lt;city&gt; sets it, e.g. /where Almaty; "
                "a trip or a location you share sets it too."
            )
    await message.reply_text(text, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="whois")
async def cmd_whois(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/whois <country>: who is there now and why, who follows it, who is coming."""
    country = understand_country(command_argument(update))
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        found = rules.whois(session, person=person, country=country.code, now=now)
        parts = texts.whois(
            country=found.country,
            present=found.present,
            followers=found.followers,
            arriving=found.arriving,
            now=now,
        )
    await _reply_parts(message, parts)


@requires(Role.STAFF)
async def msg_location_moved(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """A live location's new position (an edited message): the place follows it. Nothing
    is answered: Telegram sends these every few seconds."""
    location = message.location
    if location is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        rules.moved(
            session,
            person=person,
            message_id=message.message_id,
            latitude=location.latitude,
            longitude=location.longitude,
            now=svc.clock(),
        )


async def job_trip_briefings(context: Context) -> None:
    """Every few minutes: the briefings and welcomes due (each sent once)."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        queued = rules.queue_trip_briefings(session, now=svc.clock())
    if queued:
        svc.wake_dispatcher()
