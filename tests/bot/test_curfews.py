"""Curfews end to end: a lead sets one, staff are told and reminded in local time and UTC,
reminders are exactly once across restarts, and curfews read out of alerts wait for a lead."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot import feeds
from bot.curfews.parsing import parse_curfew_request, parse_until
from bot.curfews.rules import queue_due_curfew_messages, refresh_curfew_cards
from bot.sim.feeds import feed_server
from bot.sim.telegram.state import SentMessage
from db import sources
from db.engine import session_scope
from db.models import Curfew, CurfewStatus, Role, Staff
from db.refusal import Refusal
from tests.bot.test_cli import _dutybot
from tests.harness import RunningBot
from tests.schedules.sources.samples import EmbassyItem, embassy_feed

# 6 January 2022, Almaty: UTC+6 then, so 23:00 local was 17:00 UTC.
MORNING = datetime(2022, 1, 6, 4, 0, tzinfo=UTC)


def _last_button(bot: RunningBot, chat_id: int, label: str) -> tuple[int, str]:
    for message in reversed(bot.fake.messages_to(chat_id)):
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return message.message_id, button["callback_data"]
    raise AssertionError(f"no {label} button for {chat_id}")


def _buttons(message: SentMessage) -> dict[str, str]:
    """The inline buttons under a message: label to callback data."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def _confirmed(bot: RunningBot, chat_id: int, message_id: int) -> None:
    await bot.fake.await_for(lambda f: "being told" in f.current_text(chat_id, message_id))


async def _set_almaty_curfew(bot: RunningBot, lead_id: int) -> None:
    preview = await bot.say(lead_id, "/curfew_set KZ Almaty 11pm-7am until 19 January")
    assert "Almaty (Kazakhstan)" in preview
    assert "23:00 to 07:00 local time (17:00-01:00 UTC)" in preview
    message_id, data = _last_button(bot, lead_id, "Confirm")
    bot.press(lead_id, chat_id=lead_id, message_id=message_id, data=data)
    await bot.fake.await_for(lambda f: "being told" in f.current_text(lead_id, message_id))


async def test_lead_sets_a_curfew_and_staff_are_told_and_reminded_once(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    early = bot.enrol("Kim Early", countries=("KZ",))
    late = bot.enrol("Sam Late", countries=("KZ",))
    away = bot.enrol("Geo", countries=("GE",))
    assert "30 minutes" in await bot.say(late.telegram_user_id, "/remind 30")

    await _set_almaty_curfew(bot, lead.telegram_user_id)
    await bot.fake.await_for(lambda f: len(f.messages_to(early.chat_id)) == 1)
    told = bot.fake.messages_to(early.chat_id)[0].text
    assert told == (
        "🌙 Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time "
        "(17:00-01:00 UTC) until 19 January 2022."
    )
    assert bot.fake.messages_to(away.chat_id) == []
    assert bot.application.job_queue is not None
    assert any((j.name or "").startswith("curfew-due:") for j in bot.application.job_queue.jobs())

    # Staff see it in local time and UTC, with the time to the next start.
    view = await bot.say(early.telegram_user_id, "/curfew")
    assert "17:00-01:00 UTC" in view and "Not in force now; it starts in 13 h" in view
    assert "(at 23:00 Almaty (17:00 UTC))." in view

    # 60 minutes before the start: Kim (default 60) is reminded, Sam (30) not yet.
    bot.clock.set(datetime(2022, 1, 6, 16, 0, 5, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(early.chat_id)) == 3)
    assert bot.fake.messages_to(early.chat_id)[2].text == (
        "⏰ Curfew in Almaty starts in 60 minutes, at 23:00 local time (17:00 UTC), "
        "and ends at 07:00 local time (01:00 UTC)."
    )
    # Asking again (a second job, or a restart) sends nothing twice.
    assert queue_due_curfew_messages(bot.services) == 0
    bot.clock.set(datetime(2022, 1, 6, 16, 30, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(late.chat_id)) == 3)
    assert "starts in 30 minutes" in bot.fake.messages_to(late.chat_id)[2].text

    # The lead ends it early: everyone is told once, and no more reminders are planned.
    listing = await bot.say(lead.telegram_user_id, "/curfews KZ")
    curfew_id = listing.split()[0].lstrip("#")
    assert "ended; 2 people are being told" in await bot.say(
        lead.telegram_user_id, f"/curfew_end {curfew_id}"
    )
    await bot.fake.await_for(
        lambda f: any("lifted" in m.text for m in f.messages_to(early.chat_id))
    )
    bot.clock.set(datetime(2022, 1, 7, 16, 0, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 0
    assert "No active curfews" in await bot.say(lead.telegram_user_id, "/curfews")


async def test_a_reminder_missed_by_more_than_grace_is_skipped(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    await bot.fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 1)
    # Down from 15:55 to 16:10 UTC: the 16:00 reminder is 10 minutes late: skipped.
    bot.clock.set(datetime(2022, 1, 6, 16, 10, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 0
    # Within grace it still goes, saying how long is really left.
    bot.clock.set(datetime(2022, 1, 7, 16, 3, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 2)
    assert "starts in 57 minutes" in bot.fake.messages_to(kim.chat_id)[1].text


async def test_the_end_of_a_curfew_is_announced_once(bot: RunningBot) -> None:
    bot.clock.set(datetime(2022, 1, 18, 4, 0, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    confirmed = bot.fake.edits[-1].text or ""
    assert confirmed.endswith("set; 1 person is being told."), confirmed
    # The last night is 19 January; it ends 07:00 local on the 20th (01:00 UTC).
    bot.clock.set(datetime(2022, 1, 20, 1, 1, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    assert queue_due_curfew_messages(bot.services) == 0
    await bot.fake.await_for(
        lambda f: any("ended at 07:00 local time" in m.text for m in f.messages_to(kim.chat_id))
    )
    bot.clock.set(datetime(2022, 1, 20, 1, 10, tzinfo=UTC))
    queue_due_curfew_messages(bot.services)
    with session_scope(bot.engine) as session:
        (curfew,) = session.exec(select(Curfew)).all()
        assert curfew.status == CurfewStatus.ENDED.value


async def test_only_leads_set_curfews_and_bad_input_changes_nothing(bot: RunningBot) -> None:
    sam = bot.enrol("Sam", countries=("KZ",))
    lead = bot.enrol("Lena Lead", role=Role.LEAD)
    assert "only security leads" in await bot.say(
        sam.telegram_user_id, "/curfew_set KZ 23:00-07:00"
    )
    assert "can't read the curfew times" in await bot.say(
        lead.telegram_user_id, "/curfew_set KZ Almaty 25:00-07:00"
    )
    assert "several time zones" in await bot.say(
        lead.telegram_user_id, "/curfew_set US 22:00-06:00"
    )
    assert "Usage" in await bot.say(lead.telegram_user_id, "/curfew_set")
    assert "Usage" in await bot.say(sam.telegram_user_id, "/remind soon")
    with session_scope(bot.engine) as session:
        assert session.exec(select(Curfew)).all() == []


async def _embassy_alert(bot: RunningBot, content: str, *, title: str, pub_date: str) -> int:
    """A US embassy feed polled twice, its baseline and then one new alert; the alert's id."""
    with feed_server() as server:
        with session_scope(bot.engine) as session:
            source = sources.add(
                session, kind="us-embassy", url=server.url("/alerts"), country="KZ"
            )
            assert source is not None and source.id is not None
        calm = EmbassyItem(title="Security Alert", content="<p>Calm.</p>")
        server.serve("/alerts", embassy_feed(calm))
        await feeds.poll_source(bot.services, source.id)  # the baseline
        new = EmbassyItem(
            title=title,
            content=content,
            link="https://kz.usembassy.gov/security-alert-curfew/",
            guid="https://kz.usembassy.gov/?p=2",
            pub_date=pub_date,
        )
        server.serve("/alerts", embassy_feed(calm, new))
        (alert_id,) = await feeds.poll_source(bot.services, source.id)
    return alert_id


async def test_a_curfew_in_an_alert_is_offered_to_leads_and_a_wrong_utc_is_flagged(
    bot: RunningBot,
) -> None:
    bot.clock.set(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    # A lead who only follows Kazakhstan gets its alerts, not its curfew proposals.
    fred = bot.enrol("Fred Follower", role=Role.LEAD, countries=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    alert_html = (
        "<p><strong>Location:</strong> Almaty, Kazakhstan</p>"
        "<p><strong>Event:</strong> Authorities declared a curfew in Almaty from 11 p.m. to "
        "7 a.m. (1700-0100 UTC) until at least January 19.</p>"
        "<p><strong>Actions to Take:</strong> Stay indoors.</p>"
    )
    alert_id = await _embassy_alert(
        bot,
        alert_html,
        title="Security Alert: Curfew in Almaty",
        pub_date="Mon, 06 Jan 2025 08:00:00 +0000",
    )
    await bot.fake.await_for(
        lambda f: any("Curfew found" in m.text for m in f.messages_to(lead.chat_id))
    )
    offer = next(m.text for m in bot.fake.messages_to(lead.chat_id) if "Curfew found" in m.text)
    assert f"alert {alert_id}" in offer and "23:00 to 07:00 local time (18:00-02:00 UTC)" in offer
    assert "The alert says 17:00-01:00 UTC" in offer and "Check before confirming" in offer
    with session_scope(bot.engine) as session:
        (proposal,) = session.exec(select(Curfew)).all()
        assert proposal.status == CurfewStatus.PROPOSED.value
        assert proposal.last_day == date(2025, 1, 19)
    # Staff heard about the alert, but nothing about a curfew until a lead confirms.
    assert not any("🌙 Curfew in" in m.text for m in bot.fake.messages_to(kim.chat_id))
    message_id, data = _last_button(bot, lead.chat_id, "Confirm")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    await bot.fake.await_for(
        lambda f: any("🌙 Curfew in Almaty" in m.text for m in f.messages_to(kim.chat_id))
    )
    with session_scope(bot.engine) as session:
        assert session.exec(select(Curfew)).one().status == CurfewStatus.ACTIVE.value
    await bot.fake.await_for(
        lambda f: any("Curfew in Almaty" in m.text for m in f.messages_to(fred.chat_id))
    )
    assert not any("Curfew found" in m.text for m in bot.fake.messages_to(fred.chat_id))


async def test_an_alert_saying_a_curfew_is_lifted_points_the_leads_at_it(bot: RunningBot) -> None:
    bot.clock.set(datetime(2022, 1, 12, 9, 0, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    with session_scope(bot.engine) as session:
        curfew_id = session.exec(select(Curfew)).one().id
    lifted = (
        "<p><strong>Location:</strong> Almaty, Kazakhstan</p>"
        "<p><strong>Event:</strong> The state of emergency ends today. The curfew in Almaty "
        "has been lifted.</p>"
    )
    await _embassy_alert(
        bot,
        lifted,
        title="Security Alert: Curfew Lifted",
        pub_date="Wed, 12 Jan 2022 08:00:00 +0000",
    )
    await bot.fake.await_for(
        lambda f: any("says a curfew is lifted" in m.text for m in f.messages_to(lead.chat_id))
    )
    offer = next(m.text for m in bot.fake.messages_to(lead.chat_id) if "is lifted" in m.text)
    assert f"\n#{curfew_id} " in offer and "in Almaty (Kazakhstan)" in offer
    assert offer.endswith(f"\n/curfew_end {curfew_id} ends it.")
    with session_scope(bot.engine) as session:  # a lead ends it, not the alert
        assert session.exec(select(Curfew)).one().status == CurfewStatus.ACTIVE.value


@pytest.mark.parametrize(
    ("raw", "area", "start", "end"),
    [
        ("KZ Almaty 23:00-07:00", "Almaty", "23:00", "07:00"),
        ("Kazakhstan 2300-0700", None, None, None),
        ("kz almaty 11pm-7am", "almaty", "23:00", "07:00"),
        ("Georgia 11pm to 7am", None, "23:00", "07:00"),
        ("United Kingdom London 22:30-05:00", "London", "22:30", "05:00"),
    ],
)
def test_parse_curfew_request_forms(
    raw: str, area: str | None, start: str | None, end: str | None
) -> None:
    if start is None:
        with pytest.raises(Refusal, match="several time zones"):
            parse_curfew_request(raw, today=date(2022, 1, 6))
        return
    parsed = parse_curfew_request(raw, today=date(2022, 1, 6))
    assert parsed.area == area
    assert (f"{parsed.window.start:%H:%M}", f"{parsed.window.end:%H:%M}") == (start, end)


def test_parse_until() -> None:
    today = date(2022, 1, 6)
    assert parse_until("19 January", today=today) == date(2022, 1, 19)
    assert parse_until("January 19th", today=today) == date(2022, 1, 19)
    assert parse_until("at least 5 January", today=today) == date(2023, 1, 5)
    assert parse_until("2022-02-01", today=today) == date(2022, 2, 1)
    assert parse_until("19/01/2027", today=today) == date(2027, 1, 19)
    assert parse_until("19.01", today=date(2026, 11, 30)) == date(2027, 1, 19)
    assert parse_until("05.01", today=today) == date(2023, 1, 5)
    with pytest.raises(ValueError, match="can't read the date"):
        parse_until("31/02/2027", today=today)
    with pytest.raises(ValueError, match="can't read the date"):
        parse_until("soon", today=today)


@pytest.mark.process
def test_curfew_parse_command_prints_json(tmp_path: Path) -> None:
    result = _dutybot(
        "curfew",
        "parse",
        "--country",
        "KZ",
        "--date",
        "2022-01-06",
        "--json",
        "A curfew is in force in Almaty from 23:00 to 07:00 (1700-0100 UTC) until 19 January.",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "start": "23:00",
            "end": "07:00",
            "zone": "Asia/Almaty",
            "start_utc": "17:00",
            "end_utc": "01:00",
            "until": "2022-01-19",
            "from": None,
            "stated_utc": {"start": "17:00", "end": "01:00"},
            "utc_matches": True,
            "place": "Almaty",
            "days": None,
            "zones": ["Asia/Almaty"],
        }
    ]
    none = _dutybot(
        "curfew",
        "parse",
        "--country",
        "KZ",
        "--date",
        "2022-01-06",
        "--json",
        "All calm.",
        cwd=tmp_path,
    )
    assert json.loads(none.stdout) == []


async def test_a_lead_pastes_an_advisory_and_gets_the_curfew_offered(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    pasted = (
        "Kazakhstan: the government declared a state of emergency. A curfew is in force "
        "in Almaty from 23.00 to 07.00 until 19 January."
    )
    bot.fake.inject_message(lead.telegram_user_id, pasted, first_name="Lena Lead")
    await bot.fake.await_for(
        lambda f: any(
            "Curfew found in the text you sent" in m.text for m in f.messages_to(lead.chat_id)
        )
    )
    message_id, data = _last_button(bot, lead.chat_id, "Edit")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    await bot.fake.await_for(
        lambda f: (
            "/curfew_set KZ Almaty 23:00-07:00 until 19 January 2022"
            in f.messages_to(lead.chat_id)[-1].text
        )
    )
    message_id, data = _last_button(bot, lead.chat_id, "Ignore")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    await bot.fake.await_for(lambda f: "Discarded" in f.current_text(lead.chat_id, message_id))
    # Staff pasting text are asked whether to pass it to their team; nothing is proposed.
    assert await bot.say(sam.telegram_user_id, pasted) == "Send this to your security team?"
    with session_scope(bot.engine) as session:
        (curfew,) = session.exec(select(Curfew)).all()
        assert curfew.status == CurfewStatus.DISCARDED.value


async def test_a_lead_pastes_a_lifted_curfew_and_is_pointed_at_the_one_to_end(
    bot: RunningBot,
) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    with session_scope(bot.engine) as session:
        (curfew,) = session.exec(select(Curfew)).all()
        curfew_id = curfew.id
    reply = await bot.say(
        lead.telegram_user_id, "Kazakhstan: the curfew in Almaty has been lifted."
    )
    assert "That text says a curfew is lifted" in reply
    assert f"#{curfew_id}" in reply and "/curfew_end <id>" in reply


@pytest.mark.parametrize(
    ("raw", "country", "zone", "area"),
    [
        ("Almaty 23:00-07:00", "KZ", "Asia/Almaty", "Almaty"),
        ("almaty 23h-7h", "KZ", "Asia/Almaty", "Almaty"),
        ("Mexico City 22:00-06:00", "MX", "America/Mexico_City", "Mexico City"),
        ("KZ Aktobe 23h00-07h00", "KZ", "Asia/Aqtobe", "Aktobe"),
        # All of Kazakhstan has been UTC+5 since March 2024: no zone to ask for.
        ("Kazakhstan 23:00-07:00 until further notice", "KZ", "Asia/Almaty", None),
    ],
)
def test_a_city_decides_country_and_zone(
    raw: str, country: str, zone: str, area: str | None
) -> None:
    request = parse_curfew_request(raw, today=date(2026, 11, 30))
    assert (request.country, request.zone, request.area) == (country, zone, area)
    assert request.until is None and request.place_note is None


def test_a_city_in_several_countries_is_the_most_populous_and_says_so() -> None:
    request = parse_curfew_request("Santiago 22:00-05:00", today=date(2026, 11, 30))
    assert (request.country, request.zone) == ("CL", "America/Santiago")
    assert request.place_note is not None and "in Chile" in request.place_note
    assert "/curfew_set DO Santiago 22:00-05:00" in request.place_note


def test_a_country_is_asked_for_a_zone_only_when_its_offsets_differ_on_the_dates() -> None:
    # Kazakhstan's two offsets became one on 1 March 2024.
    with pytest.raises(Refusal, match="several time zones"):
        parse_curfew_request("KZ 23:00-07:00 until 5 March 2024", today=date(2024, 2, 20))
    with pytest.raises(Refusal, match="several time zones"):
        parse_curfew_request("KZ 23:00-07:00", today=date(2024, 2, 20))
    request = parse_curfew_request("KZ 23:00-07:00 until 10 March", today=date(2024, 3, 2))
    assert request.until == date(2024, 3, 10) and request.until_typed == "10 March"


async def test_a_lead_sets_a_curfew_by_city_with_a_numeric_date(bot: RunningBot) -> None:
    bot.clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ", "CL"))
    preview = await bot.say(lead.telegram_user_id, "/curfew_set Almaty 23h-7h until 19/01/2027")
    assert preview.startswith(
        "<b>Please check</b>: Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time "
        "(18:00-02:00 UTC) until 19 January 2027 (read from “19/01/2027”).\n"
    )
    assert "Tonight (30 November) in Asia/Almaty" in preview
    preview = await bot.say(lead.telegram_user_id, "/curfew_set Santiago 22:00-05:00 until 19.01")
    assert "Curfew in Santiago (Chile)" in preview
    assert "until 19 January 2027 (read from “19.01”)" in preview
    assert "several countries; I took the most populous, in Chile" in preview
    preview = await bot.say(
        lead.telegram_user_id, "/curfew_set KZ 23:00-07:00 until further notice"
    )
    assert "Curfew in Kazakhstan (nationwide) from 23:00 to 07:00" in preview
    assert "until further notice." in preview


async def test_a_curfew_set_late_reminds_at_once_and_an_open_one_runs_until_further_notice(
    bot: RunningBot,
) -> None:
    # 22:32 in Almaty (16:32 UTC): 28 minutes before tonight's 23:00 start.
    bot.clock.set(datetime(2022, 1, 6, 16, 32, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))  # reminded 60 minutes before, by default
    sam = bot.enrol("Sam", countries=("KZ",))
    assert "15 minutes" in await bot.say(sam.telegram_user_id, "/remind 15")
    preview = await bot.say(lead.telegram_user_id, "/curfew_set KZ Almaty 23:00-07:00")
    assert "(17:00-01:00 UTC) until further notice." in preview
    message_id, data = _last_button(bot, lead.telegram_user_id, "Confirm")
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 2)
    told, reminded = (m.text for m in bot.fake.messages_to(kim.chat_id))
    assert told == (
        "🌙 Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time "
        "(17:00-01:00 UTC) until further notice."
    )
    assert reminded == (
        "⏰ Curfew in Almaty starts in 28 minutes, at 23:00 local time (17:00 UTC), "
        "and ends at 07:00 local time (01:00 UTC)."
    )
    # Sam's 15 minutes are still ahead: his reminder waits for them, and goes once.
    assert len(bot.fake.messages_to(sam.chat_id)) == 2  # /remind's answer, the curfew
    assert queue_due_curfew_messages(bot.services) == 0
    bot.clock.set(datetime(2022, 1, 6, 16, 45, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(
        lambda f: "starts in 15 minutes" in f.messages_to(sam.chat_id)[-1].text
    )
    assert "until further notice" in await bot.say(lead.telegram_user_id, "/curfews")


async def test_remind_reads_minutes_and_hours_and_refuses_what_is_out_of_range(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    uid = sam.telegram_user_id

    def minutes() -> int | None:
        with session_scope(bot.engine) as session:
            person = session.get(Staff, sam.id)
            assert person is not None
            return person.curfew_reminder_minutes

    read = {
        "30": 30,
        "30m": 30,
        "1h": 60,
        "90 minutes": 90,
        "1h30": 90,
        "2 hours": 120,
        "1": 1,
        "720": 720,
    }
    for typed, expected in read.items():
        reply = await bot.say(uid, f"/remind {typed}")
        assert reply == (
            f"You will be reminded {expected} minute{'' if expected == 1 else 's'} "
            "before each curfew starts."
        ), typed
        assert minutes() == expected, typed

    allowed = (
        "Choose between 1 minute and 720 minutes (12 hours) before a curfew starts, or /remind off."
    )
    for typed in ("0", "0m", "721", "13h", "12h1"):
        assert await bot.say(uid, f"/remind {typed}") == allowed, typed
    assert minutes() == 720
    for typed in ("", "soon", "1h30h", "-5", "٣٠"):
        assert (await bot.say(uid, f"/remind {typed}")).startswith("Usage: /remind 30"), typed
    assert minutes() == 720

    assert "reminders are off" in await bot.say(uid, "/remind off")
    assert minutes() is None
    assert "You will be reminded 45 minutes" in await bot.say(uid, "/remind 45 MIN")


# Saturday 2 April 2022, 14:30 in Colombo (UTC+5:30). That evening Sri Lanka imposed a
# curfew from 18:00 until 06:00 on Monday: one of 36 hours, not two nights.
COLOMBO_SATURDAY = datetime(2022, 4, 2, 9, 0, tzinfo=UTC)
WEEKEND = (
    "The President of Sri Lanka has declared a public emergency until further notice. A "
    "curfew is imposed from 6:00 PM today (Saturday, April 2) until 6:00 AM on Monday, April 4."
)


async def test_a_curfew_without_a_break_is_offered_confirmed_and_reminded_as_one(
    bot: RunningBot,
) -> None:
    bot.clock.set(COLOMBO_SATURDAY)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("LK",))
    kim = bot.enrol("Kim")
    assert "Sri Lanka" in await bot.say(kim.telegram_user_id, "/subscribe LK")
    # The nightly curfew already in force stays: the weekend's is on top of it.
    await bot.say(lead.telegram_user_id, "/curfew_set LK 20:00-05:00 until 24 April")
    message_id, data = _last_button(bot, lead.chat_id, "Confirm")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    await bot.fake.await_for(lambda f: "being told" in f.current_text(lead.chat_id, message_id))

    bot.fake.inject_message(lead.telegram_user_id, WEEKEND, first_name="Lena Lead")
    await bot.fake.await_for(
        lambda f: any("Curfew found" in m.text for m in f.messages_to(lead.chat_id))
    )
    offer = next(m.text for m in bot.fake.messages_to(lead.chat_id) if "Curfew found" in m.text)
    assert (
        "Understood: Sri Lanka (nationwide), from 18:00 on Saturday 2 April to 06:00 on Monday "
        "4 April local time (12:30 UTC on 2 April to 00:30 UTC on 4 April), without a break "
        "(Asia/Colombo)." in offer
    )
    # Edit gives the command that sets the same curfew, and it reads back as one.
    message_id, data = _last_button(bot, lead.chat_id, "Edit")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    command = "/curfew_set LK 18:00-06:00 from 2 April 2022 until 4 April 2022 without a break"
    await bot.fake.await_for(lambda f: command in f.messages_to(lead.chat_id)[-1].text)
    preview = await bot.say(lead.telegram_user_id, command)
    assert "In Asia/Colombo, without a break: from 18:00 on Saturday 2 April" in preview
    message_id, data = _last_button(bot, lead.chat_id, "Confirm")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    told = (
        "🌙 Curfew in Sri Lanka (nationwide) from 18:00 on Saturday 2 April to 06:00 on "
        "Monday 4 April local time (12:30 UTC on 2 April to 00:30 UTC on 4 April), without "
        "a break."
    )
    await bot.fake.await_for(lambda f: any(m.text == told for m in f.messages_to(kim.chat_id)))
    # Kim's pinned card of Sri Lanka shows both ends with their dates.
    card = (
        "Curfew</b> in Sri Lanka (nationwide), without a break from 02 Apr 18:00 Colombo "
        "(02 Apr 12:30 UTC) to 04 Apr 06:00 Colombo (04 Apr 00:30 UTC)."
    )
    await bot.fake.await_for(lambda f: any(card in t for t in f.pinned_texts(kim.chat_id)))
    with session_scope(bot.engine) as session:
        rows = session.exec(select(Curfew).order_by(col(Curfew.id))).all()
        assert [(c.continuous, c.status) for c in rows] == [
            (False, CurfewStatus.ACTIVE.value),
            (True, CurfewStatus.PROPOSED.value),
            (True, CurfewStatus.ACTIVE.value),
        ]

    # An hour before 18:00, one reminder, which says when it ends.
    bot.clock.set(datetime(2022, 4, 2, 11, 30, 5, tzinfo=UTC))
    queue_due_curfew_messages(bot.services)
    reminder = (
        "⏰ Curfew in Sri Lanka starts in 60 minutes, at 18:00 local time (12:30 UTC), and "
        "ends at 06:00 local time (00:30 UTC) on Monday 4 April, without a break."
    )
    await bot.fake.await_for(lambda f: any(m.text == reminder for m in f.messages_to(kim.chat_id)))
    # Sunday noon it is in force, as it was at 06:00 and will be at 18:00.
    bot.clock.set(datetime(2022, 4, 3, 6, 30, tzinfo=UTC))
    view = await bot.say(kim.telegram_user_id, "/curfew")
    assert "In force now; it ends in 18 h (at 06:00 Colombo (00:30 UTC))." in view
    # No new reminder on Sunday evening: it never lifted.
    bot.clock.set(datetime(2022, 4, 3, 11, 30, 5, tzinfo=UTC))
    queue_due_curfew_messages(bot.services)
    # Monday 06:00: it is over, once.
    bot.clock.set(datetime(2022, 4, 4, 0, 30, 5, tzinfo=UTC))
    queue_due_curfew_messages(bot.services)
    ended = (
        "Curfew in Sri Lanka ended at 06:00 local time (00:30 UTC) on 4 April 2022. "
        "No more reminders will be sent for it."
    )
    await bot.fake.await_for(lambda f: any(m.text == ended for m in f.messages_to(kim.chat_id)))
    # Once it is over (and its grace), the card no longer shows it.
    bot.clock.set(datetime(2022, 4, 4, 1, 0, tzinfo=UTC))
    queue_due_curfew_messages(bot.services)
    await bot.fake.await_for(
        lambda f: (
            bool(f.pinned_texts(kim.chat_id))
            and "without a break" not in f.pinned_texts(kim.chat_id)[0]
        )
    )
    # Told once and reminded once, however many evenings it spans.
    sent = [m.text for m in bot.fake.messages_to(kim.chat_id)]
    assert sent.count(told) == 1
    assert [t for t in sent if t.startswith("⏰") and "without a break" in t] == [reminder]


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        ("LK 18:00-06:00 from 2 April without a break", "needs the date it ends"),
        ("LK 18:00-06:00 from 4 April until 2 April without a break", "ends before it starts"),
        ("LK 18:00-06:00 from 31 February until 4 April", "can't read the date"),
    ],
)
def test_a_curfew_without_a_break_needs_both_its_dates_in_order(raw: str, refused: str) -> None:
    with pytest.raises(Refusal, match=refused):
        parse_curfew_request(raw, today=date(2022, 4, 2))
    parsed = parse_curfew_request(
        "Colombo 6pm-6am from 2 April until 4 April nonstop", today=date(2022, 4, 2)
    )
    assert (parsed.from_day, parsed.until, parsed.continuous) == (
        date(2022, 4, 2),
        date(2022, 4, 4),
        True,
    )


# The Dominican Republic's schedule of July 2021: later on weekdays than at weekends.
SCHEDULE = (
    "Dominican Republic: from Wednesday, July 7, the curfew will apply at the national "
    "level on the following "
    "schedule:\nMonday through Friday from 10:00 p.m. to 5:00 a.m.\n"
    "Saturdays and Sundays from 7:00 p.m. to 5:00 a.m."
)


async def test_curfews_on_some_days_of_the_week_stand_side_by_side(bot: RunningBot) -> None:
    # Friday 9 July 2021, 08:00 in Santo Domingo (UTC-4).
    bot.clock.set(datetime(2021, 7, 9, 12, 0, tzinfo=UTC))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("DO",))
    kim = bot.enrol("Kim")
    assert "Dominican Republic" in await bot.say(kim.telegram_user_id, "/subscribe DO")
    bot.fake.inject_message(lead.telegram_user_id, SCHEDULE, first_name="Lena Lead")
    await bot.fake.await_for(
        lambda f: sum("Curfew found" in m.text for m in f.messages_to(lead.chat_id)) == 2
    )
    offers = [m for m in bot.fake.messages_to(lead.chat_id) if "Curfew found" in m.text]
    assert "22:00 to 05:00 local time (02:00-09:00 UTC) on weekdays, from 09 July" in offers[0].text
    assert "19:00 to 05:00 local time (23:00-09:00 UTC) on Saturdays and Sundays" in offers[1].text
    buttons = [_buttons(offer) for offer in offers]
    # Edit gives a command that keeps the days.
    bot.press(
        lead.telegram_user_id,
        chat_id=lead.chat_id,
        message_id=offers[1].message_id,
        data=buttons[1]["Edit"],
    )
    command = "/curfew_set DO 19:00-05:00 on Saturdays and Sundays until further notice"
    await bot.fake.await_for(lambda f: command in f.messages_to(lead.chat_id)[-1].text)
    typed = parse_curfew_request(command.removeprefix("/curfew_set "), today=date(2021, 7, 9))
    assert typed.days == (5, 6)
    for offer, pressed in zip(offers, buttons, strict=True):
        bot.press(
            lead.telegram_user_id,
            chat_id=lead.chat_id,
            message_id=offer.message_id,
            data=pressed["Confirm"],
        )
        await _confirmed(bot, lead.chat_id, offer.message_id)
    with session_scope(bot.engine) as session:
        rows = session.exec(select(Curfew).order_by(col(Curfew.id))).all()
        assert [(c.start, c.days, c.status) for c in rows] == [
            ("22:00", "0,1,2,3,4", CurfewStatus.ACTIVE.value),
            ("19:00", "5,6", CurfewStatus.ACTIVE.value),
        ]
    # Kim's card: tonight's curfew, and the weekend's from tomorrow.
    card = (
        "tonight (09 Jul) 22:00 Santo Domingo (02:00 UTC) to 05:00 Santo Domingo (09:00 UTC), "
        "on weekdays, until further notice.",
        "next Saturday (10 Jul) 19:00 Santo Domingo (23:00 UTC) to 05:00 Santo Domingo "
        "(09:00 UTC), on Saturdays and Sundays, until further notice.",
    )
    await bot.fake.await_for(
        lambda f: any(all(c in t for c in card) for t in f.pinned_texts(kim.chat_id))
    )
    view = await bot.say(kim.telegram_user_id, "/curfew")
    assert "it starts in 14 h (at 22:00 Santo Domingo (02:00 UTC))" in view
    assert "it starts in 1 d 11 h (at 19:00 Santo Domingo (23:00 UTC))" in view

    def reminded(fake: object, hour: str) -> bool:
        return any(
            m.text.startswith("⏰") and f"at {hour} local time" in m.text
            for m in bot.fake.messages_to(kim.chat_id)
        )

    # Friday evening the weekday curfew, Saturday evening the weekend one, nothing else.
    bot.clock.set(datetime(2021, 7, 10, 1, 0, 5, tzinfo=UTC))  # Friday 21:00
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(lambda f: reminded(f, "22:00"))
    # Saturday 02:00: the card shows Friday's night, still in force, not Monday's.
    bot.clock.set(datetime(2021, 7, 10, 6, 0, tzinfo=UTC))
    refresh_curfew_cards(bot.services)
    now_in_force = "in force now (09 Jul) 22:00 Santo Domingo (02:00 UTC) to 05:00"
    await bot.fake.await_for(lambda f: any(now_in_force in t for t in f.pinned_texts(kim.chat_id)))
    bot.clock.set(datetime(2021, 7, 10, 22, 0, 5, tzinfo=UTC))  # Saturday 18:00
    assert queue_due_curfew_messages(bot.services) == 1
    await bot.fake.await_for(lambda f: reminded(f, "19:00"))
    bot.clock.set(datetime(2021, 7, 11, 1, 0, 5, tzinfo=UTC))  # Saturday 21:00
    assert queue_due_curfew_messages(bot.services) == 0
    view = await bot.say(kim.telegram_user_id, "/curfew")
    assert "In force now" in view and "on Saturdays and Sundays" in view


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("DO 19:00-05:00 on weekends", (5, 6)),
        ("DO 22:00-05:00 on weekdays until 30 July", (0, 1, 2, 3, 4)),
        ("DO 22:00-05:00 every Friday", (4,)),
        ("DO 22:00-05:00 on Fridays and Saturdays", (4, 5)),
        ("DO 22:00-05:00", None),
    ],
)
def test_a_lead_types_the_days_of_the_week_a_curfew_holds(
    typed: str, days: tuple[int, ...] | None
) -> None:
    assert parse_curfew_request(typed, today=date(2021, 7, 9)).days == days


def test_a_window_written_from_to_is_not_a_start_date() -> None:
    today = date(2022, 1, 6)
    assert parse_curfew_request("Georgia from 11pm to 7am", today=today).from_day is None
    later = parse_curfew_request("Georgia from 11pm to 7am from 8 January", today=today)
    assert (later.from_day, f"{later.window.start:%H:%M}") == (date(2022, 1, 8), "23:00")
    with pytest.raises(Refusal, match="can't read the date"):
        parse_curfew_request("Georgia 11pm-7am from 8 Janvember", today=today)


def test_days_a_lead_types_are_read_or_refused() -> None:
    with pytest.raises(Refusal, match="I can't read the days “on Friday”"):
        parse_curfew_request("DO 22:00-05:00 on Friday", today=date(2021, 7, 9))
    with pytest.raises(Refusal, match="no days of the week"):
        parse_curfew_request(
            "LK 18:00-06:00 on weekends from 2 April until 4 April without a break",
            today=date(2022, 4, 2),
        )
