"""Safety roll calls end to end against the fake Bot API: answers, help alerts, reminders,
the deadline, the live roll, refused presses, who may see what, and restarts."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import render
from bot.incidents.texts import TYPE_WHAT
from bot.rollcall import rules
from bot.rollcall.jobs import ROLLS_JOB, plan_round_jobs
from bot.rollcall.parsing import CHECKIN_USAGE, MAX_MESSAGE, parse_checkin
from bot.rollcall.texts import deadline_report, roll_details
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import checkins as db
from db import staff
from db.checkins import Answer, RollCall, RollCallAnswer, RoundStatus
from db.engine import session_scope
from db.incidents import calls_of
from db.models import Alert, AlertKind, AuditEntry, Delivery, DeliveryKind, Priority, Role, Staff
from db.refusal import Refusal
from schedules.rollcall import RollEntry
from schedules.zones import local_and_utc
from tests.harness import (
    ADMIN_ID,
    MutableClock,
    RunningBot,
    checkins_of,
    queue,
    running_bot,
    until_recorded,
)

NOT_KZ = "You don't answer for Kazakhstan; /lead KZ takes it on."
ATLANTIS = "I don't know the country “Atlantis”. Use its English name or ISO code, e.g. KZ."


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    # The shared settings, with a short live-roll interval so tests do not wait seconds for it.
    return settings.model_copy(update={"roll_update_seconds": 0.2})


def _buttons(fake: FakeTelegram, chat_id: int, index: int = -1) -> tuple[int, dict[str, str]]:
    """(message id, label → callback data) of a message with buttons sent to a chat (by
    default the last one with buttons)."""
    messages = fake.messages_to(chat_id)
    if index == -1:
        messages = [m for m in messages if m.reply_markup is not None] or messages
    message = messages[index]
    assert message.reply_markup is not None, message.text
    labels = {
        b["text"]: b["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for b in row
    }
    return message.message_id, labels


def _press(bot: RunningBot, person: Staff, label: str, *, index: int = -1) -> int:
    message_id, labels = _buttons(bot.fake, person.chat_id, index)
    bot.press(
        person.telegram_user_id, chat_id=person.chat_id, message_id=message_id, data=labels[label]
    )
    return message_id


def _next_edit_fails(bot: RunningBot, person: Staff) -> None:
    """Telegram refuses the next edit of a message in the person's chat."""
    bot.fake.fail_next(
        "editMessageText",
        status=400,
        description="Bad Request: message can't be edited",
        chat_id=person.chat_id,
    )


async def _answered(bot: RunningBot, before: int) -> str:
    """Wait for the next callback answer; its text."""
    await bot.fake.await_for(lambda f: len(f.callback_answers) > before)
    return str(bot.fake.callback_answers[before].get("text", ""))


# Leads' messages about a person link their name to their profile; most tests read the
# name alone (tests/bot/test_incidents.py checks the link).
_PROFILE = re.compile(r'<a href="tg://user\?id=\d+">(.*?)</a>')


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [_PROFILE.sub(r"\1", m.text) for m in fake.messages_to(chat_id)]


def _got(chat_id: int, marker: str) -> Callable[[FakeTelegram], bool]:
    return lambda fake: any(marker in text for text in _texts(fake, chat_id))


def _no_job(bot: RunningBot, name: str) -> Callable[[FakeTelegram], bool]:
    jobs = bot.application.job_queue
    assert jobs is not None
    return lambda _: not jobs.get_jobs_by_name(name)


def _round(engine: Engine) -> RollCall:
    with session_scope(engine) as session:
        rollcall = session.exec(select(RollCall).order_by(col(RollCall.id).desc())).first()
        assert rollcall is not None
        return rollcall


def _refusals(engine: Engine) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(AuditEntry).where(
                    AuditEntry.action == "rollcall_answer", AuditEntry.outcome == "refused"
                )
            ).all()
        )


async def _lead(bot: RunningBot, name: str, *countries: str) -> Staff:
    person = bot.enrol(name, role=Role.LEAD)
    for country in countries:
        assert "You now lead" in await bot.say(person.telegram_user_id, f"/lead {country}")
    return person


async def _sam_asked(bot: RunningBot) -> tuple[Staff, Staff]:
    """Lena leads Kazakhstan and starts a roll call there; Sam has its question."""
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    return lena, sam


async def test_a_round_for_three_safe_help_and_silent(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    omar = await _lead(bot, "Omar Lead", "GE")
    sam, nina, sid = (bot.enrol(n, countries=("KZ",)) for n in ("Sam Safe", "Nina Help", "Sid Q"))

    reply = await bot.say(
        lena.telegram_user_id, "/checkin KZ Explosion reported near Republic Square. 2h"
    )
    assert "Roll call #" in reply and "no answer: 3" in reply and "safe: 0" in reply
    report_id = bot.fake.messages_to(lena.chat_id)[-1].message_id
    rollcall = _round(bot.engine)
    assert rollcall.deadline_at - rollcall.started_at == timedelta(hours=2)

    # One message each, with two buttons whose data binds the press to them, under 64 bytes.
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in (sam, nina, sid))
    )
    for person in (sam, nina, sid):
        (question,) = bot.fake.messages_to(person.chat_id)
        assert "Safety roll call: Kazakhstan" in question.text
        assert "Explosion reported near Republic Square." in question.text
        deadline = local_and_utc("Asia/Almaty", rollcall.deadline_at)
        assert f"by <b>{deadline}</b>." in question.text
        _, labels = _buttons(bot.fake, person.chat_id)
        assert set(labels) == {"I'm safe", "I need help"}
        assert all(len(data.encode()) < 64 for data in labels.values())

    # Sam is safe: the message shows what was recorded and when, buttons kept to change it.
    before = len(bot.fake.callback_answers)
    sam_message = _press(bot, sam, "I'm safe")
    assert "Recorded" in await _answered(bot, before)
    await bot.fake.await_for(
        lambda f: "Recorded: you are safe" in f.current_text(sam.chat_id, sam_message)
    )
    assert bot.fake.current_markup(sam.chat_id, sam_message) is not None

    # Nina needs help: her leads are alerted at once; a lead of elsewhere is not.
    _press(bot, nina, "I need help")
    await bot.fake.await_for(
        lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)), timeout=5
    )
    alert = next(t for t in _texts(bot.fake, lena.chat_id) if "needs help</b>" in t)
    assert "Nina Help (@nina_help)" in alert and "Kazakhstan" in alert
    assert not any("needs help</b>" in t for t in _texts(bot.fake, omar.chat_id))

    # The live roll is the reply to /checkin, edited in place.
    await bot.fake.await_for(
        lambda f: all(
            line in f.current_text(lena.chat_id, report_id)
            for line in ("safe: 1", "need help: 1", "no answer: 1")
        )
    )

    # Sid is silent: reminded after 30 minutes, once; the others are not.
    await until_recorded(bot.engine)
    bot.clock.advance(minutes=30)
    assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 1
    assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 0
    await bot.fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 2)
    assert "Reminder: safety roll call for Kazakhstan" in _texts(bot.fake, sid.chat_id)[-1]
    assert len(bot.fake.messages_to(sam.chat_id)) == 1
    # Nina got the question, then word on how to tell her team more.
    assert _texts(bot.fake, nina.chat_id)[1:] == [TYPE_WHAT]

    # At the deadline the leads get who never answered; the round stops reminding.
    bot.clock.advance(minutes=90)
    assert rules.pass_round_deadline(bot.services, rollcall.id or 0)
    assert not rules.pass_round_deadline(bot.services, rollcall.id or 0)
    await bot.fake.await_for(lambda f: any("deadline passed" in t for t in _texts(f, lena.chat_id)))
    report = next(t for t in _texts(bot.fake, lena.chat_id) if "deadline passed" in t)
    never = report.partition("Never answered (1):")[2].partition("\n\n")[0]
    assert "Sid Q (@sid_q)" in never and "Sam" not in never
    raw = next(m.text for m in bot.fake.messages_to(lena.chat_id) if "deadline passed" in m.text)
    assert f'<a href="tg://user?id={sid.telegram_user_id}">Sid Q</a> (@sid_q)' in raw
    assert "Still need help (1):\n• Nina Help" in report
    assert rules.send_due_reminder(bot.services, rollcall.id or 0) == 0
    await bot.fake.await_for(lambda f: "Deadline passed" in f.current_text(lena.chat_id, report_id))

    # Sid answers after the deadline, on the reminder: recorded, as late.
    sid_message = _press(bot, sid, "I'm safe")
    await bot.fake.await_for(
        lambda f: "after the deadline" in f.current_text(sid.chat_id, sid_message)
    )
    await bot.fake.await_for(
        lambda f: (
            "1 late" in f.current_text(lena.chat_id, report_id)
            and "safe: 2" in f.current_text(lena.chat_id, report_id)
        )
    )
    with session_scope(bot.engine) as session:
        answers = session.exec(select(RollCallAnswer).order_by(col(RollCallAnswer.id))).all()
        assert [(a.answer, a.late) for a in answers] == [
            ("safe", False),
            ("help", False),
            ("safe", True),
        ]
        # Everything the roll call sent went at the highest priority.
        rows = session.exec(select(Delivery)).all()
        assert len(rows) >= 6 and {r.priority for r in rows} == {Priority.CRITICAL}


async def test_an_answer_can_be_changed_and_every_answer_is_kept(bot: RunningBot) -> None:
    lena, sam = await _sam_asked(bot)

    message_id = _press(bot, sam, "I need help")
    await bot.fake.await_for(lambda f: "you need help" in f.current_text(sam.chat_id, message_id))
    await bot.fake.await_for(lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)))
    before, calls = len(bot.fake.callback_answers), len(bot.fake.calls)
    _press(bot, sam, "I need help")  # the same again: nothing new
    assert await _answered(bot, before) == "Already recorded."
    # ... and nothing to edit: the question shows that answer already.
    await bot.fake.await_for(lambda _: not bot.services.background)
    assert not [
        p
        for method, p in bot.fake.calls[calls:]
        if method == "editMessageText" and str(p.get("chat_id")) == str(sam.chat_id)
    ]
    _press(bot, sam, "I'm safe")
    await bot.fake.await_for(lambda f: "you are safe" in f.current_text(sam.chat_id, message_id))
    await bot.fake.await_for(
        lambda f: any("now says they are safe" in t for t in _texts(f, lena.chat_id))
    )
    assert sum("needs help</b>" in t for t in _texts(bot.fake, lena.chat_id)) == 1
    with session_scope(bot.engine) as session:
        answers = session.exec(select(RollCallAnswer).order_by(col(RollCallAnswer.id))).all()
        assert [a.answer for a in answers] == ["help", "safe"]
        entries = db.roll_entries(session, rollcall=_round(bot.engine))
    assert [e.answer for e in entries] == ["safe"]


async def test_a_second_tap_on_a_question_that_never_showed_the_answer_shows_it(
    bot: RunningBot,
) -> None:
    _, sam = await _sam_asked(bot)
    # The first press is recorded, but the question could not be edited to show it.
    _next_edit_fails(bot, sam)
    before = len(bot.fake.callback_answers)
    _, labels = _buttons(bot.fake, sam.chat_id)
    message_id = _press(bot, sam, "I'm safe")
    assert await _answered(bot, before) == "Recorded: you are safe."
    await bot.fake.await_for(lambda _: not bot.services.background)
    assert "Recorded" not in bot.fake.current_text(sam.chat_id, message_id)
    # Sam taps again: nothing new is recorded, and the question now shows the answer.
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I'm safe")
    assert await _answered(bot, before) == "Already recorded."
    await bot.fake.await_for(
        lambda f: "Recorded: you are safe" in f.current_text(sam.chat_id, message_id)
    )
    assert len(_answers(bot.engine)) == 1
    # ... and keeps the buttons, so that Sam can still change the answer.
    markup = bot.fake.current_markup(sam.chat_id, message_id)
    assert markup is not None
    assert {b["text"]: b["callback_data"] for r in markup["inline_keyboard"] for b in r} == labels


async def test_a_press_shows_in_the_live_roll_without_waiting_for_its_periodic_update(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    assert "safe: 0" in await bot.say(lena.telegram_user_id, "/checkin KZ")
    report_id = bot.fake.messages_to(lena.chat_id)[-1].message_id
    await bot.fake.await_for(lambda f: any(m.reply_markup for m in f.messages_to(sam.chat_id)))
    # Only the press can bring the roll up to date now.
    jobs = bot.application.job_queue
    assert jobs is not None
    (periodic,) = jobs.get_jobs_by_name(ROLLS_JOB)
    periodic.schedule_removal()
    await bot.fake.await_for(_no_job(bot, ROLLS_JOB))

    _press(bot, sam, "I'm safe")
    await bot.fake.await_for(lambda f: "safe: 1" in f.current_text(lena.chat_id, report_id))


def _calls_for_help(engine: Engine, person: Staff) -> list[tuple[int, str | None]]:
    """(id, why it closed, None while open) of each of a person's calls for help."""
    with session_scope(engine) as session:
        return [(c.id or 0, c.close_reason) for c in calls_of(session, staff_id=person.id or 0)]


async def test_a_press_on_im_safe_closes_the_call_for_help_and_i_need_help_keeps_it_open(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    assert "being alerted now" in await bot.say(sam.telegram_user_id, "/help_me Road blocked")
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))
    ((call_id, _),) = _calls_for_help(bot.engine, sam)
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    await bot.fake.await_for(lambda f: any(m.reply_markup for m in f.messages_to(sam.chat_id)))
    round_id = _round(bot.engine).id

    # Still in trouble: the roll call's alert joins the call that is open.
    message_id = _press(bot, sam, "I need help")
    await bot.fake.await_for(lambda f: "you need help" in f.current_text(sam.chat_id, message_id))
    await bot.fake.await_for(lambda f: len(_sent(f, lena, "needs help</b>")) == 2)
    assert _calls_for_help(bot.engine, sam) == [(call_id, None)]
    with session_scope(bot.engine) as session:
        alerts = session.exec(
            select(Delivery).where(Delivery.kind == DeliveryKind.HELP_ALERT.value)
        ).all()
    # The one from the press is the roll call's, in the same call.
    assert [(a.round_id, a.call_id) for a in alerts] == [(None, call_id), (round_id, call_id)]

    # Safe now: the call closes, as /safe closes it.
    _press(bot, sam, "I'm safe")
    await bot.fake.await_for(lambda f: "you are safe" in f.current_text(sam.chat_id, message_id))
    await bot.fake.await_for(_got(lena.chat_id, "now says they are safe"))
    assert _calls_for_help(bot.engine, sam) == [(call_id, "safe")]
    assert await bot.say(lena.telegram_user_id, "/incidents") == "No open calls for help."


async def test_the_answered_question_keeps_the_deadline_on_the_persons_own_clock(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    # Sam said with /where that they are in London, five hours behind Almaty.
    assert "London" in await bot.say(sam.telegram_user_id, "/where London")
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    await bot.fake.await_for(lambda f: any(m.reply_markup for m in f.messages_to(sam.chat_id)))
    on_sams_clock = f"<b>{local_and_utc('Europe/London', _round(bot.engine).deadline_at)}</b>"
    message_id, _ = _buttons(bot.fake, sam.chat_id)
    assert on_sams_clock in bot.fake.current_text(sam.chat_id, message_id)

    _press(bot, sam, "I'm safe")
    await bot.fake.await_for(lambda f: "you are safe" in f.current_text(sam.chat_id, message_id))
    assert on_sams_clock in bot.fake.current_text(sam.chat_id, message_id)
    # A second tap that has to draw the question again (the first edit is not shown) draws
    # it on Sam's clock too.
    _next_edit_fails(bot, sam)
    _press(bot, sam, "I need help")
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))
    await bot.fake.await_for(lambda _: not bot.services.background)
    assert "you are safe" in bot.fake.current_text(sam.chat_id, message_id)
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I need help")
    assert await _answered(bot, before) == "Already recorded."
    await bot.fake.await_for(lambda f: "you need help" in f.current_text(sam.chat_id, message_id))
    assert on_sams_clock in bot.fake.current_text(sam.chat_id, message_id)


async def test_forged_foreign_and_stale_presses_are_refused_and_audited(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    await bot.fake.await_for(
        lambda f: len(f.messages_to(sam.chat_id)) == 1 and len(f.messages_to(kim.chat_id)) == 1
    )
    round_id = _round(bot.engine).id or 0
    message_id, labels = _buttons(bot.fake, sam.chat_id)
    _, kim_labels = _buttons(bot.fake, kim.chat_id)
    member_id = int(labels["I'm safe"].split(":")[2])
    kim_member = int(kim_labels["I'm safe"].split(":")[2])

    async def press_as(person: Staff, data: str) -> str:
        before = len(bot.fake.callback_answers)
        bot.press(person.telegram_user_id, chat_id=sam.chat_id, message_id=message_id, data=data)
        return await _answered(bot, before)

    # Forged: unknown member, a member of another round, nonsense.
    assert await press_as(sam, f"rc:{round_id}:99999:s") == "That button is not valid."
    assert await press_as(sam, f"rc:{round_id + 1}:{member_id}:s") == "That button is not valid."
    assert await press_as(sam, "rc:1:x:s") == "That button is not valid."
    # Sam's own buttons are refused to Kim; Kim's member id is refused to Sam.
    assert await press_as(kim, labels["I'm safe"]) == "This button is not for you."
    assert await press_as(sam, f"rc:{round_id}:{kim_member}:h") == "This button is not for you."
    with session_scope(bot.engine) as session:
        assert session.exec(select(RollCallAnswer)).all() == []
    assert not any("needs help</b>" in t for t in _texts(bot.fake, lena.chat_id))

    # A round closed by a lead refuses presses, pointing to /help_me.
    closed = await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")
    assert f"Roll call #{round_id}" in closed and "Ended by a lead " in closed
    refused = await press_as(sam, labels["I need help"])
    assert refused.startswith("This roll call is closed") and "/help_me" in refused
    with session_scope(bot.engine) as session:
        assert session.exec(select(RollCallAnswer)).all() == []
    reasons = [json.loads(e.detail)["reason"] for e in _refusals(bot.engine)]
    assert reasons == [
        "no such member in that round",
        "no such member in that round",
        "malformed",
        f"member {member_id} is staff {sam.id}",
        f"member {kim_member} is staff {kim.id}",
        f"round {round_id} is closed",
    ]
    assert all(e.actor_staff_id in (sam.id, kim.id) for e in _refusals(bot.engine))
    assert "already closed" in await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")


async def test_only_leads_of_the_country_and_admins_see_roll_calls(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    omar = await _lead(bot, "Omar Lead", "GE")
    sam = bot.enrol("Sam", countries=("KZ",))

    assert "only security leads" in await bot.say(sam.telegram_user_id, "/checkin KZ")
    assert "only security leads" in await bot.say(sam.telegram_user_id, "/roll KZ")
    assert await bot.say(omar.telegram_user_id, "/checkin KZ") == NOT_KZ
    with session_scope(bot.engine) as session:
        assert session.exec(select(RollCall)).all() == []
    assert "Roll call #" in await bot.say(lena.telegram_user_id, "/checkin KZ")
    round_id = _round(bot.engine).id
    for command in ("roll", "roll_csv", "checkin_end"):
        reply = await bot.say(omar.telegram_user_id, f"/{command} {round_id}")
        assert reply == f"There is no roll call {round_id} in the countries you lead.", command
        assert await bot.say(omar.telegram_user_id, f"/{command} KZ") == NOT_KZ, command
    assert _round(bot.engine).status == RoundStatus.OPEN.value  # /checkin_end changed nothing
    # What was typed is quoted back no longer than 30 characters ...
    hashes = "#" * 40 + str(round_id)
    assert await bot.say(omar.telegram_user_id, f"/roll {hashes}") == (
        f"There is no roll call {hashes[:30]} in the countries you lead."
    )
    # ... and only "#" may come before a round's number.
    assert await bot.say(lena.telegram_user_id, f"/roll X{round_id}") == (
        f"I don't know the country “X{round_id}”. Use its English name or ISO code, e.g. KZ."
    )
    assert "No roll call is running" in await bot.say(omar.telegram_user_id, "/roll")
    # Admins see every country.
    assert "Sam" in await bot.say(ADMIN_ID, f"/roll {round_id}")
    assert f"#{round_id} Kazakhstan" in await bot.say(ADMIN_ID, "/roll")
    assert "Nobody follows Georgia" in await bot.say(omar.telegram_user_id, "/checkin GE")
    with session_scope(bot.engine) as session:
        refusals = session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
        actions = sorted(e.action for e in refusals)
    expected = ["checkin", "checkin", "checkin", "checkin_end", "checkin_end", "roll", "roll"]
    # Both of the lookups above are refused, and audited as such.
    assert actions == [*expected, "roll", "roll", "roll", "roll_csv", "roll_csv"]


async def test_roll_names_each_group_and_the_csv_has_everyone(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam Safe", countries=("KZ",))
    nina = bot.enrol("=Nina", countries=("KZ",))
    sid = bot.enrol("Sid Silent", countries=("KZ",))
    gone = bot.enrol("Gus Gone", countries=("KZ",))
    with session_scope(bot.engine) as session:
        staff.mark_unreachable(session, staff_id=gone.id or 0)  # blocked the bot last week
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 90m")
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in (sam, nina, sid))
    )
    reply = await bot.say(
        sam.telegram_user_id, "/safe At the hotel, all fine", location=(43.238949, 76.889709)
    )
    assert "Recorded: you are safe" in reply and "This answers roll call #" in reply
    assert "location was recorded" in reply
    _press(bot, nina, "I need help")
    await bot.fake.await_for(lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)))

    shown = await bot.say(lena.telegram_user_id, "/roll KZ")
    # Each name links to the person's profile, so that a lead reaches them in one tap.
    for person in (sam, nina, sid, gone):
        link = f'<a href="tg://user?id={person.telegram_user_id}">{render.esc(person.display_name)}</a>'
        assert link in shown
    roll = _PROFILE.sub(r"\1", shown)
    help_part, _, rest = roll.partition("❔ No answer")
    assert "🆘 Need help (1):\n• =Nina (@=nina)" in help_part
    assert "(1):\n• Sid Silent (@sid_silent)" in rest
    assert "🚫 Unreachable (1):\n• Gus Gone" in rest
    assert "✅ Safe (1):\n• Sam Safe (@sam_safe)" in rest
    assert "“At the hotel, all fine” [43.23895, 76.88971]" in rest

    caption = await bot.say(lena.telegram_user_id, "/roll_csv KZ")
    assert caption.startswith("Roll call #") and "Kazakhstan" in caption
    document = bot.fake.messages_to(lena.chat_id)[-1]
    assert document.method == "sendDocument" and document.document is not None
    assert document.filename is not None and document.filename.endswith("-KZ.csv")
    rows = list(csv.DictReader(io.StringIO(document.document.decode("utf-8-sig"))))
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"Sam Safe", "'=Nina", "Sid Silent", "Gus Gone"}
    assert by_name["Sam Safe"]["status"] == "safe"
    assert by_name["Sam Safe"]["note"] == "At the hotel, all fine"
    assert by_name["Sam Safe"]["location"] == "43.23895,76.88971"
    assert by_name["Sam Safe"]["answered_at_utc"].endswith("Z")
    assert by_name["'=Nina"]["status"] == "need help"
    assert by_name["Sid Silent"]["status"] == "no answer"
    assert by_name["Gus Gone"]["status"] == "unreachable"
    assert list(rows[0]) == [
        "name",
        "username",
        "status",
        "answered_at_utc",
        "note",
        "location",
        "late",
    ]


async def test_help_me_alerts_the_leads_of_every_country_followed(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    omar = await _lead(bot, "Omar Lead", "GE")
    pat = await _lead(bot, "Pat Lead", "FR")
    admin = bot.enrol("Ada Admin", role=Role.ADMIN)
    nina = bot.enrol("Nina <b>", countries=("KZ", "GE"))
    await bot.say(nina.telegram_user_id, "/safe", location=(43.25, 76.95))  # earlier today

    reply = await bot.say(nina.telegram_user_id, "/help_me Car crash on the A2 & injured")
    assert "being alerted now (3 people) with your name, username, note and last shared " in reply
    for lead in (lena, omar, admin):
        await bot.fake.await_for(_got(lead.chat_id, "needs help</b>"))
        alert = next(t for t in _texts(bot.fake, lead.chat_id) if "needs help</b>" in t)
        assert "Nina &lt;b&gt; (@nina_&lt;b&gt;)" in alert
        assert "Car crash on the A2 &amp; injured" in alert
        assert "43.25000, 76.95000" in alert and "Sent with /help_me" in alert
    assert not any("needs help</b>" in t for t in _texts(bot.fake, pat.chat_id))
    # Without a note or a location shared ever, the person is told only of what went.
    ola = bot.enrol("Ola", countries=("FR",))
    reply = await bot.say(ola.telegram_user_id, "/help_me")
    assert "being alerted now (2 people) with your name and username. Keep" in reply

    # A location shared right after is passed on; then /safe closes the loop.
    shared = await bot.say(nina.telegram_user_id, "", location=(43.3, 77.0))
    assert "sent to your security leads" in shared
    await bot.fake.await_for(
        lambda f: any("shared their location" in t for t in _texts(f, lena.chat_id))
    )
    await bot.say(nina.telegram_user_id, "/safe Picked up by the team")
    await bot.fake.await_for(
        lambda f: any("now says they are safe" in t for t in _texts(f, omar.chat_id))
    )
    with session_scope(bot.engine) as session:
        kinds = [c.kind for c in checkins_of(session, staff_id=nina.id or 0)]
        help_rows = session.exec(select(Delivery).where(col(Delivery.dedupe_key).like("help:%")))
        assert {r.priority for r in help_rows} == {Priority.CRITICAL}
    assert kinds == ["safe", "help", "location", "safe"]


async def test_checkin_usage_and_refusals(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    bot.enrol("Sam", countries=("KZ",))
    usage = CHECKIN_USAGE.format(default="2 h")
    assert await bot.say(lena.telegram_user_id, "/checkin") == usage
    assert "at most 72 hours" in await bot.say(lena.telegram_user_id, "/checkin KZ hello 100h")
    assert await bot.say(lena.telegram_user_id, "/checkin Kazakstan") == (
        f"I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?\n{usage}"
    )
    with session_scope(bot.engine) as session:
        assert session.exec(select(RollCall)).all() == []
        assert session.exec(select(Delivery)).all() == []
    assert "Roll call #" in await bot.say(lena.telegram_user_id, "/checkin KZ")
    again = await bot.say(lena.telegram_user_id, "/checkin KZ")
    assert "is still open" in again and "/checkin_end" in again
    with session_scope(bot.engine) as session:
        assert len(session.exec(select(RollCall)).all()) == 1


def _refusal(raw: str) -> str:
    with pytest.raises(Refusal) as refused:
        parse_checkin(raw, default_deadline=timedelta(hours=2))
    return refused.value.text


def test_parse_checkin() -> None:
    two_hours = timedelta(hours=2)
    parsed = parse_checkin("South Korea Shelter in place 90m", default_deadline=two_hours)
    assert (parsed.country, parsed.message, parsed.deadline) == (
        "KR",
        "Shelter in place",
        timedelta(minutes=90),
    )
    parsed = parse_checkin("kz 1h30m Are you safe?\nReply now", default_deadline=two_hours)
    assert (parsed.message, parsed.deadline) == ("Are you safe?\nReply now", timedelta(hours=1.5))
    parsed = parse_checkin("KAZ", default_deadline=two_hours)
    assert (parsed.message, parsed.deadline) == ("", two_hours)
    parsed = parse_checkin("KZ meet at 5", default_deadline=two_hours)
    assert (parsed.message, parsed.deadline) == ("meet at 5", two_hours)
    parsed = parse_checkin("KZ Are you safe?\n2h", default_deadline=timedelta(hours=1))
    assert (parsed.message, parsed.deadline) == ("Are you safe?", two_hours)
    parsed = parse_checkin(" \n KZ\nAre you safe?", default_deadline=two_hours)
    assert (parsed.country, parsed.message) == ("KZ", "Are you safe?")
    usage = CHECKIN_USAGE.format(default="2 h")
    assert _refusal(" \n ") == usage
    assert _refusal("Kazakstan 2h") == (
        f"I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?\n{usage}"
    )
    assert "at least 5 minutes" in _refusal("KZ go 1m")
    assert _refusal("KZ " + "x" * 1200) == (
        f"That message is 1200 characters; please keep it under {MAX_MESSAGE}."
    )


async def test_the_live_roll_is_edited_at_most_once_per_interval(bot: RunningBot) -> None:
    bot.services.settings.roll_update_seconds = 1.0
    lena = await _lead(bot, "Lena Lead", "KZ")
    people = [bot.enrol(f"P{n}", countries=("KZ",)) for n in range(6)]
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    report_id = bot.fake.messages_to(lena.chat_id)[-1].message_id
    await bot.fake.await_for(lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in people))
    before = len(bot.fake.callback_answers)
    _press(bot, people[0], "I'm safe")
    await bot.fake.await_for(lambda f: "safe: 1" in f.current_text(lena.chat_id, report_id))
    for n, person in enumerate(people[1:], start=1):
        _press(bot, person, "I'm safe")
        await _answered(bot, before + n)
    await bot.fake.await_for(
        lambda f: "safe: 6" in f.current_text(lena.chat_id, report_id), timeout=10
    )
    edits = [
        e.at for e in bot.fake.edits if e.message_id == report_id and e.chat_id == lena.chat_id
    ]
    gaps = [b - a for a, b in itertools.pairwise(edits)]
    assert gaps and min(gaps) >= 0.95, gaps


async def test_a_round_after_an_advisory_without_a_title_calls_it_an_official_advisory(
    bot: RunningBot,
) -> None:
    await _lead(bot, "Lena Lead", "KZ")
    bot.enrol("Sam", countries=("KZ",))
    with session_scope(bot.engine) as session:
        alert = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", title="", departure=True)
        session.add(alert)
        session.flush()
        assert rules.start_automatic_round(
            session,
            alert_id=alert.id or 0,
            country="KZ",
            now=bot.clock(),
            settings=bot.services.settings,
        )
        (question,) = session.exec(
            select(Delivery.text).where(Delivery.kind == DeliveryKind.ROLLCALL_QUESTION.value)
        ).all()
    assert "<i>After a departure advisory: official advisory</i>" in question


async def test_a_departure_advisory_starts_a_round_by_itself(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    now = bot.clock()
    with session_scope(bot.engine) as session:
        alert = Alert(
            kind=AlertKind.DEPARTURE.value,
            country="KZ",
            title="Kazakhstan - Level 4: Do Not Travel",
            departure=True,
        )
        session.add(alert)
        session.flush()
        alert_id = alert.id or 0
        settings = bot.services.settings
        round_id = rules.start_automatic_round(
            session, alert_id=alert_id, country="KZ", now=now, settings=settings
        )
        assert round_id is not None
        # Once per country while a round is open; never when the setting is off.
        assert (
            rules.start_automatic_round(
                session, alert_id=alert_id, country="KZ", now=now, settings=settings
            )
            is None
        )
        off = settings.model_copy(update={"auto_checkin_on_departure": False})
        assert (
            rules.start_automatic_round(
                session, alert_id=alert_id, country="GE", now=now, settings=off
            )
            is None
        )
    bot.services.wake_dispatcher()
    plan_round_jobs(bot.application)
    jobs = bot.application.job_queue
    assert jobs is not None
    assert jobs.get_jobs_by_name(f"rollcall-remind:{round_id}")
    assert jobs.get_jobs_by_name(f"rollcall-deadline:{round_id}")
    plan_round_jobs(bot.application)  # again: nothing doubled
    assert len(jobs.get_jobs_by_name(f"rollcall-deadline:{round_id}")) == 1

    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    question = bot.fake.messages_to(sam.chat_id)[0].text
    assert "After a departure advisory: Kazakhstan - Level 4: Do Not Travel" in question
    # The leads of the country get a live roll of their own, kept current.
    await bot.fake.await_for(
        lambda f: any(f"Roll call #{round_id}" in t for t in _texts(f, lena.chat_id))
    )
    live = next(m for m in bot.fake.messages_to(lena.chat_id) if f"Roll call #{round_id}" in m.text)
    _press(bot, sam, "I'm safe")
    await bot.fake.await_for(
        lambda f: "safe: 1" in f.current_text(lena.chat_id, live.message_id), timeout=5
    )
    with session_scope(bot.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "checkin_start")).one()
    assert entry.actor_staff_id is None and "departure advisory" in entry.detail


async def test_a_restart_neither_loses_nor_repeats_reminders_or_the_escalation(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        lena = await _lead(bot, "Lena Lead", "KZ")
        sid = bot.enrol("Sid", countries=("KZ",))
        await bot.say(lena.telegram_user_id, "/checkin KZ 2h")
        await fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 1)
        rollcall = _round(engine)
        round_id = rollcall.id or 0
        await until_recorded(engine)
        clock.advance(minutes=31)
        assert rules.send_due_reminder(bot.services, round_id) == 1
        await fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 2)

    # Restarted before the next reminder: the next one is planned, the first not repeated.
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        jobs = bot.application.job_queue
        assert jobs is not None
        (remind,) = jobs.get_jobs_by_name(f"rollcall-remind:{round_id}")
        assert remind.data == (round_id, rollcall.started_at + timedelta(minutes=60))
        (deadline,) = jobs.get_jobs_by_name(f"rollcall-deadline:{round_id}")
        assert deadline.data == (round_id, rollcall.deadline_at)
        assert rules.send_due_reminder(bot.services, round_id) == 0

    # Down through the second and third reminders: the latest one is sent once at start-up.
    clock.advance(minutes=65)
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        await fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 3)
        assert _round(engine).reminders_sent == 3

    # Down through the deadline: the leads are told once, at start-up, and never again.
    clock.advance(minutes=60)
    for _ in range(2):
        async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
            await fake.await_for(
                lambda f: any("deadline passed" in t for t in _texts(f, lena.chat_id))
            )
            await fake.await_for(_no_job(bot, f"rollcall-deadline:{round_id}"))
    assert sum("deadline passed" in t for t in _texts(fake, lena.chat_id)) == 1
    assert len(fake.messages_to(sid.chat_id)) == 3
    assert _round(engine).status == "past_deadline"


def test_long_rolls_are_cut_but_not_the_people_who_need_help() -> None:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    rollcall = RollCall(
        id=7, country="KZ", started_at=start, deadline_at=start + timedelta(hours=2)
    )
    entries = [
        RollEntry(
            member_id=n,
            staff_id=n,
            name=f"P{n:03}",
            username=None,
            answer="safe" if n < 500 else "help" if n < 560 else None,
            answered_at=start if n < 560 else None,
            delivery="sent",
        )
        for n in range(1000)
    ]
    parts = roll_details(rollcall, entries)
    text = "\n".join(parts)
    assert len(parts) <= 3 and all(len(part) <= 4096 for part in parts)
    assert all(f"P{n:03}" in text for n in range(500, 560))
    assert "❔ No answer (440):" in text and "… and 410 more: /roll_csv 7 lists everyone." in text
    assert "✅ Safe (500):" in text and "… and 470 more" in text
    report = "\n".join(deadline_report(rollcall, entries))
    assert "Never answered (440):" in report and "… and 140 more" in report
    assert "removed their data" not in report
    # People who had their data deleted are counted apart, not silently dropped.
    rollcall.forgotten = 1
    assert "of 1000\n🗑 1 person removed their data\n" in deadline_report(rollcall, entries)[0]


def _entry(n: int, answer: str | None, *, reachable: bool = True) -> RollEntry:
    at = datetime(2025, 1, 6, 9, 30, tzinfo=UTC) if answer else None
    return RollEntry(
        member_id=n,
        staff_id=n,
        name=f"P{n}",
        username=None,
        answer=answer,
        answered_at=at,
        delivery="sent" if reachable else "unreachable",
        reachable=reachable,
        telegram_id=6000 + n,
    )


def test_the_deadline_report_says_what_the_lead_can_do_next() -> None:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    rollcall = RollCall(
        id=7, country="KZ", started_at=start, deadline_at=start + timedelta(hours=2)
    )
    everyone_safe = "\n".join(deadline_report(rollcall, [_entry(1, "safe"), _entry(2, "safe")]))
    assert "Everyone reachable answered." in everyone_safe
    steps = everyone_safe.split("<b>What you can do now</b>\n")[1].splitlines()
    # Nothing is left to chase: the list and closing the round, and nothing else.
    assert steps == [
        "• /roll_csv 7: everyone's answer, as a spreadsheet.",
        "• /checkin_end 7 closes the round; until then late answers are recorded and "
        "/roll 7 shows them.",
    ]
    mixed = [
        _entry(1, "safe"),
        _entry(2, "help"),
        _entry(3, None),
        _entry(4, None, reachable=False),
    ]
    report = "\n".join(deadline_report(rollcall, mixed))
    steps = report.split("<b>What you can do now</b>\n")[1].splitlines()
    # The most urgent first: the call for help, then the silent, each with the command.
    assert steps[0].startswith("• /incidents: the open calls for help")
    assert steps[1] == "• Tap a name to write to that person directly, or call them."
    assert "need a phone call" in steps[2]
    assert steps[3].startswith("• /checkin KZ asks everyone again")
    assert '<a href="tg://user?id=6003">P3</a>' in report  # the names are the links
    # Answer times in Almaty and UTC: UTC+5 since March 2024.
    assert '• <a href="tg://user?id=6002">P2</a>, 06 Jan 14:30 Almaty (06 Jan 09:30 UTC)' in report
    # Who still needs help comes before who never answered.
    assert report.index("Still need help (1)") < report.index("Never answered (1)")


def _answers(engine: Engine) -> list[tuple[int, str, bool, str]]:
    """(member id, answer, late, via) of every answer recorded, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(select(RollCallAnswer).order_by(col(RollCallAnswer.id))).all()
        return [(a.member_id, a.answer, a.late, a.via) for a in rows]


def _member(fake: FakeTelegram, person: Staff, index: int = -1) -> int:
    _, labels = _buttons(fake, person.chat_id, index)
    return int(labels["I'm safe"].split(":")[2])


async def test_a_press_after_the_deadline_is_late_even_if_the_deadline_job_never_ran(
    bot: RunningBot,
) -> None:
    # The bot was down at the deadline: the round is still "open" when the presses come.
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam, nina, sid = (bot.enrol(n, countries=("KZ",)) for n in ("Sam", "Nina", "Sid"))
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 1h")
    report_id = bot.fake.messages_to(lena.chat_id)[-1].message_id
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in (sam, nina, sid))
    )
    rollcall = _round(bot.engine)
    round_id = rollcall.id or 0
    (question,) = bot.fake.messages_to(sam.chat_id)
    assert question.text.startswith(
        "🚨 <b>Safety roll call: Kazakhstan</b>\n<i>From Lena Lead</i>\n\nAre you safe?\n\n"
        "Answer with the buttons below by <b>"
    )
    assert question.text.endswith(f"<b>{local_and_utc('Asia/Almaty', rollcall.deadline_at)}</b>.")
    assert rollcall.deadline_at - rollcall.started_at == timedelta(hours=1)
    bot.clock.advance(hours=1, minutes=1)
    assert _round(bot.engine).status == "open"

    before = len(bot.fake.callback_answers)
    sam_message = _press(bot, sam, "I'm safe")
    assert await _answered(bot, before) == "Recorded: you are safe. (late)"
    await bot.fake.await_for(
        lambda f: "after the deadline" in f.current_text(sam.chat_id, sam_message)
    )
    shown = bot.fake.current_text(sam.chat_id, sam_message)
    assert "✅ <b>Recorded: you are safe</b>, at " in shown and ", after the deadline." in shown

    before = len(bot.fake.callback_answers)
    _press(bot, nina, "I need help")
    assert await _answered(bot, before) == "Recorded. Your leads are being alerted. (late)"
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))
    alert = next(t for t in _texts(bot.fake, lena.chat_id) if "needs help</b>" in t)
    assert f"\nRoll call #{round_id}: Kazakhstan (after the deadline)\n" in alert

    reply = await bot.say(sid.telegram_user_id, "/safe")
    assert f"This answers roll call #{round_id} for Kazakhstan." in reply
    assert _answers(bot.engine) == [
        (_member(bot.fake, sam, 0), "safe", True, "button"),
        (_member(bot.fake, nina, 0), "help", True, "button"),
        (_member(bot.fake, sid, 0), "safe", True, "/safe"),
    ]
    await bot.fake.await_for(lambda f: "3 late" in f.current_text(lena.chat_id, report_id))
    roll = await bot.say(lena.telegram_user_id, f"/roll {round_id}")
    assert roll.count(" UTC) (late)") == 3


async def test_presses_and_safe_before_the_deadline_are_on_time(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam, nina, sid = (bot.enrol(n, countries=("KZ",)) for n in ("Sam", "Nina", "Sid"))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in (sam, nina, sid))
    )
    round_id = _round(bot.engine).id or 0
    bot.clock.advance(minutes=59)
    before = len(bot.fake.callback_answers)
    sam_message = _press(bot, sam, "I'm safe")
    assert await _answered(bot, before) == "Recorded: you are safe."
    await bot.fake.await_for(lambda f: "you are safe" in f.current_text(sam.chat_id, sam_message))
    assert "after the deadline" not in bot.fake.current_text(sam.chat_id, sam_message)
    before = len(bot.fake.callback_answers)
    _press(bot, nina, "I need help")
    assert await _answered(bot, before) == "Recorded. Your leads are being alerted."
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))
    alert = next(t for t in _texts(bot.fake, lena.chat_id) if "needs help</b>" in t)
    assert f"\nRoll call #{round_id}: Kazakhstan\n" in alert
    await bot.say(sid.telegram_user_id, "/help_me")
    assert [(late, via) for _, _, late, via in _answers(bot.engine)] == [
        (False, "button"),
        (False, "button"),
        (False, "/help_me"),
    ]


async def test_a_press_on_a_round_replaced_by_a_newer_round_is_refused(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    old = _round(bot.engine).id or 0
    bot.clock.advance(minutes=61)
    assert rules.pass_round_deadline(bot.services, old)
    # Her deadline report first, so that what she is answered next is not taken for it.
    await bot.fake.await_for(
        lambda f: any("deadline passed" in m.text for m in f.messages_to(lena.chat_id))
    )
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    new = _round(bot.engine).id or 0
    assert new != old
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)

    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I'm safe", index=0)  # the old round's question
    assert (
        await _answered(bot, before) == "This roll call is closed. If you need help, send /help_me."
    )
    assert bot.fake.callback_answers[before].get("show_alert") is True
    assert _answers(bot.engine) == []
    assert f"round {old} is closed" in _refusals(bot.engine)[-1].detail
    assert "a newer roll call for this country replaced it" in await bot.say(
        lena.telegram_user_id, f"/roll {old}"
    )

    # The new round's question still takes the answer.
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I'm safe", index=1)
    assert await _answered(bot, before) == "Recorded: you are safe."
    assert _answers(bot.engine) == [(_member(bot.fake, sam, 1), "safe", False, "button")]


async def test_safe_and_help_me_after_checkin_end_leave_the_closed_round_alone(
    bot: RunningBot,
) -> None:
    lena, sam = await _sam_asked(bot)
    round_id = _round(bot.engine).id or 0
    await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")

    reply = await bot.say(sam.telegram_user_id, "/safe")
    assert reply.startswith("✅ Recorded: you are safe, at ") and "\n" not in reply
    # On the clock of the country Sam follows, and in UTC.
    assert " Almaty (" in reply and reply.endswith(" UTC).")
    reply = await bot.say(sam.telegram_user_id, "/help_me")
    assert "being alerted now (1 person)" in reply
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))
    alert = next(t for t in _texts(bot.fake, lena.chat_id) if "needs help</b>" in t)
    assert "\nSent with /help_me\n" in alert
    assert _answers(bot.engine) == []
    roll = _PROFILE.sub(r"\1", await bot.say(lena.telegram_user_id, f"/roll {round_id}"))
    assert "❔ No answer (1):\n• Sam (@sam)" in roll


async def test_a_reminder_reaches_whoever_telegram_has_the_question_for(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam, sid, fay, gus, ann, bo = (
        bot.enrol(n, countries=("KZ",)) for n in ("Sam", "Sid", "Fay", "Gus", "Ann", "Bo")
    )
    with session_scope(bot.engine) as session:
        staff.mark_unreachable(session, staff_id=gus.id or 0)
    await bot.say(lena.telegram_user_id, "/checkin KZ 2h")
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.chat_id)) == 1 for p in (sam, sid, ann, fay, bo))
    )
    _press(bot, ann, "I'm safe")
    await bot.fake.await_for(lambda f: len(_answers(bot.engine)) == 1)
    round_id = _round(bot.engine).id or 0

    def question_statuses() -> dict[int | None, str]:
        with session_scope(bot.engine) as session:
            rows = session.exec(
                select(Delivery).where(Delivery.dedupe_key == db.question_key(round_id))
            ).all()
            return {d.staff_id: d.status for d in rows}

    # Every question has been handed to Telegram (Gus's was never tried).
    await bot.fake.await_for(lambda f: "pending" not in question_statuses().values())
    assert question_statuses()[gus.id] == "unreachable"
    with session_scope(bot.engine) as session:
        # Telegram has Sid's question, but the bot stopped before recording it; Fay's
        # was refused for good.
        statuses = ((sam, "sent"), (ann, "sent"), (bo, "sent"), (sid, "sending"), (fay, "failed"))
        for person, status in statuses:
            row = session.exec(
                select(Delivery).where(
                    Delivery.dedupe_key == db.question_key(round_id),
                    Delivery.staff_id == person.id,
                )
            ).one()
            row.status = status
            session.add(row)
        staff.mark_unreachable(session, staff_id=bo.id or 0)  # Bo blocked the bot since

    bot.clock.advance(minutes=30)
    assert rules.send_due_reminder(bot.services, round_id) == 2
    await bot.fake.await_for(
        lambda f: len(f.messages_to(sam.chat_id)) == 2 and len(f.messages_to(sid.chat_id)) == 2
    )
    for person in (sam, sid):
        reminder = bot.fake.messages_to(person.chat_id)[-1]
        assert reminder.text.startswith("⏰ <b>Reminder: safety roll call for Kazakhstan</b>")
        assert _member(bot.fake, person) == _member(bot.fake, person, 0)
    assert [len(bot.fake.messages_to(p.chat_id)) for p in (fay, gus, ann, bo)] == [1, 0, 1, 1]


def _audits(engine: Engine, *actions: str) -> list[tuple[str, str, int | None, dict[str, object]]]:
    """(action, outcome, staff id, detail) of the audit entries of these actions, in order."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action).in_(actions))
            .order_by(col(AuditEntry.id))
        ).all()
        return [(e.action, e.outcome, e.actor_staff_id, json.loads(e.detail)) for e in rows]


async def test_leads_name_rounds_by_number_or_country_and_hear_exactly_what_is_wrong(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ", "GE")
    newbie = bot.enrol("New Lead", role=Role.LEAD)
    bot.enrol("Sam", countries=("KZ",))

    assert await bot.say(newbie.telegram_user_id, "/roll") == (
        "You lead no countries yet; pick yours with /lead <country>."
    )
    assert await bot.say(lena.telegram_user_id, "/roll") == (
        "No roll call is running in the countries you lead. Start one with /checkin."
    )
    assert await bot.say(lena.telegram_user_id, "/roll GE") == (
        "There has been no roll call for Georgia (GE)."
    )
    assert await bot.say(lena.telegram_user_id, "/checkin GE") == (
        "Nobody follows Georgia (GE), so there is nobody to ask."
    )
    assert await bot.say(lena.telegram_user_id, "/checkin_end #") == (
        "Usage: /checkin_end <round id or country>, e.g. /checkin_end 12 or /checkin_end KZ"
    )
    assert await bot.say(lena.telegram_user_id, "/roll_csv Atlantis") == ATLANTIS
    await bot.say(lena.telegram_user_id, "/checkin KZ 90m")
    round_id = _round(bot.engine).id or 0
    assert await bot.say(lena.telegram_user_id, "/checkin KZ") == (
        f"Roll call #{round_id} for Kazakhstan (KZ) is still open: /roll {round_id} shows it, "
        f"/checkin_end {round_id} closes it."
    )
    assert await bot.say(lena.telegram_user_id, "/roll") == (
        f"Running roll calls:\n#{round_id} Kazakhstan: 0 safe, 0 need help, 1 no answer, "
        "0 unreachable\n/roll <id> for names."
    )
    assert await bot.say(lena.telegram_user_id, f"/roll {round_id + 1}") == (
        f"There is no roll call #{round_id + 1}."
    )
    assert await bot.say(lena.telegram_user_id, "/roll 99999999999999999999999") == (
        "There is no roll call #99999999999999999999."
    )
    roll = await bot.say(lena.telegram_user_id, f"/roll #{round_id}")
    assert roll.startswith(f"📋 <b>Roll call #{round_id}: Kazakhstan</b>\nOpen until ")
    # A round named by number that the lead may not see: no word of where it is.
    refused = await bot.say(newbie.telegram_user_id, f"/roll_csv  #{round_id} ")
    assert refused == f"There is no roll call #{round_id} in the countries you lead."
    # Named by country: the same words as every command that acts on a country.
    assert await bot.say(newbie.telegram_user_id, "/roll KZ") == NOT_KZ
    assert await bot.say(newbie.telegram_user_id, "/checkin KZ") == NOT_KZ
    ended = await bot.say(lena.telegram_user_id, "/checkin_end KZ")
    assert ended.startswith(f"📋 <b>Roll call #{round_id}: Kazakhstan</b>\nEnded by a lead ")
    assert await bot.say(lena.telegram_user_id, "/checkin_end KZ") == (
        f"Roll call #{round_id} is already closed."
    )
    assert await bot.say(lena.telegram_user_id, "/roll") == (
        "No roll call is running in the countries you lead. Start one with /checkin."
    )
    # Each refusal is audited with what the lead was told, and only what was done is "ok".
    assert _audits(bot.engine, "checkin", "checkin_start", "roll_csv") == [
        (
            "checkin",
            "refused",
            lena.id,
            {"reason": "Nobody follows Georgia (GE), so there is nobody to ask."},
        ),
        (
            "roll_csv",
            "refused",
            lena.id,
            {"reason": ATLANTIS},
        ),
        (
            "checkin_start",
            "ok",
            lena.id,
            {"country": "KZ", "deadline_minutes": 90, "round_id": round_id},
        ),
        (
            "checkin",
            "refused",
            lena.id,
            {
                "reason": f"Roll call #{round_id} for Kazakhstan (KZ) is still open: /roll "
                f"{round_id} shows it, /checkin_end {round_id} closes it."
            },
        ),
        (
            "roll_csv",
            "refused",
            newbie.id,
            {"reason": f"There is no roll call #{round_id} in the countries you lead."},
        ),
        ("checkin", "refused", newbie.id, {"reason": NOT_KZ}),
    ]
    assert _audits(bot.engine, "checkin_end")[-2:] == [
        ("checkin_end", "ok", lena.id, {"round_id": round_id}),
        (
            "checkin_end",
            "refused",
            lena.id,
            {"reason": f"Roll call #{round_id} is already closed."},
        ),
    ]
    with session_scope(bot.engine) as session:
        assert [(r.id, r.country) for r in session.exec(select(RollCall)).all()] == [
            (round_id, "KZ")
        ]


# A time in Kazakhstan as every message to or about its staff shows one.
STAMP = r"\d\d [A-Z][a-z]{2} \d\d:\d\d Almaty \(\d\d [A-Z][a-z]{2} \d\d:\d\d UTC\)"


def _matches(pattern: str, text: str) -> bool:
    """`text` is `pattern` with STAMP for each time; everything else literally."""
    parts = [re.escape(part) for part in pattern.split("{stamp}")]
    return re.fullmatch(STAMP.join(parts), text) is not None


def _sent(fake: FakeTelegram, person: Staff, marker: str) -> list[str]:
    return [t for t in _texts(fake, person.chat_id) if marker in t]


async def test_a_call_for_help_reaches_every_reachable_lead_but_never_the_asker(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",))
    assert "You now lead" in await bot.say(lena.telegram_user_id, "/lead KZ")
    ulla = await _lead(bot, "Ulla Lead", "KZ")
    with session_scope(bot.engine) as session:
        staff.mark_unreachable(session, staff_id=ulla.id or 0)
    omar = await _lead(bot, "Omar Lead", "GE")
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)
    sam = bot.enrol("Sam", countries=("KZ",))
    loner = bot.enrol("Lou", countries=())

    reply = await bot.say(sam.telegram_user_id, "/help_me Flat tyre <A1>")
    assert reply == (
        "🆘 Your security leads are being alerted now (2 people) with your name, username "
        "and note. Keep your phone on and send /safe when you are safe."
        "\n\nType what is happening, or send a photo or your location; it goes straight to "
        "your security team."
    )
    for lead in (lena, ada):
        await bot.fake.await_for(_got(lead.chat_id, "Sam (@sam) needs help"))
        (alert,) = _sent(bot.fake, lead, "Sam (@sam) needs help")
        assert _matches(
            "🆘 <b>Sam (@sam) needs help</b>\nSent with /help_me\nNote: “Flat tyre &lt;A1&gt;”\n"
            "No location shared.\nFollows: Kazakhstan\nAsked {stamp}. Please contact them now.",
            alert,
        ), alert

    # Someone who follows no country: the admins alone.
    assert "(1 person)" in await bot.say(loner.telegram_user_id, "/help_me")
    await bot.fake.await_for(_got(ada.chat_id, "Lou (@lou) needs help"))
    (alert,) = _sent(bot.fake, ada, "Lou (@lou) needs help")
    # With no country to place them, the time is UTC alone.
    assert re.fullmatch(
        r"🆘 <b>Lou \(@lou\) needs help</b>\nSent with /help_me\nNo location shared\.\n"
        r"Asked \d\d \w{3} \d{4} \d\d:\d\d UTC\. Please contact them now\.",
        alert,
    ), alert

    # A lead who needs help is not told about it themselves.
    assert "(1 person)" in await bot.say(lena.telegram_user_id, "/help_me")
    await bot.fake.await_for(_got(ada.chat_id, "Lena Lead (@lena_lead) needs help"))
    await until_recorded(bot.engine)
    assert _sent(bot.fake, lena, "Lena Lead (@lena_lead) needs help") == []
    assert _sent(bot.fake, ulla, "needs help") == _sent(bot.fake, omar, "needs help") == []


async def test_nobody_to_alert_says_so_and_points_to_the_emergency_line(bot: RunningBot) -> None:
    sam = bot.enrol("Sam", countries=("KZ",))
    assert await bot.say(sam.telegram_user_id, "/help_me") == (
        "🆘 Recorded, but there is no security lead I can alert. Call your local emergency "
        "number or your organisation's emergency line now."
    )
    now = bot.clock()
    with session_scope(bot.engine) as session:
        alert = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", title="Leave", departure=True)
        session.add(alert)
        session.flush()
        settings = bot.services.settings
        assert (
            rules.start_automatic_round(
                session, alert_id=(alert.id or 0) + 1, country="KZ", now=now, settings=settings
            )
            is None
        )
        round_id = rules.start_automatic_round(
            session, alert_id=alert.id or 0, country="KZ", now=now, settings=settings
        )
    assert round_id is not None
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I need help")
    assert await _answered(bot, before) == (
        "Recorded, but no lead could be alerted: call your emergency line."
    )
    assert _audits(bot.engine, "checkin_start") == [
        (
            "checkin_start",
            "ok",
            None,
            {
                "alert_id": alert.id,
                "country": "KZ",
                "round_id": round_id,
                "via": "departure advisory",
            },
        )
    ]
    with session_scope(bot.engine) as session:
        rollcall = db.by_id(session, round_id=round_id)
        assert rollcall is not None
        assert rollcall.message == "Are you safe?"
        assert rollcall.deadline_at - rollcall.started_at == timedelta(
            minutes=settings.checkin_default_deadline_minutes
        )
        assert rollcall.remind_every_minutes == settings.checkin_reminder_minutes


async def test_safe_again_and_locations_reach_the_leads_only_during_a_call_for_help(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))

    # Shared with no call for help: recorded, not passed on.
    assert await bot.say(sam.telegram_user_id, "", location=(43.1, 77.1)) == (
        "📍 Location recorded. Your leads see it with /help_me and in roll calls.\n"
        "You appear to be in Almaty, Kazakhstan (time zone Asia/Almaty)."
    )
    await bot.say(sam.telegram_user_id, "/help_me")
    await bot.fake.await_for(_got(lena.chat_id, "Sam (@sam) needs help"))
    (alert,) = _sent(bot.fake, lena, "needs help")
    assert re.search(
        "\nLast location, shared "
        + STAMP
        + re.escape(
            ': <a href="https://maps.google.com/?q=43.10000,77.10000">43.10000, 77.10000</a>'
        ),
        alert,
    ), alert
    bot.clock.advance(minutes=59)
    assert await bot.say(sam.telegram_user_id, "", location=(43.3, 77.0)) == (
        "📍 Location recorded and sent to your security leads."
    )
    await bot.fake.await_for(_got(lena.chat_id, "shared their location"))
    (shared,) = _sent(bot.fake, lena, "shared their location")
    assert _matches(
        "📍 <b>Sam (@sam)</b>, who asked for help, shared their location at {stamp}: "
        '<a href="https://maps.google.com/?q=43.30000,77.00000">43.30000, 77.00000</a>',
        shared,
    ), shared
    bot.clock.advance(minutes=2)  # the call for help stays open until they are safe
    assert "sent to your security leads" in await bot.say(
        sam.telegram_user_id, "", location=(43.4, 77.0)
    )

    # Safe again within a day: the leads hear it, with the note.
    bot.clock.advance(hours=22, minutes=58)
    await bot.say(sam.telegram_user_id, "/safe Back at the office")
    await bot.fake.await_for(_got(lena.chat_id, "now says they are safe"))
    (again,) = _sent(bot.fake, lena, "now says they are safe")
    assert _matches(
        "✅ <b>Sam (@sam) now says they are safe</b>, at {stamp}; they had asked for help.\n"
        "Note: “Back at the office”",
        again,
    ), again
    # After /safe a location is no longer passed on.
    assert "Location recorded. Your leads see" in await bot.say(
        sam.telegram_user_id, "", location=(43.5, 77.0)
    )

    # Help, then safe over a day later: nothing more to tell.
    await bot.say(sam.telegram_user_id, "/help_me")
    bot.clock.advance(hours=24, minutes=1)
    await bot.say(sam.telegram_user_id, "/safe")
    await bot.say(sam.telegram_user_id, "/safe")
    await until_recorded(bot.engine)
    assert len(_sent(bot.fake, lena, "now says they are safe")) == 1
    assert len(_sent(bot.fake, lena, "shared their location")) == 2
    with session_scope(bot.engine) as session:
        kinds = [c.kind for c in checkins_of(session, staff_id=sam.id or 0)]
    assert kinds == [
        "location",
        "help",
        "location",
        "location",
        "safe",
        "location",
        "help",
        "safe",
        "safe",
    ]


async def test_the_deadline_report_goes_to_the_leads_and_a_starter_who_still_leads(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")  # starts KZ, then stops leading it
    kai = await _lead(bot, "Kai Lead", "KZ")  # unreachable by the deadline
    omar = await _lead(bot, "Omar Lead", "GE")  # starts GE, then is made staff
    pat = await _lead(bot, "Pat Lead", "FR")  # starts FR, then blocks the bot
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)
    for country in ("KZ", "GE", "FR"):
        bot.enrol(f"Sam {country}", countries=(country,))
    rounds = {}
    for starter, country in ((lena, "KZ"), (omar, "GE"), (pat, "FR")):
        await bot.say(starter.telegram_user_id, f"/checkin {country} 1h")
        rounds[country] = _round(bot.engine).id or 0
    assert "no longer lead" in await bot.say(lena.telegram_user_id, "/unlead KZ")
    assert "no longer lead" in await bot.say(omar.telegram_user_id, "/unlead GE")
    with session_scope(bot.engine) as session:
        staff.mark_unreachable(session, staff_id=kai.id or 0)
        staff.mark_unreachable(session, staff_id=pat.id or 0)
        demoted = session.get(Staff, omar.id)
        assert demoted is not None
        staff.set_role(session, person=demoted, role=Role.STAFF)
    bot.clock.advance(minutes=61)
    for round_id in rounds.values():
        assert rules.pass_round_deadline(bot.services, round_id)
    await bot.fake.await_for(
        lambda f: sum("deadline passed" in t for t in _texts(f, ada.chat_id)) == 3
    )
    await until_recorded(bot.engine)
    assert [t.split("\n")[0] for t in _sent(bot.fake, lena, "deadline passed")] == [
        f"⏰ <b>Roll call #{rounds['KZ']} for Kazakhstan: deadline passed</b>"
    ]
    for person in (kai, omar, pat):
        assert _sent(bot.fake, person, "deadline passed") == []
    assert [d for *_, d in _audits(bot.engine, "checkin_deadline")] == [
        {"never_answered": 1, "round_id": rounds[country]} for country in ("KZ", "GE", "FR")
    ]


async def test_a_closed_round_sends_no_reminder_and_no_deadline_report(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    round_id = _round(bot.engine).id or 0
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    await until_recorded(bot.engine)
    await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")
    bot.clock.advance(minutes=30)
    assert rules.send_due_reminder(bot.services, round_id) == 0
    assert rules.send_due_reminder(bot.services, round_id + 1) == 0
    bot.clock.advance(minutes=31)
    assert not rules.pass_round_deadline(bot.services, round_id)
    assert len(bot.fake.messages_to(sam.chat_id)) == 1
    assert _round(bot.engine).reminders_sent == 0


async def test_a_repeated_press_shows_the_first_answer_as_it_was_recorded(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    kai = await _lead(bot, "Kai Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    round_id = _round(bot.engine).id or 0
    # The other lead of the country gets a live roll of their own; the starter only the reply.
    await bot.fake.await_for(_got(kai.chat_id, f"Roll call #{round_id}: Kazakhstan"))
    assert len(_sent(bot.fake, lena, f"Roll call #{round_id}")) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    bot.clock.advance(minutes=61)
    message_id = _press(bot, sam, "I'm safe")
    await bot.fake.await_for(
        lambda f: "after the deadline" in f.current_text(sam.chat_id, message_id)
    )
    first = bot.fake.current_text(sam.chat_id, message_id)
    bot.clock.advance(minutes=5)
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I'm safe")
    assert await _answered(bot, before) == "Already recorded."
    assert bot.fake.current_text(sam.chat_id, message_id) == first
    assert len(_answers(bot.engine)) == 1
    # Arabic-Indic digits are not a round number.
    reply = await bot.say(lena.telegram_user_id, "/roll ١")
    assert reply.startswith("I don't know the country “١”.")


async def test_every_refused_press_is_audited_with_who_what_and_why(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ")
    await bot.fake.await_for(
        lambda f: len(f.messages_to(sam.chat_id)) == 1 and len(f.messages_to(kim.chat_id)) == 1
    )
    round_id = _round(bot.engine).id or 0
    message_id, labels = _buttons(bot.fake, sam.chat_id)
    sam_member = _member(bot.fake, sam)
    forged = "rc:" + "1" * 70

    async def press_as(person: Staff, data: str) -> str:
        before = len(bot.fake.callback_answers)
        bot.press(person.telegram_user_id, chat_id=sam.chat_id, message_id=message_id, data=data)
        return await _answered(bot, before)

    assert await press_as(sam, forged) == "That button is not valid."
    assert await press_as(kim, labels["I need help"]) == "This button is not for you."
    await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")
    assert await press_as(sam, labels["I'm safe"]) == (
        "This roll call is closed. If you need help, send /help_me."
    )
    with session_scope(bot.engine) as session:
        rows = session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "rollcall_answer")
            .order_by(col(AuditEntry.id))
        ).all()
        seen = [
            (e.outcome, e.actor_telegram_id, e.actor_staff_id, json.loads(e.detail)) for e in rows
        ]
    assert seen == [
        ("refused", sam.telegram_user_id, sam.id, {"data": forged[:64], "reason": "malformed"}),
        (
            "refused",
            kim.telegram_user_id,
            kim.id,
            {
                "data": labels["I need help"],
                "reason": f"member {sam_member} is staff {sam.id}",
            },
        ),
        (
            "refused",
            sam.telegram_user_id,
            sam.id,
            {"data": labels["I'm safe"], "reason": f"round {round_id} is closed"},
        ),
    ]


def _reports(engine: Engine, *kinds: DeliveryKind) -> list[tuple[str, int | None, int | None, int]]:
    """(kind, the person it is about, its round, to whom) of each queued row of `kinds`."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery).where(col(Delivery.kind).in_([k.value for k in kinds]))
        ).all()
        return sorted((r.kind, r.about_staff_id, r.round_id, r.staff_id) for r in rows)


async def test_what_the_leads_hear_about_a_person_is_theirs_and_never_told_to_them(
    bot: RunningBot,
) -> None:
    # Kai leads KZ and follows it: in trouble himself, he is not told about himself.
    lena = await _lead(bot, "Lena Lead", "KZ")
    kai = await _lead(bot, "Kai Lead", "KZ")
    assert "You will now get alerts" in await bot.say(kai.telegram_user_id, "/subscribe KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    for person in (sam, kai):
        # What Kai is told about Sam is out first: it goes before replies, and each `say`
        # reads the next message to the person.
        await until_recorded(bot.engine)
        await bot.say(person.telegram_user_id, "/help_me")
        assert "sent to your security leads" in await bot.say(
            person.telegram_user_id, "", location=(43.3, 77.0)
        )
        await bot.say(person.telegram_user_id, "/safe")
        # What Kai hears about Sam arrives first, not in between his own replies.
        await until_recorded(bot.engine)

    kinds = (DeliveryKind.HELP_ALERT, DeliveryKind.LOCATION, DeliveryKind.SAFE_AGAIN)
    assert _reports(bot.engine, *kinds) == sorted(
        (kind.value, about.id, None, to.id)
        for about in (sam, kai)
        for kind in kinds
        for to in (lena, kai)
        if to.id != about.id
    )


async def test_a_rounds_messages_carry_its_number(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    omar = await _lead(bot, "Omar Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    round_id = _round(bot.engine).id
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    bot.clock.advance(minutes=30)
    assert rules.send_due_reminder(bot.services, round_id or 0) == 1
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I need help")
    assert "alerted" in await _answered(bot, before)
    before = len(bot.fake.callback_answers)
    _press(bot, sam, "I'm safe")
    assert "safe" in await _answered(bot, before)
    await until_recorded(bot.engine)

    assert _reports(
        bot.engine,
        DeliveryKind.ROLLCALL_QUESTION,
        DeliveryKind.ROLLCALL_REMINDER,
        DeliveryKind.LIVE_ROLL,
        DeliveryKind.HELP_ALERT,
        DeliveryKind.SAFE_AGAIN,
    ) == sorted(
        [
            (DeliveryKind.ROLLCALL_QUESTION.value, None, round_id, sam.id),
            (DeliveryKind.ROLLCALL_REMINDER.value, None, round_id, sam.id),
            (DeliveryKind.LIVE_ROLL.value, None, round_id, omar.id),
            *(
                (kind.value, sam.id, round_id, to.id)
                for kind in (DeliveryKind.HELP_ALERT, DeliveryKind.SAFE_AGAIN)
                for to in (lena, omar)
            ),
        ]
    )


async def test_checkin_end_records_who_ended_the_round(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    round_id = _round(bot.engine).id
    await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")
    ended = _round(bot.engine)
    assert (ended.status, ended.closed_by_staff_id) == (RoundStatus.CLOSED.value, lena.id)


async def test_seeing_a_roll_is_audited_under_the_command_used(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    round_id = _round(bot.engine).id
    await bot.say(lena.telegram_user_id, "/roll KZ")
    await bot.say(lena.telegram_user_id, f"/checkin_end {round_id}")
    assert _audits(bot.engine, "roll", "checkin_end") == [
        ("roll", "ok", lena.id, {"round_id": round_id}),
        ("checkin_end", "ok", lena.id, {"round_id": round_id}),
    ]


async def test_an_answer_exactly_at_the_deadline_is_on_time(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    nina = bot.enrol("Nina", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 1h")
    rollcall = _round(bot.engine)
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    _, labels = _buttons(bot.fake, sam.chat_id, -1)
    # The bot's clock keeps running, so the instant itself is handed to the rules.
    with session_scope(bot.engine) as session:
        presser, person = session.get(Staff, sam.id), session.get(Staff, nina.id)
        assert presser is not None and person is not None
        pressed = rules.answer_press(
            session, data=labels["I'm safe"], presser=presser, now=rollcall.deadline_at
        )
        rules.check_in(
            session,
            person=person,
            answer=Answer.SAFE,
            note=None,
            location=None,
            now=rollcall.deadline_at,
        )
        answers = session.exec(select(RollCallAnswer.staff_id, RollCallAnswer.late)).all()
    assert pressed.toast == "Recorded: you are safe."
    assert sorted(answers) == sorted([(sam.id, False), (nina.id, False)])


async def test_the_roll_says_which_lead_is_handling_each_call_for_help(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead", "KZ")
    sam = bot.enrol("Sam", countries=("KZ",))
    bot.enrol("Nina", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ 2h")
    report_id = bot.fake.messages_to(lena.chat_id)[-1].message_id
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    _press(bot, sam, "I need help")
    await bot.fake.await_for(lambda f: "need help: 1" in f.current_text(lena.chat_id, report_id))
    # Nobody owns the call yet: the roll names no one as handling it.
    assert "handling" not in bot.fake.current_text(lena.chat_id, report_id)
    await bot.fake.await_for(_got(lena.chat_id, "needs help</b>"))

    _, labels = _buttons(bot.fake, lena.chat_id)
    call_id = int(labels["I'm handling it"].rsplit(":", 1)[1])
    _press(bot, lena, "I'm handling it")
    sam_link = f'<a href="tg://user?id={sam.telegram_user_id}">Sam</a>'
    lena_link = f'<a href="tg://user?id={lena.telegram_user_id}">Lena Lead</a>'
    handled = f"🆘 {sam_link} — {lena_link} is handling it"
    await bot.fake.await_for(lambda f: handled in f.current_text(lena.chat_id, report_id))
    roll = await bot.say(lena.telegram_user_id, "/roll KZ")
    need_help = roll.partition("🆘 Need help (1):\n")[2].partition("\n")[0]
    assert need_help.startswith(f"• {sam_link} (@sam), ")
    assert need_help.endswith(f" — {lena_link} is handling it")
    assert "Nina" in roll and roll.count("is handling it") == 1

    # Once the call is closed, nobody is shown handling it.
    assert "is closed" in await bot.say(lena.telegram_user_id, f"/resolve {call_id}")
    await bot.fake.await_for(lambda f: "handling" not in f.current_text(lena.chat_id, report_id))
    assert "need help: 1" in bot.fake.current_text(lena.chat_id, report_id)


async def test_a_crowd_pressing_during_a_broadcast_is_answered_at_once(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    # Showing an answer in the question waits for the flood budget, behind every alert
    # going out; the press itself is recorded and answered at once, however many come.
    slow = settings.model_copy(update={"send_rate_per_second": 5.0})
    async with running_bot(slow, engine=engine, fake=fake, clock=clock) as bot:
        lena = await _lead(bot, "Lena Lead", "KZ")
        sam = bot.enrol("Sam", countries=("KZ",))
        await bot.say(lena.telegram_user_id, "/checkin KZ")
        await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
        others = [bot.enrol(f"Person {n}") for n in range(200)]  # 40 s at 5 a second
        queue(bot, others, "Stay indoors", key="broadcast:1", priority=Priority.NORMAL)
        await bot.fake.await_for(lambda f: any(m.text == "Stay indoors" for m in f.sent))
        before = len(bot.fake.callback_answers)
        presses = 300  # more than the updates the bot handles at once (256)
        for _ in range(presses):
            _press(bot, sam, "I'm safe")
        # However slow the machine (a mutation run traces every line), before the
        # broadcast is out.
        await bot.fake.await_for(lambda f: len(f.callback_answers) >= before + presses, timeout=60)
        assert sum(m.text == "Stay indoors" for m in bot.fake.sent) < len(others)
        assert [answer for _, answer, _, _ in _answers(bot.engine)] == ["safe"]  # recorded once
        # Showing the answer waits behind the broadcast (replies come after alerts): one
        # edit of the question waits, with the latest text, not one for each press.
        await bot.fake.await_for(lambda _: len(bot.services.background) < presses / 10, timeout=60)
