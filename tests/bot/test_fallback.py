"""SMS and e-mail for what cannot wait, end to end: the real bot against the fake Bot
API, a fake SMS provider with Twilio's API on 127.0.0.1 and a real SMTP server
(aiosmtpd) on 127.0.0.1. A roll-call question Telegram refuses (403) goes by SMS, the
SMS answer shows in the lead's live roll, a departure advisory Telegram does not confirm
in time goes by e-mail, and unsigned answers are refused."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlmodel import col, select

from bot import feeds
from bot.curfews.rules import queue_due_curfew_messages
from bot.fallback import texts
from bot.rollcall import rules
from bot.settings import BotSettings
from bot.sim.feeds import FeedServer, feed_server
from bot.sim.sms import AUTH_TOKEN, FakeSmsProvider, sms_provider
from db import acks, sources
from db.checkins import RollCall, RollCallAnswer
from db.engine import session_scope
from db.models import Channel, Delivery, DeliveryKind, DeliveryStatus, Priority, Role, Staff
from tests.bot.test_curfews import MORNING, _set_almaty_curfew
from tests.bot.test_feeds import KZ_CALM, KZ_LEAVE, ST_ONE
from tests.bot.test_outages import database_outage
from tests.harness import RunningBot, free_ports, queue, running_bot, until_recorded
from tests.schedules.sources.samples import state_feed

MOBILE = "+77012345678"  # a Kazakh mobile number, as E.164
ADDRESS = "sam@example.org"


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def sms() -> Iterator[FakeSmsProvider]:
    with sms_provider() as provider:
        yield provider


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    (port,) = free_ports(1)
    received = Inbox()
    received.port = port
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def settings(settings: BotSettings, sms: FakeSmsProvider, inbox: Inbox) -> BotSettings:
    (port,) = free_ports(1)
    return settings.model_copy(
        update={
            "health_port": port,
            "fallback_after_seconds": 0.5,
            "sms_api_url": sms.base_url,
            "sms_account_sid": sms.account_sid,
            "sms_auth_token": SecretStr(sms.auth_token),
            "sms_from": sms.from_number,
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{inbox.port}"),
            "smtp_from": "dutybot@example.org",
            "auto_checkin_on_departure": False,
        }
    )


def _inbound_url(bot: RunningBot) -> str:
    return f"http://127.0.0.1:{bot.services.settings.health_port}/sms/inbound"


async def _lead(bot: RunningBot) -> Staff:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    return lena


def _answers(bot: RunningBot, person: Staff) -> list[RollCallAnswer]:
    with session_scope(bot.engine) as session:
        return list(
            session.exec(
                select(RollCallAnswer)
                .where(RollCallAnswer.staff_id == person.id)
                .order_by(col(RollCallAnswer.id))
            ).all()
        )


async def test_the_leads_hear_how_each_person_telegram_cannot_reach_is_still_reached(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    lena = await _lead(bot)
    contacts = {
        "Sam": (MOBILE, None),
        "Eva": (None, ADDRESS),
        "Ada": (MOBILE.replace("5678", "5679"), "ada@example.org"),
        "Kim": (None, None),
    }
    people = [bot.enrol(name, countries=("KZ",)) for name in contacts]
    with session_scope(bot.engine) as session:
        for person in people:
            stored = session.get(Staff, person.id)
            assert stored is not None
            stored.mobile, stored.email = contacts[person.display_name]
            session.add(stored)
    for person in people:
        bot.fake.block(person.chat_id)
    queue(bot, people, "Stay indoors tonight.", key="cut-off", priority=Priority.NORMAL)

    def notices() -> dict[str, str]:
        told = [m.text for m in bot.fake.messages_to(lena.chat_id) if "no longer" in m.text]
        return {p.display_name: t for p in people for t in told if f">{p.display_name}</a>" in t}

    await bot.fake.await_for(lambda _: len(notices()) == 4)
    said = (
        "They blocked the bot or their account is gone "
        "(Telegram said: Forbidden: bot was blocked by the user)."
    )
    by = " Urgent messages (roll calls, departure advisories) go to them by {}."
    told = notices()
    assert said + by.format("SMS") in told["Sam"]
    assert said + by.format("e-mail") in told["Eva"]
    assert said + by.format("SMS") in told["Ada"]  # SMS first, when both are given
    assert said in told["Kim"] and "Urgent messages" not in told["Kim"]


async def test_a_question_telegram_refuses_goes_by_sms_and_the_sms_answer_shows_in_the_roll(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    lena = await _lead(bot)
    sam = bot.enrol("Sam", countries=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))  # on Telegram, no number: nothing by SMS
    given = await bot.say(sam.telegram_user_id, "/contact sms +7 701 234-56-78")
    assert given == f"Recorded: urgent messages reach you by SMS at {MOBILE}."
    bot.fake.block(sam.chat_id)  # Telegram answers 403 to everything sent to Sam

    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? Stay indoors.")
    roll = next(m for m in bot.fake.messages_to(lena.chat_id) if "Roll call #" in m.text)
    with session_scope(bot.engine) as session:
        rollcall = session.exec(select(RollCall)).one()
    code = f"RC{rollcall.id}"

    await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 1)
    (text,) = sms.messages_to(MOBILE)
    assert text.body.startswith(f"Dutybot roll call {code}, Kazakhstan: Are you safe? Stay")
    assert f"reply SAFE {code} or HELP {code}." in text.body and "UTC)" in text.body
    assert text.segments <= 3 and texts.is_gsm7(text.body)
    # The lead sees the question reached Sam by SMS; Sam is not counted unreachable.
    await bot.fake.await_for(
        lambda f: "reached by SMS: 1" in f.current_text(lena.chat_id, roll.message_id)
    )
    assert "unreachable: 0" in bot.fake.current_text(lena.chat_id, roll.message_id)
    # Lena is told Sam cannot be reached on Telegram, and that SMS still reaches Sam.
    await bot.fake.await_for(
        lambda f: any("no longer" in m.text for m in f.messages_to(lena.chat_id))
    )
    notice = next(m.text for m in bot.fake.messages_to(lena.chat_id) if "no longer" in m.text)
    assert "Urgent messages (roll calls, departure advisories) go to them by SMS." in notice

    answered = await sms.answer(_inbound_url(bot), sender=MOBILE, body=f"safe {code.lower()}")
    assert answered.status_code == 200
    # Sam is told by SMS, in the provider's answer, that it arrived.
    assert "<Response><Message>Dutybot: recorded, you are safe (" in answered.text
    assert f"UTC). Roll call {code} answered.</Message></Response>" in answered.text
    await bot.fake.await_for(
        lambda f: "safe (SMS)" in f.current_text(lena.chat_id, roll.message_id)
    )
    live = bot.fake.current_text(lena.chat_id, roll.message_id)
    assert f'<a href="tg://user?id={sam.telegram_user_id}">Sam</a>: safe (SMS)' in live
    assert "safe: 1" in live
    (answer,) = _answers(bot, sam)
    assert (answer.answer, answer.via) == ("safe", "sms")
    # The number never shows in the roll; only that Sam answered by SMS.
    assert MOBILE not in live
    roll_text = await bot.say(lena.telegram_user_id, f"/roll {rollcall.id}")
    assert "(SMS)" in roll_text and MOBILE not in roll_text
    # Nothing went twice by SMS, and nothing to Kim, who is on Telegram.
    assert len(sms.messages_to(MOBILE)) == 1 and len(sms.sent) == 1
    assert _answers(bot, kim) == []


async def test_an_unsigned_or_wrongly_signed_answer_is_refused_and_changes_nothing(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    lena = await _lead(bot)
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    url = _inbound_url(bot)

    unsigned = await sms.answer(url, sender=MOBILE, body="SAFE", signed=False)
    forged = await sms.answer(url, sender=MOBILE, body="SAFE", token="0" * 32)
    async with httpx.AsyncClient() as client:
        garbage = await client.post(
            url, data={"From": MOBILE, "Body": "SAFE"}, headers={"X-Twilio-Signature": "abc"}
        )
    assert (unsigned.status_code, forged.status_code, garbage.status_code) == (403, 403, 403)
    assert _answers(bot, sam) == []

    # The same answer, signed, is taken: the refusals above were about the signature.
    assert (await sms.answer(url, sender=MOBILE, body="SAFE")).status_code == 200
    assert [a.via for a in _answers(bot, sam)] == ["sms"]
    # An unknown number gets nothing, and nothing is recorded.
    stranger = await sms.answer(url, sender="+77019999999", body="SAFE")
    assert stranger.status_code == 200 and "<Message>" not in stranger.text
    assert sms.messages_to("+77019999999") == []
    assert [a.via for a in _answers(bot, sam)] == ["sms"]


async def test_a_departure_advisory_telegram_does_not_confirm_in_time_goes_by_email(
    bot: RunningBot, sms: FakeSmsProvider, inbox: Inbox
) -> None:
    kim = bot.enrol("Kim", countries=("KZ",))
    nora = bot.enrol("Nora", countries=("KZ",))  # gave nothing: only Telegram
    assert "e-mail at sam@example.org" in await bot.say(
        kim.telegram_user_id, f"/contact email  {ADDRESS} "
    )
    with feed_server() as server:
        server.serve("/ta.xml", state_feed(KZ_CALM, ST_ONE))
        source_id = _add_source(bot, server)
        assert await feeds.poll_source(bot.services, source_id) == []
        # Telegram fails every message for a minute; the advisory is queued meanwhile.
        bot.fake.fail_for("sendMessage", 60)
        server.serve("/ta.xml", state_feed(KZ_LEAVE, ST_ONE))
        (departure_id,) = await feeds.poll_source(bot.services, source_id)

    await _until(lambda: _sent_by(bot, Channel.EMAIL) == 1)
    (mail,) = inbox.messages
    assert inbox.recipients == [[ADDRESS]]
    assert mail["Subject"] == "Dutybot: Departure advisory" and mail["To"] == ADDRESS
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "DEPARTURE ADVISORY" in plain.get_content() and "<b>" not in plain.get_content()
    assert "<b>DEPARTURE ADVISORY</b>" in html.get_content()
    with session_scope(bot.engine) as session:
        rows = session.exec(
            select(Delivery).where(Delivery.alert_id == departure_id).order_by(col(Delivery.id))
        ).all()
    telegram = {r.staff_id: r.status for r in rows if r.channel == Channel.TELEGRAM.value}
    by_email = [r for r in rows if r.channel == Channel.EMAIL.value]
    # Telegram has still not taken it: the e-mail went because of the window, not after.
    assert telegram[kim.id or 0] in (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
    assert [(r.staff_id, r.kind, r.status) for r in by_email] == [
        (kim.id, DeliveryKind.FEED_ALERT.value, DeliveryStatus.SENT.value)
    ]
    assert nora.id in telegram and sms.sent == []
    # What /acks tells the lead: Kim, who has not acknowledged it, once, and reached.
    with session_scope(bot.engine) as session:
        report = acks.report(session, alert_id=departure_id)
    assert report is not None
    assert [(p.name, p.reached_by) for p in report.waiting] == [("Kim", "e-mail"), ("Nora", None)]


async def _until(predicate: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {seconds:.0f} s")
        await asyncio.sleep(0.02)


def _reachable(bot: RunningBot, staff_id: int) -> bool:
    with session_scope(bot.engine) as session:
        person = session.get(Staff, staff_id)
        assert person is not None
        return person.reachable


def _sent_by(bot: RunningBot, channel: Channel) -> int:
    with session_scope(bot.engine) as session:
        return len(
            session.exec(
                select(Delivery.id).where(
                    Delivery.channel == channel.value,
                    Delivery.status == DeliveryStatus.SENT.value,
                )
            ).all()
        )


def _add_source(bot: RunningBot, server: FeedServer) -> int:
    with session_scope(bot.engine) as session:
        source = sources.add(session, kind="us-state", url=server.url("/ta.xml"), country=None)
        assert source is not None and source.id is not None
        return source.id


async def test_an_unanswered_question_goes_by_sms_at_the_first_reminder_and_a_call_for_help_by_sms(
    settings: BotSettings, engine: Any, fake: Any, clock: Any, sms: FakeSmsProvider
) -> None:
    # Telegram takes the question here, however slowly a loaded machine sends it: the
    # window is long, and only the first reminder, the answers and the reply are at stake.
    patient = settings.model_copy(update={"fallback_after_seconds": 600.0})
    async with running_bot(patient, engine=engine, fake=fake, clock=clock) as bot:
        lena = await _lead(bot)
        sam = bot.enrol("Sam", countries=("KZ",))
        await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
        await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
        with session_scope(bot.engine) as session:
            rollcall = session.exec(select(RollCall)).one()
        await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
        await until_recorded(bot.engine)
        # The lead sees that Sam could be texted, not the number.
        roll = await bot.say(lena.telegram_user_id, f"/roll {rollcall.id}")
        assert "Sam</a> (@sam), can be reached by SMS" in roll and MOBILE not in roll

        # Telegram took the question, but Sam has not answered by the first reminder: it goes
        # by SMS as well, as the phone may have no internet.
        bot.clock.advance(minutes=30)
        assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 1
        await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 1)
        (reminder,) = sms.messages_to(MOBILE)
        assert f"RC{rollcall.id}, Kazakhstan: We have not heard from you yet." in reminder.body

        # An answer in Russian asks for help: the leads are alerted, with the number.
        helped = await sms.answer(_inbound_url(bot), sender=MOBILE, body="Помогите")
        assert helped.status_code == 200
        assert "1 security lead alerted. Text us what happened.</Message>" in helped.text
        await bot.fake.await_for(
            lambda f: any("needs help</b>" in m.text for m in f.messages_to(lena.chat_id))
        )
        alert = next(
            m.text for m in bot.fake.messages_to(lena.chat_id) if "needs help</b>" in m.text
        )
        assert "\nSent by SMS\n" in alert and f"\nMobile (SMS): {MOBILE}\n" in alert
        assert [(a.answer, a.via) for a in _answers(bot, sam)] == [("help", "sms")]
        # Anything else Sam texts reaches the leads as part of the call for help.
        relay = await sms.answer(
            _inbound_url(bot), sender=MOBILE, body="Car broke down near Kapchagay"
        )
        assert "<Message>Dutybot: passed to your security team.</Message>" in relay.text
        await bot.fake.await_for(
            lambda f: any(
                "(by SMS) Car broke down near Kapchagay" in m.text
                for m in f.messages_to(lena.chat_id)
            )
        )
        relayed = next(m for m in bot.fake.messages_to(lena.chat_id) if "Car broke down" in m.text)
        # Sam's Telegram is gone now: Lena's reply in the call reaches Sam by SMS, once. (Her
        # reply is matched to the call by the relayed copy's recorded message id.)
        await until_recorded(bot.engine)
        bot.fake.block(sam.chat_id)
        await bot.say(
            lena.telegram_user_id, "Stay in the car, help is coming", reply_to=relayed.message_id
        )
        await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 2)
        reply = sms.messages_to(MOBILE)[-1].body
        assert "Stay in the car, help is coming" in reply
        assert reply.endswith("Reply to this SMS to answer them.")
        await until_recorded(bot.engine)
        assert len(sms.messages_to(MOBILE)) == 2


async def test_an_sms_the_provider_cannot_take_now_is_retried_and_a_refused_one_is_not(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    lena = await _lead(bot)
    sam = bot.enrol("Sam", countries=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
    await bot.say(kim.telegram_user_id, "/contact sms +7 702 111 2233")
    bot.fake.block(sam.chat_id)
    bot.fake.block(kim.chat_id)
    sms.fail_next(status=429, code=20429, message="Too Many Requests", to=MOBILE)
    sms.fail_next(
        status=400,
        code=21610,
        message="Attempt to send to unsubscribed recipient",
        to="+77021112233",
    )
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")

    def settled() -> bool:
        with session_scope(bot.engine) as session:
            rows = session.exec(select(Delivery).where(Delivery.channel == Channel.SMS.value)).all()
        return len(rows) == 2 and all(r.status in ("sent", "failed") for r in rows)

    for _ in range(1500):
        if settled():
            break
        bot.clock.advance(seconds=1)  # past the backoff
        await asyncio.sleep(0.02)
    with session_scope(bot.engine) as session:
        rows = {
            r.staff_id: r
            for r in session.exec(select(Delivery).where(Delivery.channel == Channel.SMS.value))
        }
    assert rows[sam.id or 0].status == "sent" and rows[sam.id or 0].attempts == 2
    assert rows[kim.id or 0].status == "failed" and rows[kim.id or 0].attempts == 1
    assert "21610" in (rows[kim.id or 0].last_error or "")
    assert len(sms.messages_to(MOBILE)) == 1 and sms.messages_to("+77021112233") == []
    assert sms.refused == [(429, 20429), (400, 21610)] or sms.refused == [
        (400, 21610),
        (429, 20429),
    ]


async def test_without_sms_or_smtp_nothing_changes_and_healthz_says_the_fallback_is_off(
    settings: BotSettings, engine: Any, fake: Any, clock: Any
) -> None:
    plain = settings.model_copy(
        update={
            "sms_account_sid": None,
            "sms_auth_token": None,
            "sms_from": None,
            "smtp_url": None,
            "smtp_from": None,
        }
    )
    async with running_bot(plain, engine=engine, fake=fake, clock=clock) as bot:
        assert bot.services.fallback is None
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{plain.health_port}/healthz")
            inbound = await client.post(_inbound_url(bot), data={"From": MOBILE, "Body": "SAFE"})
        assert health.json()["fallback"] == {
            "status": "off",
            "sms": False,
            "email": False,
            "after_seconds": 0.5,
        }
        assert inbound.status_code == 404


async def test_healthz_says_which_fallback_is_on(bot: RunningBot) -> None:
    async with httpx.AsyncClient() as client:
        health = await client.get(f"http://127.0.0.1:{bot.services.settings.health_port}/healthz")
    assert health.json()["fallback"] == {
        "status": "on",
        "sms": True,
        "email": True,
        "after_seconds": 0.5,
    }
    assert "auth" not in health.text.lower() and AUTH_TOKEN not in health.text


async def test_nothing_goes_twice_by_sms_across_a_restart_and_nothing_is_lost_in_a_crash(
    settings: BotSettings, engine: Any, fake: Any, clock: Any, sms: FakeSmsProvider
) -> None:
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        lena = await _lead(bot)
        sam = bot.enrol("Sam", countries=("KZ",))
        await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
        bot.fake.block(sam.chat_id)
        await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
        await _until(lambda: _sent_by(bot, Channel.SMS) == 1)

    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as again:
        sender = again.services.fallback
        assert sender is not None
        # Many looks at the outbox, each past the window: the SMS is not sent again.
        start = sender.passes
        await _until(lambda: sender.passes >= start + 5)
        assert len(sms.sent) == 1

    # The bot dies after handing the SMS to the provider but before recording it: the
    # row is left `sending`, and the next start sends it again rather than lose it.
    with session_scope(engine) as session:
        row = session.exec(select(Delivery).where(Delivery.channel == Channel.SMS.value)).one()
        row.status = DeliveryStatus.SENDING.value
        session.add(row)
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as third:
        await _until(lambda: _sent_by(third, Channel.SMS) == 1)
    assert len(sms.messages_to(MOBILE)) == 2


async def test_a_curfew_reminder_to_someone_cut_off_goes_by_sms_in_local_time_and_utc(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await bot.say(kim.telegram_user_id, f"/contact sms {MOBILE}")
    bot.fake.block(kim.chat_id)
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    # Telegram refused the notice that the curfew was set: Kim is known to be cut off.
    await _until(lambda: not _reachable(bot, kim.id or 0))
    # 60 minutes before the start Kim is reminded all the same, by SMS.
    bot.clock.set(datetime(2022, 1, 6, 16, 0, 5, tzinfo=UTC))
    assert queue_due_curfew_messages(bot.services) == 1
    await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 1)
    assert sms.messages_to(MOBILE)[0].body == (
        "Dutybot: Curfew in Almaty starts in 60 minutes, at 23:00 local time (17:00 UTC), "
        "and ends at 07:00 local time (01:00 UTC)."
    )
    # The notice that the curfew was set is no reminder: it did not go by SMS.
    await until_recorded(bot.engine)
    assert len(sms.sent) == 1


async def test_an_sms_sent_while_the_database_is_down_is_recorded_once_it_is_back(
    bot: RunningBot, sms: FakeSmsProvider
) -> None:
    lena = await _lead(bot)
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
    bot.fake.block(sam.chat_id)
    sms.hold()
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    await _until(lambda: sms.arrived == 1)  # the SMS is with the provider, unanswered
    sender = bot.services.fallback
    assert sender is not None
    with database_outage(bot.engine):
        sms.release()  # the provider takes it while the bot cannot record that
        await _until(lambda: len(sms.sent) == 1)
        start = sender.passes
        await _until(lambda: sender.passes >= start + 3)
    await _until(lambda: _sent_by(bot, Channel.SMS) == 1)
    # Held and recorded after the outage: not sent a second time, not lost.
    start = sender.passes
    await _until(lambda: sender.passes >= start + 5)
    assert len(sms.sent) == 1 and sms.arrived == 1
