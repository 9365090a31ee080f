"""Whereabouts end to end against the fake Bot API: trips bring a country's messages to
the people there, shared locations offer the country they lie in and set each person's
zone, leads see who is where, and trips come in bulk from CSV and calendar files."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import feeds
from bot.curfews.rules import queue_due_curfew_messages
from bot.settings import BotSettings
from bot.sim.feeds import feed_server
from bot.sim.telegram.server import FakeTelegram
from bot.whereabouts.handlers import BRIEFINGS_JOB
from db import sources, subscriptions
from db.engine import session_scope
from db.models import Curfew, Role, Staff, Trip, Whereabouts
from schedules.curfew_times import Window, occurrence
from schedules.zones import utc_to_local
from tests.bot.test_feeds import KZ_CALM, KZ_LEAVE
from tests.harness import MutableClock, RunningBot, running_bot
from tests.schedules.sources.samples import state_feed


def _labels(fake: FakeTelegram, chat_id: int) -> tuple[int, dict[str, str]]:
    """(message id, label -> callback data) of the last message with buttons in a chat."""
    message = [m for m in fake.messages_to(chat_id) if m.reply_markup is not None][-1]
    assert message.reply_markup is not None
    return message.message_id, {
        b["text"]: b["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for b in row
    }


def _me(person: Staff) -> dict[str, Any]:
    """The identity a person writes under, as on Telegram (a message changes their name)."""
    return {"first_name": person.display_name, "username": person.username}


async def _send(bot: RunningBot, person: Staff, **message: Any) -> str:
    """Send a message that is no plain text (a file, a location) as `person`; the answer."""
    before = len(bot.fake.messages_to(person.chat_id))
    bot.fake.inject_message(person.telegram_user_id, "", **message, **_me(person))
    await bot.fake.await_for(lambda f: len(f.messages_to(person.chat_id)) > before)
    return bot.fake.messages_to(person.chat_id)[before].text


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.messages_to(chat_id)]


def _almaty_today(bot: RunningBot) -> date:
    return utc_to_local("Asia/Almaty", bot.clock()).date()


async def _trip_from_today(bot: RunningBot, person: Staff, place: str, days: int) -> str:
    """/trip to `place` from today for `days` more days; waits for the welcome too, so
    that the next answer read is the answer to the next message."""
    today = _almaty_today(bot)
    reply = await bot.say(
        person.telegram_user_id,
        f"/trip {place} {today:%d %b} - {today + timedelta(days=days):%d %b}",
    )
    await bot.fake.await_for(lambda f: any("Welcome to" in t for t in _texts(f, person.chat_id)))
    return reply


async def _broadcast(bot: RunningBot, lead: Staff, text: str) -> str:
    preview = await bot.say(lead.telegram_user_id, f"/broadcast KZ {text}")
    message_id, labels = _labels(bot.fake, lead.chat_id)
    bot.press(
        lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=labels["Send"]
    )
    return preview


async def test_a_trip_brings_a_country_s_messages_for_its_days_only(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    follower = bot.enrol("Fay Follower", countries=("KZ",))
    dana = bot.enrol("Dana Traveller")
    today = _almaty_today(bot)
    last = today + timedelta(days=2)

    reply = await bot.say(
        dana.telegram_user_id, f"/trip Kazakhstan Almaty {today:%d/%m}-{last:%d/%m/%Y}"
    )
    assert "recorded" in reply and "Almaty, Kazakhstan" in reply
    # Arrival day: a welcome, once.
    await bot.fake.await_for(
        lambda f: any("Welcome to Almaty, Kazakhstan" in t for t in _texts(f, dana.chat_id))
    )
    assert "/trips" in reply
    trips = await bot.say(dana.telegram_user_id, "/trips")
    assert "Almaty, Kazakhstan" in trips and "(now)" in trips
    assert "Asia/Almaty" in trips and "UTC)" in trips

    # A broadcast reaches her although she follows nothing; the preview counts both kinds.
    preview = await _broadcast(bot, lena, "Stay indoors tonight.")
    assert "<b>2</b> people: 1 following the country, 1 there now" in preview
    await bot.fake.await_for(
        lambda f: any("Stay indoors tonight." in t for t in _texts(f, dana.chat_id))
    )
    await bot.fake.await_for(
        lambda f: any("Stay indoors tonight." in t for t in _texts(f, follower.chat_id))
    )

    # A roll call asks her too, and the report tells the trip from the rest.
    roll = await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    assert "no answer: 2" in roll
    await bot.fake.await_for(
        lambda f: any("Safety roll call: Kazakhstan" in t for t in _texts(f, dana.chat_id))
    )
    await bot.say(lena.telegram_user_id, "/checkin_end KZ")

    countries = await bot.say(lena.telegram_user_id, "/countries")
    assert "• Kazakhstan (KZ): 1, and 1 there now" in countries
    # The lead sees her in the country, with the trip's dates.
    whois = await bot.say(lena.telegram_user_id, "/whois KZ")
    assert "1 person believed there now" in whois
    assert "Dana Traveller" in whois and f"trip {today.day} {today:%b}" in whois
    assert "Fay Follower" in whois.split("Following", 1)[1]

    # After her last day, Kazakhstan's messages stop reaching her; the follower still gets them.
    with session_scope(bot.engine) as session:
        trip = session.exec(select(Trip)).one()
        assert trip.first_day == today and trip.last_day == last
    bot.clock.set(trip.ends_at + timedelta(minutes=1))
    before = len(bot.fake.messages_to(dana.chat_id))
    preview = await _broadcast(bot, lena, "Roads closed tomorrow.")
    assert "<b>1</b> person" in preview and "there now" not in preview
    await bot.fake.await_for(
        lambda f: any("Roads closed tomorrow." in t for t in _texts(f, follower.chat_id))
    )
    await bot.settled()
    assert not any("Roads closed" in t for t in _texts(bot.fake, dana.chat_id)[before:])
    whois = await bot.say(lena.telegram_user_id, "/whois KZ")
    assert "Dana Traveller" not in whois


async def test_a_trip_that_starts_next_week_is_arriving_and_reaches_nobody_yet(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    bot.enrol("Fay Follower", countries=("KZ",))
    dana = bot.enrol("Dana Traveller")
    first = _almaty_today(bot) + timedelta(days=5)
    reply = await bot.say(
        lena.telegram_user_id,
        f"/trip @dana_traveller KZ {first:%d %b} - {first + timedelta(3):%d %b}",
    )
    assert "Trip for Dana Traveller" in reply
    await bot.fake.await_for(
        lambda f: any(
            "Lena Lead from your security team recorded a trip for you" in t
            for t in _texts(f, dana.chat_id)
        )
    )
    whois = await bot.say(lena.telegram_user_id, "/whois KZ")
    assert "0 people" in whois
    assert "Dana Traveller" in whois.split("Arriving in the next 7 days", 1)[1]
    preview = await _broadcast(bot, lena, "Quiet day.")
    assert "<b>1</b> person" in preview
    await bot.say(lena.telegram_user_id, "/curfew_set KZ Almaty 23:00-07:00")
    message_id, labels = _labels(bot.fake, lena.chat_id)
    bot.press(
        lena.telegram_user_id, chat_id=lena.chat_id, message_id=message_id, data=labels["Confirm"]
    )

    def curfew_active() -> bool:
        with session_scope(bot.engine) as session:
            return session.exec(select(Curfew).where(Curfew.status == "active")).first() is not None

    await bot.fake.await_for(lambda f: curfew_active())

    # The day before, the briefing: advisory, curfews, the leads who answer.
    with session_scope(bot.engine) as session:
        trip = session.exec(select(Trip)).one()
    bot.clock.set(trip.starts_at - timedelta(hours=12))
    assert bot.application.job_queue is not None
    (job,) = bot.application.job_queue.get_jobs_by_name(BRIEFINGS_JOB)
    await job.run(bot.application)
    await bot.fake.await_for(
        lambda f: any("Briefing: Kazakhstan" in t for t in _texts(f, dana.chat_id))
    )
    briefing = next(t for t in _texts(bot.fake, dana.chat_id) if "Briefing: Kazakhstan" in t)
    assert f"starts on {first.day} {first:%B}" in briefing and "Lena Lead" in briefing
    assert "Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time" in briefing
    assert "UTC)" in briefing and "Quiet day." in briefing
    assert "No official advisory level is recorded" in briefing

    # On the first day, a welcome with tonight's curfew.
    bot.clock.set(trip.starts_at + timedelta(hours=8))
    await job.run(bot.application)
    await bot.fake.await_for(
        lambda f: any("Welcome to Kazakhstan" in t for t in _texts(f, dana.chat_id))
    )
    welcome = next(t for t in _texts(bot.fake, dana.chat_id) if "Welcome to Kazakhstan" in t)
    assert "🌙 Tonight: Curfew in Almaty" in welcome and "UTC)" in welcome


async def test_bad_trips_are_refused_and_change_nothing(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    cases = {
        "/trip": "Usage: /trip",
        "/trip Narnia 3 Jan - 4 Jan": "I don't know the place “Narnia”",
        "/trip KZ 3 Jan": "I need a first and a last day",
        "/trip KZ 31/02-03/03": "not a date in the calendar",
        "/trip Kazakhstan Bishkek 3 Jan - 5 Jan": "One trip goes to one country",
        "/trip KZ 03/01/2020-05/01/2020": "only trips not over are recorded",
        "/trip @lena_lead KZ 3 Jan - 5 Jan": "Only security leads record trips",
    }
    for text, expected in cases.items():
        assert expected in await bot.say(sam.telegram_user_id, text), text
    assert "Nobody enrolled is @nobody" in await bot.say(
        lena.telegram_user_id, "/trip @nobody KZ 3 Jan - 5 Jan"
    )
    assert "You don't answer for Georgia" in await bot.say(
        lena.telegram_user_id, "/trip @sam_staff GE 3 Jan - 5 Jan"
    )
    assert "You have no trip #7" in await bot.say(sam.telegram_user_id, "/trip_end 7")
    with session_scope(bot.engine) as session:
        assert session.exec(select(Trip)).all() == []


async def test_trip_end_stops_the_trip_now(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    dana = bot.enrol("Dana Traveller")
    await _trip_from_today(bot, dana, "KZ", 9)
    with session_scope(bot.engine) as session:
        trip_id = session.exec(select(Trip.id)).one()
    # Someone else's trip id is not theirs to end.
    assert "You have no trip" in await bot.say(lena.telegram_user_id, f"/trip_end {trip_id}")
    reply = await bot.say(dana.telegram_user_id, f"/trip_end {trip_id}")
    assert f"Trip #{trip_id} to Kazakhstan ended" in reply
    assert "no trips" in await bot.say(dana.telegram_user_id, "/trips")
    assert "Nobody follows Kazakhstan (KZ) or is there now" in await bot.say(
        lena.telegram_user_id, "/broadcast KZ Anyone?"
    )


async def test_a_location_in_bishkek_offers_kyrgyzstan_and_sets_the_zone(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KG",))
    dana = bot.enrol("Dana Staff", countries=("KZ",))
    before = len(bot.fake.messages_to(dana.chat_id))
    bot.fake.inject_message(dana.telegram_user_id, "", location=(42.8746, 74.5698), **_me(dana))
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > before)
    answer = bot.fake.messages_to(dana.chat_id)[before].text
    assert "You appear to be in Kyrgyzstan. Get its alerts?" in answer
    message_id, labels = _labels(bot.fake, dana.chat_id)
    bot.press(
        dana.telegram_user_id,
        chat_id=dana.chat_id,
        message_id=message_id,
        data=labels["Get its alerts"],
    )
    await bot.fake.await_for(
        lambda f: any(
            "You will now get alerts for Kyrgyzstan" in t for t in _texts(f, dana.chat_id)
        )
    )
    with session_scope(bot.engine) as session:
        assert subscriptions.countries_of(session, staff_id=dana.id or 0) == ["KG", "KZ"]
    where = await bot.say(dana.telegram_user_id, "/where")
    assert "Asia/Bishkek" in where and "your location (Bishkek)" in where and "UTC)" in where
    whois = await bot.say(lena.telegram_user_id, "/whois KG")
    assert "Dana Staff" in whois and "location Bishkek, 0 min ago" in whois

    # Shared again from a country she follows: no offer, the place is named.
    before = len(bot.fake.messages_to(dana.chat_id))
    bot.fake.inject_message(dana.telegram_user_id, "", location=(43.2380, 76.9450), **_me(dana))
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > before)
    answer = bot.fake.messages_to(dana.chat_id)[before].text
    assert "You appear to be in Almaty, Kazakhstan" in answer
    assert bot.fake.messages_to(dana.chat_id)[before].reply_markup is None


async def test_a_live_location_is_followed_and_edited_text_is_not_answered(
    bot: RunningBot,
) -> None:
    dana = bot.enrol("Dana Staff", countries=("KZ",))
    before = len(bot.fake.messages_to(dana.chat_id))
    shared = bot.fake.inject_message(
        dana.telegram_user_id, "", location=(43.2380, 76.9450), live_period=3600, **_me(dana)
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > before)
    # She drives to Bishkek: each new position arrives as an edit of the same message.
    bot.fake.inject_location_edit(
        dana.telegram_user_id, shared["message"]["message_id"], (42.8746, 74.5698)
    )

    def city() -> str | None:
        with session_scope(bot.engine) as session:
            row = session.exec(
                select(Whereabouts).where(col(Whereabouts.staff_id) == dana.id)
            ).one()
            return row.city

    await bot.fake.await_for(lambda f: city() == "Bishkek")
    # A typed message edited afterwards gets no second answer.
    typed = bot.fake.inject_message(dana.telegram_user_id, "/trips", **_me(dana))
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > before + 1)
    count = len(bot.fake.messages_to(dana.chat_id))
    bot.fake.inject_edit(dana.telegram_user_id, typed["message"]["message_id"], "/help_me")
    await bot.settled()
    assert len(bot.fake.messages_to(dana.chat_id)) == count
    # The latest position is what a call for help carries.
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    await bot.say(dana.telegram_user_id, "/help_me")
    await bot.fake.await_for(
        lambda f: any("42.87460" in t and "needs help" in t for t in _texts(f, lena.chat_id))
    )
    # In the call for help, a live location shared goes to the lead and is followed too.
    during = bot.fake.inject_message(
        dana.telegram_user_id, "", location=(42.8746, 74.5698), live_period=900, **_me(dana)
    )
    await bot.fake.await_for(lambda f: any("Live for 15 min" in t for t in _texts(f, lena.chat_id)))
    bot.fake.inject_location_edit(
        dana.telegram_user_id, during["message"]["message_id"], (43.2380, 76.9450)
    )
    await bot.fake.await_for(lambda f: city() == "Almaty")


async def test_where_sets_a_place_and_refuses_what_is_no_city(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    assert "I don't know where you are" in await bot.say(sam.telegram_user_id, "/where")
    assert "I don't know the city “Xqzzyville”" in await bot.say(
        sam.telegram_user_id, "/where Xqzzyville"
    )
    assert "Name a city rather than a country" in await bot.say(sam.telegram_user_id, "/where KZ")
    reply = await bot.say(sam.telegram_user_id, "/where Almaty")
    assert "Almaty, Kazakhstan" in reply and "Asia/Almaty" in reply and "UTC)" in reply
    assert "/where Almaty" in await bot.say(sam.telegram_user_id, "/where")


def _csv(rows: list[str]) -> bytes:
    return ("traveller,country,city,start,end\n" + "\n".join(rows) + "\n").encode()


async def test_a_lead_imports_trips_from_csv_and_each_bad_line_is_explained(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ", "KG"))
    dana = bot.enrol("Dana Traveller")
    bot.enrol("Erlan Traveller")
    year = _almaty_today(bot).year + 1
    content = _csv(
        [
            f"@dana_traveller,Kazakhstan,Almaty,{year}-01-03,{year}-01-20",
            f"Erlan Traveller,KG,,03/02/{year},10/02/{year}",
            f"@nobody,KZ,,{year}-01-03,{year}-01-20",
            f"@dana_traveller,Georgia,,{year}-01-03,{year}-01-20",
            f"@dana_traveller,KZ,,{year}-01-20,{year}-01-03",
            f"@dana_traveller,Kazakhstan,Almaty,{year}-01-03,{year}-01-20",
        ]
    )
    before = len(bot.fake.messages_to(lena.chat_id))
    bot.fake.inject_message(
        lena.telegram_user_id,
        "",
        document=("trips.csv", content),
        caption="/trips_csv",
        first_name=lena.display_name,
        username=lena.username,
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(lena.chat_id)) > before)
    report = bot.fake.messages_to(lena.chat_id)[before].text
    assert "2 trips recorded, 4 lines refused" in report
    assert "Dana Traveller: Almaty, Kazakhstan, 3 Jan – 20 Jan" in report
    assert "Erlan Traveller: Kyrgyzstan, 3 Feb – 10 Feb" in report
    assert "line 4: nobody enrolled is called @nobody" in report
    assert "line 5: you don't answer for Georgia (GE)" in report
    assert "line 6: The trip ends" in report
    assert "line 7: this trip is already recorded" in report
    with session_scope(bot.engine) as session:
        assert len(session.exec(select(Trip)).all()) == 2
    # The travellers are told that their travel was recorded.
    await bot.fake.await_for(
        lambda f: any("recorded your travel" in t for t in _texts(f, dana.chat_id))
    )
    # A file that is no list of trips is refused whole, with what is expected.
    for name, junk, why in (
        ("empty.csv", b"\n\n", "That file is empty."),
        ("photo.csv", bytes(range(256)) * 4, "I can't read that file as text"),
    ):
        assert why in await _send(bot, lena, document=(name, junk), caption="/trips_csv")
    with session_scope(bot.engine) as session:
        assert len(session.exec(select(Trip)).all()) == 2
    # Staff may not import for others; nothing is read from their file.
    staff_reply = bot.fake.messages_to(dana.chat_id)
    bot.fake.inject_message(
        dana.telegram_user_id,
        "",
        document=("trips.csv", content),
        caption="/trips_csv",
        first_name=dana.display_name,
        username=dana.username,
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > len(staff_reply))
    assert "only security leads" in bot.fake.messages_to(dana.chat_id)[-1].text.lower()


async def test_a_calendar_invitation_records_the_trip(bot: RunningBot) -> None:
    dana = bot.enrol("Dana Traveller")
    year = _almaty_today(bot).year + 1
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airline//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1@x\r\nSUMMARY:Flight KC 942 London to Almaty\r\n"
        f"DTSTART:{year}0103T203000Z\r\nDTEND:{year}0104T053000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2@x\r\nSUMMARY:Hotel Kazakhstan\r\nLOCATION:Almaty, Kazakhstan\r\n"
        f"DTSTART;VALUE=DATE:{year}0104\r\nDTEND;VALUE=DATE:{year}0111\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:3@x\r\nSUMMARY:Dinner\r\n"
        f"DTSTART:{year}0105T180000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    before = len(bot.fake.messages_to(dana.chat_id))
    bot.fake.inject_message(
        dana.telegram_user_id,
        "",
        document=("booking.ics", ics),
        first_name=dana.display_name,
        username=dana.username,
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(dana.chat_id)) > before)
    report = bot.fake.messages_to(dana.chat_id)[before].text
    assert "1 trip recorded, 1 event refused" in report
    assert "Dana Traveller: Almaty, Kazakhstan, 3 Jan – 10 Jan" in report
    assert "event 3 “Dinner”: no country or city I know in it" in report


async def _export(bot: RunningBot, person: Staff) -> dict[str, Any]:
    bot.fake.inject_message(person.telegram_user_id, "/export_me", **_me(person))
    await bot.fake.await_for(
        lambda f: any(m.document is not None for m in f.messages_to(person.chat_id))
    )
    document = next(m for m in bot.fake.messages_to(person.chat_id) if m.document is not None)
    assert document.document is not None
    data: dict[str, Any] = json.loads(document.document)
    return data


async def test_trips_and_places_are_exported_and_forgotten(bot: RunningBot) -> None:
    dana = bot.enrol("Dana Traveller")
    await _trip_from_today(bot, dana, "Almaty", 4)
    await bot.say(dana.telegram_user_id, "/where Bishkek")
    data = await _export(bot, dana)
    assert [(t["country"], t["city"]) for t in data["trips"]] == [("KZ", "Almaty")]
    assert data["whereabouts"][0]["chosen_city"] == "Bishkek"
    before = len(bot.fake.messages_to(dana.chat_id))
    bot.fake.inject_message(dana.telegram_user_id, "/forget_me", **_me(dana))
    await bot.fake.await_for(
        lambda f: any(m.reply_markup for m in f.messages_to(dana.chat_id)[before:])
    )
    preview = next(m.text for m in bot.fake.messages_to(dana.chat_id)[before:] if m.reply_markup)
    assert "• 1 trip" in preview and "your /where city" in preview
    message_id, labels = _labels(bot.fake, dana.chat_id)
    delete = next(data for label, data in labels.items() if "Delete" in label)
    bot.press(dana.telegram_user_id, chat_id=dana.chat_id, message_id=message_id, data=delete)

    def gone() -> bool:
        with session_scope(bot.engine) as session:
            return (
                not session.exec(select(Trip)).all() and not session.exec(select(Whereabouts)).all()
            )

    await bot.fake.await_for(lambda f: gone())


async def test_a_traveller_s_call_for_help_and_curfews_follow_the_trip(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    dana = bot.enrol("Dana Traveller")
    await _trip_from_today(bot, dana, "Almaty", 4)
    # A curfew set for the country reaches her, and /curfew shows it to her.
    await bot.say(lena.telegram_user_id, "/curfew_set KZ Almaty 23:00-07:00")
    message_id, labels = _labels(bot.fake, lena.chat_id)
    bot.press(
        lena.telegram_user_id, chat_id=lena.chat_id, message_id=message_id, data=labels["Confirm"]
    )
    await bot.fake.await_for(
        lambda f: any("Curfew" in t and "23:00" in t for t in _texts(f, dana.chat_id))
    )
    curfew = await bot.say(dana.telegram_user_id, "/curfew")
    assert "Almaty" in curfew and "23:00" in curfew and "UTC" in curfew
    # Her call for help reaches the leads of the country she is in.
    await bot.say(dana.telegram_user_id, "/help_me Stuck at a checkpoint")
    await bot.fake.await_for(
        lambda f: any("Dana Traveller" in t and "needs help" in t for t in _texts(f, lena.chat_id))
    )


async def test_the_roll_call_report_tells_travellers_from_the_rest(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    bot.enrol("Fay Follower", countries=("KZ",))
    dana = bot.enrol("Dana Traveller")
    await _trip_from_today(bot, dana, "KZ", 4)
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 30m")
    await bot.fake.await_for(
        lambda f: any("Safety roll call" in t for t in _texts(f, dana.chat_id))
    )
    bot.clock.advance(minutes=31)
    (deadline,) = [
        j
        for j in (bot.application.job_queue.jobs() if bot.application.job_queue else [])
        if (j.name or "").startswith("rollcall-deadline")
    ]
    await deadline.run(bot.application)
    await bot.fake.await_for(lambda f: any("deadline passed" in t for t in _texts(f, lena.chat_id)))
    report = next(t for t in _texts(bot.fake, lena.chat_id) if "deadline passed" in t)
    assert "✈️ of them on a trip there: 0 safe · 0 need help · 1 no answer, of 1" in report
    silent = report.split("Never answered", 1)[1]
    assert silent.index("Fay Follower") < silent.index("On a trip there (1)")
    assert silent.index("On a trip there (1)") < silent.index("Dana Traveller")


async def test_a_departure_advisory_lists_for_the_leads_the_people_there(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    with feed_server() as feeds_server:
        async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
            lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
            dana = bot.enrol("Dana Traveller")
            await _trip_from_today(bot, dana, "Almaty", 4)
            feeds_server.serve("/ta.xml", state_feed(KZ_CALM))
            with session_scope(bot.engine) as session:
                source = sources.add(
                    session, kind="us-state", url=feeds_server.url("/ta.xml"), country=None
                )
                assert source is not None and source.id is not None
                source_id = source.id
            assert await feeds.poll_source(bot.services, source_id) == []
            feeds_server.serve("/ta.xml", state_feed(KZ_LEAVE))
            assert len(await feeds.poll_source(bot.services, source_id)) == 1
            await bot.fake.await_for(
                lambda f: any("Departure advisory for" in t for t in _texts(f, lena.chat_id))
            )
            listed = next(
                t for t in _texts(bot.fake, lena.chat_id) if "Departure advisory for" in t
            )
            assert "1 person there now" in listed and "Dana Traveller" in listed
            assert "trip" in listed and "Almaty" in listed
            # She is asked in the roll call the advisory starts, though she follows nothing.
            await bot.fake.await_for(
                lambda f: any("Safety roll call" in t for t in _texts(f, dana.chat_id))
            )


async def test_help_lists_the_whereabouts_commands_for_each_role(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    staff_help = await bot.say(sam.telegram_user_id, "/help")
    lead_help = await bot.say(lena.telegram_user_id, "/help")
    leads_staff_help = await bot.say(lena.telegram_user_id, "/help staff")
    assert "<b>✈️ Travel</b>\n/trip KZ [Almaty] 3 Jan - 20 Jan: " in staff_help
    for command in ("/trip ", "/trips", "/trip_end", "/where"):
        assert command in staff_help and command in leads_staff_help, command
    for command in ("/whois", "/trips_csv"):
        assert command not in staff_help and command in lead_help, command


async def test_deadlines_and_curfew_reminders_are_shown_on_each_person_s_clock(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    fay = bot.enrol("Fay Follower", countries=("KZ",))
    away = bot.enrol("Adam Away", countries=("KZ",))
    assert "Europe/London" in await bot.say(away.telegram_user_id, "/where London")

    await bot.say(lena.telegram_user_id, "/curfew_set KZ Almaty 23:00-07:00")
    message_id, labels = _labels(bot.fake, lena.chat_id)
    bot.press(
        lena.telegram_user_id, chat_id=lena.chat_id, message_id=message_id, data=labels["Confirm"]
    )
    await bot.fake.await_for(
        lambda f: all(any("23:00" in t for t in _texts(f, p.chat_id)) for p in (fay, away))
    )
    # An hour before tonight's (or tomorrow night's) start, the reminders.
    today = _almaty_today(bot)
    start = occurrence("Asia/Almaty", Window(time(23), time(7)), today).starts_at
    if start - timedelta(minutes=60) < bot.clock():
        start = occurrence("Asia/Almaty", Window(time(23), time(7)), today + timedelta(1)).starts_at
    bot.clock.set(start - timedelta(minutes=60))
    queue_due_curfew_messages(bot.services)
    await bot.fake.await_for(
        lambda f: all(any("⏰" in t for t in _texts(f, p.chat_id)) for p in (fay, away))
    )
    (fay_reminder,) = [t for t in _texts(bot.fake, fay.chat_id) if "⏰" in t]
    (away_reminder,) = [t for t in _texts(bot.fake, away.chat_id) if "⏰" in t]
    assert "For you" not in fay_reminder
    london = utc_to_local("Europe/London", start)
    assert f"For you it starts at {london:%H:%M} London ({start:%H:%M} UTC)." in away_reminder

    # A roll call's deadline: the country's time for Fay, London's for Adam.
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 2h")
    await bot.fake.await_for(
        lambda f: all(
            any("Safety roll call" in t for t in _texts(f, p.chat_id)) for p in (fay, away)
        )
    )
    fay_question = next(t for t in _texts(bot.fake, fay.chat_id) if "Safety roll call" in t)
    away_question = next(t for t in _texts(bot.fake, away.chat_id) if "Safety roll call" in t)
    assert " Almaty (" in fay_question and "London" not in fay_question
    assert "London (" in away_question and "UTC)" in away_question
