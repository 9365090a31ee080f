"""Privacy end to end against the fake Bot API: /export_me, /forget_me and the daily
retention job, with the real bot and database."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.access import STRANGER_TEXT
from bot.incidents.texts import TYPE_WHAT
from bot.privacy import CANCELLED_TEXT, DONE_TEXT, EXPIRED_TEXT, RETENTION_JOB
from bot.rollcall import rules
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import privacy
from db.checkins import CheckIn, RollCall, RollCallAnswer, RollCallMember
from db.engine import session_scope
from db.models import AuditEntry, Delivery, Role, Staff, Subscription
from tests.harness import ADMIN_ID, RunningBot, checkins_of, until_recorded

LAST_ADMIN = "You are the last admin; promote someone else to admin first, then try again."

_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
SAM_NOTE, SAM_PLACE = "At the Rixos hotel", (43.2389, 76.9453)
NINA_NOTE, NINA_PLACE = "Nina's flat is fine", (51.1605, 71.4704)


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    # The shared settings, with a short live-roll interval so its edits show up quickly.
    return settings.model_copy(update={"roll_update_seconds": 0.2})


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.messages_to(chat_id)]


def _labels(fake: FakeTelegram, chat_id: int) -> tuple[int, dict[str, str]]:
    message = fake.messages_to(chat_id)[-1]
    assert message.reply_markup is not None, message.text
    buttons = [b for row in message.reply_markup["inline_keyboard"] for b in row]
    return message.message_id, {b["text"]: b["callback_data"] for b in buttons}


async def _press(bot: RunningBot, person: Staff, message_id: int, data: str) -> str:
    before = len(bot.fake.callback_answers)
    bot.press(person.telegram_user_id, chat_id=person.chat_id, message_id=message_id, data=data)
    await bot.fake.await_for(lambda f: len(f.callback_answers) > before)
    return str(bot.fake.callback_answers[before].get("text", ""))


async def _export(bot: RunningBot, person: Staff) -> dict[str, Any]:
    caption = await bot.say(person.telegram_user_id, "/export_me")
    assert caption.startswith("Everything Dutybot stores about you")
    document = bot.fake.messages_to(person.chat_id)[-1]
    assert document.method == "sendDocument" and document.document is not None
    assert (document.filename or "").endswith(".json")
    data: dict[str, Any] = json.loads(document.document)
    return data


def _times(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key.endswith("_at") or key in ("at", "since")):
                found.append(item)
            found.extend(_times(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_times(item))
    return found


def _rows_of(engine: Engine, staff_id: int) -> dict[str, list[Any]]:
    """Every row of a person's own, as comparable tuples."""
    rows: dict[str, list[Any]] = {}
    with session_scope(engine) as session:
        rows["subscriptions"] = sorted(
            session.exec(select(Subscription.country).where(Subscription.staff_id == staff_id))
        )
        rows["checkins"] = list(
            session.exec(
                select(CheckIn.kind, CheckIn.note, CheckIn.latitude).where(
                    CheckIn.staff_id == staff_id
                )
            )
        )
        rows["answers"] = list(
            session.exec(
                select(RollCallAnswer.answer, RollCallAnswer.note).where(
                    RollCallAnswer.staff_id == staff_id
                )
            )
        )
        rows["members"] = list(
            session.exec(select(RollCallMember.id).where(RollCallMember.staff_id == staff_id))
        )
        rows["deliveries"] = list(
            session.exec(select(Delivery.id).where(Delivery.staff_id == staff_id))
        )
    return rows


async def _a_roll_call(bot: RunningBot) -> tuple[Staff, Staff, Staff, int]:
    """Lena leads KZ; Sam and Nina check in with notes and locations, then answer her roll
    call: Sam needs help (Lena is alerted), Nina is safe."""
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    assert "You now lead" in await bot.say(lena.telegram_user_id, "/lead KZ")
    sam = bot.enrol("Sam Safe", countries=("KZ", "GE"))
    nina = bot.enrol("Nina Other", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/safe {SAM_NOTE}", location=SAM_PLACE)
    await bot.say(nina.telegram_user_id, f"/safe {NINA_NOTE}", location=NINA_PLACE)
    reply = await bot.say(lena.telegram_user_id, "/checkin KZ Explosion near Republic Square. 2h")
    assert "Roll call #" in reply
    with session_scope(bot.engine) as session:
        rollcall = session.exec(select(RollCall)).one()
    await bot.fake.await_for(lambda f: all(len(f.messages_to(p.chat_id)) == 2 for p in (sam, nina)))
    for person, label in ((sam, "I need help"), (nina, "I'm safe")):
        message_id, labels = _labels(bot.fake, person.chat_id)
        assert (await _press(bot, person, message_id, labels[label])).startswith("Recorded")
    await bot.fake.await_for(lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)))
    # After "I need help" Sam is asked what is happening: that comes before anything else.
    await bot.fake.await_for(lambda f: _texts(f, sam.chat_id)[-1] == TYPE_WHAT)
    await until_recorded(bot.engine)
    return lena, sam, nina, rollcall.id or 0


async def test_export_me_has_everything_about_the_sender_and_nothing_about_others(
    bot: RunningBot,
) -> None:
    lena, sam, nina, round_id = await _a_roll_call(bot)

    data = await _export(bot, sam)
    assert data["person"]["display_name"] == "Sam Safe"
    assert data["person"]["telegram_user_id"] == sam.telegram_user_id
    assert [s["country"] for s in data["subscriptions"]] == ["GE", "KZ"]
    assert [(c["kind"], c["note"], c["latitude"], c["longitude"]) for c in data["checkins"]] == [
        ("safe", SAM_NOTE, *SAM_PLACE)
    ]
    (asked,) = data["roll_calls_asked"]
    assert asked["round_id"] == round_id and asked["country"] == "KZ"
    assert [(a["answer"], a["via"]) for a in asked["answers"]] == [("help", "button")]
    (question,) = [m for m in data["messages_to_you"] if m["kind"] == "roll call question"]
    assert "Explosion near Republic Square." in question["text"]
    assert question["status"] == "sent"
    (report,) = data["reports_about_you"]
    assert report["kind"] == "call for help" and "Sam Safe" in report["text"]
    assert report["recipients"] == 1 and report["delivered"] == 1
    assert [e["action"] for e in data["audit_log"]] == ["export_me"]
    assert all(_ISO_UTC.match(t) for t in _times(data)), _times(data)
    text = json.dumps(data, ensure_ascii=False)
    for trace in ("Nina", NINA_NOTE, str(NINA_PLACE[0]), str(nina.telegram_user_id)):
        assert trace not in text, trace
    assert str(lena.telegram_user_id) not in text

    # The lead ran the round and was alerted about Sam: her file says so, without Sam's or
    # Nina's answers, names, notes or places.
    data = await _export(bot, lena)
    assert [r["round_id"] for r in data["roll_calls_run"]] == [round_id]
    assert [c["country"] for c in data["countries_led"]] == ["KZ"]
    (alert,) = [m for m in data["messages_to_you"] if m["kind"] == "call for help"]
    assert alert["text"] is None and alert["text_left_out"] == "it is about other people"
    assert {e["action"] for e in data["audit_log"]} == {"lead", "checkin_start", "export_me"}
    text = json.dumps(data, ensure_ascii=False)
    for person, note, place in ((sam, SAM_NOTE, SAM_PLACE), (nina, NINA_NOTE, NINA_PLACE)):
        for trace in (person.display_name, note, str(place[0]), str(person.telegram_user_id)):
            assert trace not in text, trace


async def test_forget_me_previews_cancels_and_deletes_once(bot: RunningBot) -> None:
    lena, sam, nina, round_id = await _a_roll_call(bot)
    # At the deadline Lena is told who still needs help: Sam, by name.
    bot.clock.advance(hours=2, minutes=1)
    assert rules.pass_round_deadline(bot.services, round_id)
    await bot.fake.await_for(lambda f: any("deadline passed" in t for t in _texts(f, lena.chat_id)))
    await until_recorded(bot.engine)
    nina_rows = _rows_of(bot.engine, nina.id or 0)
    sam_rows = _rows_of(bot.engine, sam.id or 0)
    live_roll = bot.fake.messages_to(lena.chat_id)[1].message_id  # her /checkin reply
    assert "of 2 asked" in bot.fake.current_text(lena.chat_id, live_roll)

    preview = await bot.say(sam.telegram_user_id, "/forget_me")
    assert "This deletes everything Dutybot keeps about you" in preview
    for line in (
        "2 countries you follow",
        "1 check-in and 1 roll-call answer, with 1 note and 1 location",
        "1 message sent or queued to you",
        "1 report about you sent to your security team",
        "1 call for help, with everything you and your security team wrote in them",
        "a new invite",
    ):
        assert line in preview, line
    assert "/contact" not in preview  # he gave no phone number
    message_id, labels = _labels(bot.fake, sam.chat_id)
    assert set(labels) == {"Delete my data", "Cancel"}
    assert all(len(data.encode()) <= 64 for data in labels.values())

    # Cancel changes nothing.
    assert await _press(bot, sam, message_id, labels["Cancel"]) == "Cancelled."
    await bot.fake.await_for(lambda f: f.current_text(sam.chat_id, message_id) == CANCELLED_TEXT)
    assert _rows_of(bot.engine, sam.id or 0) == sam_rows

    # Delete, tapped twice at once: deleted once.
    await bot.say(sam.telegram_user_id, "/forget_me")
    message_id, labels = _labels(bot.fake, sam.chat_id)
    before = len(bot.fake.callback_answers)
    for _ in range(2):
        bot.press(
            sam.telegram_user_id,
            chat_id=sam.chat_id,
            message_id=message_id,
            data=labels["Delete my data"],
        )
    await bot.fake.await_for(lambda f: len(f.callback_answers) == before + 2)
    answers = [str(a.get("text")) for a in bot.fake.callback_answers[before:]]
    assert answers.count("Deleted.") == 1, answers
    await bot.fake.await_for(lambda f: f.current_text(sam.chat_id, message_id) == DONE_TEXT)

    with session_scope(bot.engine) as session:
        assert session.get(Staff, sam.id) is None
        entries = session.exec(select(AuditEntry)).all()
        lena_texts = session.exec(select(Delivery.text).where(Delivery.staff_id == lena.id)).all()
    assert [(e.actor_telegram_id, e.detail) for e in entries if e.action == "forget_me"] == [
        (None, "{}")
    ]
    assert not any(e.actor_telegram_id == sam.telegram_user_id for e in entries)
    assert all(v == [] for v in _rows_of(bot.engine, sam.id or 0).values())
    assert _rows_of(bot.engine, nina.id or 0) == nina_rows
    # The help alert about Sam is gone from the outbox; the deadline report lost his line.
    assert not any("Sam Safe" in t or SAM_NOTE in t for t in lena_texts)
    assert any(privacy.FORGOTTEN_LINE in t for t in lena_texts)
    # Lena's live roll counts only Nina now, and says why Sam is no longer counted.
    await bot.fake.await_for(lambda f: "of 1 asked" in f.current_text(lena.chat_id, live_roll))
    assert "🗑 1 person removed their data" in bot.fake.current_text(lena.chat_id, live_roll)

    # Sam is a stranger now, answered as one once a minute at most (his second tap may
    # have had a stranger's answer already).
    bot.clock.advance(minutes=1)
    assert await bot.say(sam.telegram_user_id, "/subscriptions") == STRANGER_TEXT
    bot.clock.advance(minutes=1)
    assert await bot.say(sam.telegram_user_id, "/export_me") == STRANGER_TEXT


async def test_forget_me_refusals_foreign_and_expired_buttons(bot: RunningBot) -> None:
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)
    assert await bot.say(ada.telegram_user_id, "/forget_me") == LAST_ADMIN
    # An admin through ADMIN_TELEGRAM_IDS (enrolled by this very message) is refused too.
    assert await bot.say(ADMIN_ID, "/forget_me") == (
        "You are an admin through ADMIN_TELEGRAM_IDS, so your next message would enrol "
        "you again. Ask whoever runs the bot to remove your id there first."
    )
    assert bot.fake.messages_to(ada.chat_id)[-1].reply_markup is None  # no buttons offered
    assert await bot.say(5_999_999_999, "/forget_me") == STRANGER_TEXT
    bot.clock.advance(minutes=1)  # a stranger is answered once a minute at most
    assert await bot.say(5_999_999_999, "/export_me") == STRANGER_TEXT

    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, "/forget_me")
    message_id, labels = _labels(bot.fake, sam.chat_id)
    forged = labels["Delete my data"].replace(f":{sam.id}:", f":{ada.id}:")
    assert await _press(bot, sam, message_id, forged) == "That button is not yours."
    assert await _press(bot, sam, message_id, "pv:forget:x") == "That button is not yours."
    bot.clock.advance(hours=1, minutes=1)
    assert await _press(bot, sam, message_id, labels["Delete my data"]) == EXPIRED_TEXT
    await bot.fake.await_for(lambda f: f.current_text(sam.chat_id, message_id) == EXPIRED_TEXT)
    with session_scope(bot.engine) as session:
        kept = session.exec(
            select(Staff.display_name, Staff.role).where(col(Staff.id).in_([ada.id, sam.id]))
        ).all()
        assert sorted(kept) == [("Ada Admin", "admin"), ("Sam", "staff")]
        assert not session.exec(select(AuditEntry).where(AuditEntry.action == "forget_me")).all()
    # Now that there is another admin, Ada may go.
    await bot.say(ada.telegram_user_id, "/forget_me")
    message_id, labels = _labels(bot.fake, ada.chat_id)
    assert await _press(bot, ada, message_id, labels["Delete my data"]) == "Deleted."
    with session_scope(bot.engine) as session:
        assert session.get(Staff, ada.id) is None


async def test_a_delete_refused_at_the_press_says_why_and_deletes_nothing(
    bot: RunningBot,
) -> None:
    ada = bot.enrol("Ada Admin", role=Role.ADMIN, countries=("KZ",))
    bo = bot.enrol("Bo Admin", role=Role.ADMIN)
    # Ada is shown the preview while Bo is still there; Bo then leaves first.
    await bot.say(ada.telegram_user_id, "/forget_me")
    message_id, labels = _labels(bot.fake, ada.chat_id)
    await bot.say(bo.telegram_user_id, "/forget_me")
    bo_message, bo_labels = _labels(bot.fake, bo.chat_id)
    assert await _press(bot, bo, bo_message, bo_labels["Delete my data"]) == "Deleted."

    # Ada is now the last admin: her Delete is refused in a pop-up, and the preview
    # says why in place of its buttons.
    assert await _press(bot, ada, message_id, labels["Delete my data"]) == LAST_ADMIN
    assert bot.fake.callback_answers[-1].get("show_alert") is True
    await bot.fake.await_for(lambda f: f.current_text(ada.chat_id, message_id) == LAST_ADMIN)
    with session_scope(bot.engine) as session:
        kept = session.get(Staff, ada.id)
        assert kept is not None and kept.role == Role.ADMIN.value
        assert session.exec(
            select(Subscription.country).where(Subscription.staff_id == ada.id)
        ).all() == ["KZ"]
        forgotten = session.exec(select(AuditEntry).where(AuditEntry.action == "forget_me"))
        assert len(forgotten.all()) == 1  # Bo's


async def test_the_daily_retention_job_removes_only_old_notes_and_locations(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = bot.application.job_queue
    assert jobs is not None
    (job,) = jobs.get_jobs_by_name(RETENTION_JOB)
    assert job.job.trigger.interval == timedelta(days=1)
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    assert "You now lead" in await bot.say(lena.telegram_user_id, "/lead KZ")
    sam = bot.enrol("Sam", countries=("KZ",))

    bot.clock.advance(days=-91)  # ninety-one days ago
    await bot.say(sam.telegram_user_id, "/safe Old note", location=(41.1, 69.1))
    await bot.say(sam.telegram_user_id, "/help_me Old trouble")
    await bot.fake.await_for(lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)))
    bot.clock.advance(days=91)
    await bot.say(sam.telegram_user_id, "/safe Recent note", location=(42.2, 70.2))
    await until_recorded(bot.engine)

    caplog.set_level(logging.INFO, logger="bot.privacy")
    await job.run(bot.application)
    assert (
        "removed 2 notes and 1 locations older than 90 days and the words of 0 messages "
        "in calls for help closed before then; redacted 1 outbox copies" in caplog.text
    )

    with session_scope(bot.engine) as session:
        kept = [(c.kind, c.note, c.latitude) for c in checkins_of(session, staff_id=sam.id or 0)]
        help_copy = session.exec(
            select(Delivery.text).where(col(Delivery.dedupe_key).like("help:%"))
        ).one()
    assert kept == [("safe", None, None), ("help", None, None), ("safe", "Recent note", 42.2)]
    assert help_copy == privacy.REDACTED_TEXT


async def _forget(bot: RunningBot, person: Staff) -> None:
    await bot.say(person.telegram_user_id, "/forget_me")
    message_id, labels = _labels(bot.fake, person.chat_id)
    assert await _press(bot, person, message_id, labels["Delete my data"]) == "Deleted."


async def test_an_open_roll_says_how_many_people_removed_their_data(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam, nina, sid = (bot.enrol(name, countries=("KZ",)) for name in ("Sam", "Nina", "Sid"))
    assert "of 3 asked" in await bot.say(lena.telegram_user_id, "/checkin KZ 2h")
    live_roll = bot.fake.messages_to(lena.chat_id)[-1].message_id
    await bot.fake.await_for(lambda f: all(f.messages_to(p.chat_id) for p in (sam, nina, sid)))
    assert "removed their data" not in await bot.say(lena.telegram_user_id, "/roll KZ")

    await _forget(bot, sam)
    await bot.fake.await_for(
        lambda f: "🗑 1 person removed their data" in f.current_text(lena.chat_id, live_roll)
    )
    assert "of 2 asked" in bot.fake.current_text(lena.chat_id, live_roll)
    roll = await bot.say(lena.telegram_user_id, "/roll KZ")
    assert "\n2 asked · 1 person removed their data\n" in roll and "Sam" not in roll

    await _forget(bot, nina)
    await bot.fake.await_for(
        lambda f: "🗑 2 people removed their data" in f.current_text(lena.chat_id, live_roll)
    )
    roll = await bot.say(lena.telegram_user_id, "/roll KZ")
    assert "\n1 asked · 2 people removed their data\n" in roll and "Sid" in roll
