"""Roll-call reminders, the deadline, and what happens around a call for help, end to end:
a reminder shows the deadline in the person's own time and carries the answer buttons; a
person Telegram cannot reach gets it by SMS and not on Telegram; a round nobody started
still reports at its deadline; a location shared within the hour after a call for help (its
call closed by a lead) reaches the other leads, never the person, and is the person's own
data, as "safe again" is."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SAWarning
from sqlmodel import select

from bot.rollcall import rules
from bot.settings import BotSettings
from bot.sim.sms import FakeSmsProvider, sms_provider
from bot.sim.telegram.server import FakeTelegram
from db import checkins, privacy
from db.checkins import RollCall
from db.engine import session_scope
from db.incidents import HelpCall
from db.models import DeliveryKind, Role, Staff, Whereabouts
from schedules.zones import local_and_utc
from tests.harness import MutableClock, RunningBot, checkins_of, running_bot, until_recorded

MOBILE = "+77012345678"


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.messages_to(chat_id)]


def _got(chat_id: int, marker: str) -> Callable[[FakeTelegram], bool]:
    return lambda fake: any(marker in text for text in _texts(fake, chat_id))


def _buttons(fake: FakeTelegram, chat_id: int, index: int) -> dict[str, str]:
    """Label → callback data of the buttons on a message sent to a chat."""
    markup = fake.messages_to(chat_id)[index].reply_markup
    assert markup is not None
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


def _only_round(engine: Engine) -> RollCall:
    with session_scope(engine) as session:
        return session.exec(select(RollCall)).one()


def _reachable(engine: Engine, someone: Staff) -> bool:
    with session_scope(engine) as session:
        found = session.get(Staff, someone.id)
        assert found is not None
        return found.reachable


async def test_a_reminder_shows_the_deadline_in_the_persons_own_time_with_the_answer_buttons(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    with session_scope(bot.engine) as session:
        # Sam said with /where that they are in London, five hours behind Almaty.
        session.add(
            Whereabouts(
                staff_id=sam.id or 0,
                chosen_city="London",
                chosen_country="GB",
                chosen_zone="Europe/London",
            )
        )
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    await until_recorded(bot.engine)
    rollcall = _only_round(bot.engine)

    bot.clock.advance(minutes=rollcall.remind_every_minutes)
    assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
    reminder = bot.fake.messages_to(sam.chat_id)[1].text
    assert "Reminder: safety roll call for Kazakhstan" in reminder
    assert f"<b>{local_and_utc('Europe/London', rollcall.deadline_at)}</b>" in reminder
    assert "London" in reminder and "Almaty" not in reminder
    # The same two buttons as on the question, answering for Sam in this round.
    assert _buttons(bot.fake, sam.chat_id, 1) == _buttons(bot.fake, sam.chat_id, 0)
    assert set(_buttons(bot.fake, sam.chat_id, 1)) == {"I'm safe", "I need help"}


@pytest.fixture
def sms() -> Iterator[FakeSmsProvider]:
    with sms_provider() as provider:
        yield provider


@pytest.fixture
async def texting(
    settings: BotSettings,
    engine: Engine,
    fake: FakeTelegram,
    clock: MutableClock,
    sms: FakeSmsProvider,
) -> AsyncIterator[RunningBot]:
    with_sms = settings.model_copy(
        update={
            "fallback_after_seconds": 0.5,
            "sms_api_url": sms.base_url,
            "sms_account_sid": sms.account_sid,
            "sms_auth_token": SecretStr(sms.auth_token),
            "sms_from": sms.from_number,
            "auto_checkin_on_departure": False,
        }
    )
    async with running_bot(with_sms, engine=engine, fake=fake, clock=clock) as running:
        yield running


async def test_someone_telegram_cannot_reach_gets_the_reminder_by_sms_and_not_on_telegram(
    texting: RunningBot, sms: FakeSmsProvider
) -> None:
    bot = texting
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
    bot.fake.block(sam.chat_id)
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 1)
    await bot.fake.await_for(lambda _: not _reachable(bot.engine, sam))
    await until_recorded(bot.engine)
    rollcall = _only_round(bot.engine)
    # Telegram would take a message for Sam again, but nothing says so yet: the bot
    # knows Sam only as someone it cannot reach there.
    bot.fake.unblock(sam.chat_id)

    bot.clock.advance(minutes=rollcall.remind_every_minutes)
    assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 1
    await sms.await_for(lambda p: len(p.messages_to(MOBILE)) == 2)
    assert "We have not heard from you yet." in sms.messages_to(MOBILE)[1].body
    await until_recorded(bot.engine)
    assert not any("Reminder" in text for text in _texts(bot.fake, sam.chat_id))


async def test_a_round_nobody_started_still_reports_to_the_leads_at_its_deadline(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    now = bot.clock()
    with session_scope(bot.engine) as session:
        rollcall = checkins.create_round(
            session,
            country="KZ",
            message="Are you safe?",
            started_by_staff_id=None,  # started by the bot itself, or its starter is gone
            alert_id=None,
            now=now,
            deadline_at=now + timedelta(minutes=30),
            remind_every_minutes=10,
        )
        round_id = rollcall.id or 0
    bot.clock.advance(minutes=31)
    # No lookup of a starter who does not exist (SQLAlchemy warns such a lookup will
    # become an error).
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        assert rules.pass_round_deadline(bot.services, round_id)
    await bot.fake.await_for(_got(lena.chat_id, "deadline passed"))


async def test_a_location_soon_after_a_call_for_help_reaches_the_other_leads_as_the_persons_data(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    # Sam leads Kazakhstan too: what Sam sends about themselves never comes back to them.
    sam = bot.enrol("Sam", role=Role.LEAD, countries=("KZ",), answers_for=("KZ",))
    await bot.say(sam.telegram_user_id, "/help_me")
    await bot.fake.await_for(_got(lena.chat_id, "needs help"))
    with session_scope(bot.engine) as session:
        call = session.exec(select(HelpCall).where(HelpCall.staff_id == sam.id)).one()
    # Lena closes the call; Sam has not said they are safe, so for an hour after asking
    # for help a location Sam shares still goes to the leads.
    assert "is closed" in await bot.say(lena.telegram_user_id, f"/resolve {call.id}")
    await bot.fake.await_for(_got(sam.chat_id, "closed your call for help"))
    bot.clock.advance(minutes=59)
    reply = await bot.say(sam.telegram_user_id, "", location=(43.3, 77.0))
    assert reply.startswith("📍 Location recorded and sent to your security leads.")
    await bot.fake.await_for(_got(lena.chat_id, "shared their location"))
    await bot.say(sam.telegram_user_id, "/safe")
    await bot.fake.await_for(_got(lena.chat_id, "now says they are safe"))
    await until_recorded(bot.engine)
    assert not any(
        marker in text
        for text in _texts(bot.fake, sam.chat_id)
        for marker in ("shared their location", "now says they are safe", "needs help")
    )

    with session_scope(bot.engine) as session:
        located = [
            (c.latitude, c.longitude)
            for c in checkins_of(session, staff_id=sam.id or 0)
            if c.kind == "location"
        ]
        person = session.get(Staff, sam.id)
        assert person is not None
        exported = privacy.export(session, person=person, now=bot.clock())
    assert located == [(43.3, 77.0)]
    # What went to the leads about Sam is Sam's data: /export_me lists it, one copy each.
    reports = {r["kind"]: r["recipients"] for r in exported["reports_about_you"]}
    told = (DeliveryKind.HELP_ALERT, DeliveryKind.LOCATION, DeliveryKind.SAFE_AGAIN)
    assert {kind.value: reports.get(kind.value) for kind in told} == {
        DeliveryKind.HELP_ALERT.value: 1,
        DeliveryKind.LOCATION.value: 1,
        DeliveryKind.SAFE_AGAIN.value: 1,
    }
