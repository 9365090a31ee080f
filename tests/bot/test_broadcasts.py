"""Lead broadcasts: preview, Send, who gets what, the live report, and refusals."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.broadcasts import MAX_TEXT, USAGE, decide_draft, parse_broadcast, staff_message
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import broadcasts as db_broadcasts
from db import leads, staff, subscriptions
from db.engine import session_scope
from db.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AuditEntry,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    Role,
    Staff,
)
from db.refusal import Refusal
from schedules.zones import local_and_utc
from tests.harness import (
    ADMIN_ID,
    MutableClock,
    RunningBot,
    running_bot,
    until_recorded,
)
from tests.harness import person as _person


def _button(fake: FakeTelegram, chat_id: int, label: str) -> tuple[int, str]:
    """(message id, callback data) of the button labelled `label` in the last message."""
    message = fake.messages_to(chat_id)[-1]
    assert message.reply_markup is not None, message.text
    for row in message.reply_markup["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return message.message_id, button["callback_data"]
    raise AssertionError(f"no {label} button in {message.reply_markup}")


async def test_preview_then_send_reaches_each_subscriber_once(bot: RunningBot) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    in_kz = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(5)]
    elsewhere = bot.enrol("Geo Staff", countries=("GE",))

    preview = await bot.say(
        lead.telegram_user_id, "/broadcast KZ Stay indoors tonight <b>& keep your phone on</b>"
    )
    assert "Stay indoors tonight &lt;b&gt;&amp; keep your phone on&lt;/b&gt;" in preview
    assert "<b>5</b> people" in preview
    # Nothing goes out before Send.
    assert all(not bot.fake.messages_to(p.telegram_user_id) for p in in_kz)

    message_id, data = _button(bot.fake, lead.telegram_user_id, "Send")
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.telegram_user_id)) == 1 for p in in_kz)
    )
    for person in in_kz:
        (received,) = bot.fake.messages_to(person.telegram_user_id)
        assert "Stay indoors tonight" in received.text
        assert "Security team message: Kazakhstan" in received.text
        assert "From Lena Lead" in received.text
    assert bot.fake.messages_to(elsewhere.telegram_user_id) == []

    # The preview message becomes the delivery report, edited until everyone is served.
    await bot.fake.await_for(
        lambda f: (
            "delivered: 5" in f.current_text(lead.telegram_user_id, message_id)
            and "Delivered: broadcast" in f.current_text(lead.telegram_user_id, message_id)
        )
    )

    # Each edit of the report, in HTML, changed what it said: no edit is sent for nothing.
    edits = [e for e in bot.fake.edits if e.message_id == message_id]
    assert edits and {e.parse_mode for e in edits} == {"HTML"}
    asked = [
        params
        for method, params in bot.fake.calls
        if method == "editMessageText" and int(params.get("message_id", 0)) == message_id
    ]
    assert len(asked) == len(edits)
    shown = [e.text for e in edits]
    assert all(before != after for before, after in pairwise(shown))

    # A second tap on Send sends nothing more.
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) >= 2)
    assert "already been sent" in bot.fake.callback_answers[-1].get("text", "")
    assert all(len(bot.fake.messages_to(p.telegram_user_id)) == 1 for p in in_kz)
    with session_scope(bot.engine) as session:
        rows = session.exec(select(Delivery)).all()
        assert len(rows) == 5 and {r.status for r in rows} == {DeliveryStatus.SENT.value}
        assert all(r.telegram_message_id for r in rows)
        assert {(r.kind, r.about_staff_id) for r in rows} == {(DeliveryKind.BROADCAST.value, None)}
        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert "broadcast_draft" in actions and "broadcast_send" in actions


async def test_cancel_sends_nothing(bot: RunningBot) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lead.telegram_user_id, "/broadcast Kazakhstan Drill at 10:00")
    message_id, data = _button(bot.fake, lead.telegram_user_id, "Cancel")
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(
        lambda f: "Cancelled" in f.current_text(lead.telegram_user_id, message_id)
    )
    assert bot.fake.messages_to(sam.telegram_user_id) == []


async def test_staff_cannot_broadcast_and_the_attempt_is_audited(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    other = bot.enrol("Kim Staff", countries=("KZ",))
    reply = await bot.say(sam.telegram_user_id, "/broadcast KZ Everyone leave now")
    assert "only security leads" in reply
    assert bot.fake.messages_to(other.telegram_user_id) == []
    with session_scope(bot.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "broadcast")).one()
        assert entry.outcome == "refused" and entry.actor_staff_id == sam.id
        assert session.exec(select(Delivery)).all() == []


async def test_another_lead_cannot_press_someone_elses_send(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    lars = bot.enrol("Lars Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ hello")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    bot.press(
        lars.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) >= 1)
    assert bot.fake.messages_to(sam.telegram_user_id) == []


async def test_a_lead_who_gave_the_country_up_after_the_preview_cannot_send_it(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ hello")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    assert "no longer lead" in await bot.say(lena.telegram_user_id, "/unlead KZ")
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) >= 1)
    assert bot.fake.callback_answers[0]["text"] == (
        "You don't answer for Kazakhstan; /lead KZ takes it on."
    )
    assert [a.status for a in _alerts(bot)] == ["draft"]
    assert _deliveries(bot) == []
    assert bot.fake.messages_to(sam.telegram_user_id) == []


async def test_broadcast_to_a_country_nobody_follows(bot: RunningBot) -> None:
    reply = await bot.say(ADMIN_ID, "/broadcast Georgia hello")
    assert "Nobody follows Georgia (GE)" in reply


def _refusal(raw: str) -> str:
    with pytest.raises(Refusal) as refused:
        parse_broadcast(raw)
    return refused.value.text


def test_parse_broadcast_arguments() -> None:
    parsed = parse_broadcast("South Korea Shelter in place\nDetails follow")
    assert parsed.country.code == "KR"
    assert parsed.text == "Shelter in place\nDetails follow"
    assert "Did you mean Kazakhstan (KZ)" in _refusal("Kazakstan hello")
    assert "What should I send" in _refusal("KZ")
    assert "Usage" in _refusal("")
    assert "keep it under" in _refusal("KZ " + "x" * 5000)


def _alerts(bot: RunningBot) -> list[Alert]:
    with session_scope(bot.engine) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


def _deliveries(bot: RunningBot) -> list[tuple[int | None, str, int | None, int, str]]:
    with session_scope(bot.engine) as session:
        rows = session.exec(select(Delivery).order_by(col(Delivery.staff_id))).all()
        return [(r.staff_id, r.dedupe_key, r.alert_id, r.priority, r.status) for r in rows]


def _audit(bot: RunningBot) -> list[tuple[str, str, int | None, int | None, dict[str, object]]]:
    with session_scope(bot.engine) as session:
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        return [
            (
                e.action,
                e.outcome,
                e.actor_telegram_id,
                e.actor_staff_id,
                json.loads(e.detail or "{}"),
            )
            for e in entries
        ]


def _unreachable(bot: RunningBot, person: Staff) -> None:
    with session_scope(bot.engine) as session:
        row = session.get(Staff, person.id)
        assert row is not None
        row.reachable = False
        session.add(row)


async def _leading(bot: RunningBot, name: str, country: str = "KZ") -> Staff:
    lead = bot.enrol(name, role=Role.LEAD)
    assert "You now lead" in await bot.say(lead.telegram_user_id, f"/lead {country}")
    return lead


async def test_the_preview_is_the_staff_message_with_its_buttons_and_who_gets_it(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena <Lead>")
    bot.enrol("Sam", countries=("KZ",))
    gone = bot.enrol("Gus", countries=("KZ",))
    _unreachable(bot, gone)
    preview = await bot.say(lena.telegram_user_id, "/broadcast Kazakhstan Stay indoors\nAll day")
    (alert,) = _alerts(bot)
    assert (alert.kind, alert.status, alert.priority, alert.country, alert.body) == (
        "broadcast",
        "draft",
        Priority.NORMAL,
        "KZ",
        "Stay indoors\nAll day",
    )
    assert alert.created_by_staff_id == lena.id and alert.sent_at is None
    assert preview == (
        "<b>Preview</b>: staff will see this message:\n\n"
        "📢 <b>Security team message: Kazakhstan</b>\n"
        f"<i>From Lena &lt;Lead&gt;, {local_and_utc('Asia/Almaty', alert.created_at)}</i>\n\n"
        "Stay indoors\nAll day\n\n"
        "———\nIt goes to <b>2</b> people (1 of them currently unreachable). Send it?"
    )
    assert bot.fake.messages_to(lena.telegram_user_id)[-1].reply_markup == {
        "inline_keyboard": [
            [
                {"text": "Send", "callback_data": f"bc:send:{alert.id}"},
                {"text": "Cancel", "callback_data": f"bc:cancel:{alert.id}"},
            ]
        ]
    }
    assert _audit(bot)[-1] == (
        "broadcast_draft",
        "ok",
        lena.telegram_user_id,
        lena.id,
        {"alert_id": alert.id, "country": "KZ"},
    )
    assert _deliveries(bot) == []


async def test_one_follower_is_one_person(bot: RunningBot) -> None:
    lena = await _leading(bot, "Lena Lead")
    bot.enrol("Sam", countries=("KZ",))
    preview = await bot.say(lena.telegram_user_id, "/broadcast KZ Drill")
    assert preview.endswith("\n\n———\nIt goes to <b>1</b> person. Send it?")


async def test_send_queues_everyone_and_the_report_counts_the_unreachable(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena Lead")
    sam = bot.enrol("Sam", countries=("KZ",))
    gone = bot.enrol("Gus", countries=("KZ",))
    _unreachable(bot, gone)
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    (draft,) = _alerts(bot)
    bot.clock.advance(hours=1)
    pressed = bot.clock()
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.telegram_user_id)) == 1)
    final = (
        "<b>Delivered: broadcast to Kazakhstan</b>\n✅ delivered: 1\n⏳ waiting: 0\n"
        "❌ failed: 0\n🚫 unreachable: 1\nof 2"
    )
    await bot.fake.await_for(lambda f: f.current_text(lena.telegram_user_id, message_id) != "")
    await bot.fake.await_for(lambda f: any(e.text == final for e in f.edits))
    answer = bot.fake.callback_answers[0]
    assert answer["text"] == "Sending…" and not answer.get("show_alert")
    assert bot.fake.edits[-1].message_id == message_id
    (alert,) = _alerts(bot)
    assert alert.status == "sent" and alert.sent_at is not None
    assert pressed <= alert.sent_at <= bot.clock()
    assert alert.created_at == draft.created_at
    assert (alert.report_chat_id, alert.report_message_id) == (lena.chat_id, message_id)
    assert _deliveries(bot) == [
        (sam.id, f"alert:{alert.id}", alert.id, Priority.NORMAL, "sent"),
        (gone.id, f"alert:{alert.id}", alert.id, Priority.NORMAL, "unreachable"),
    ]
    assert bot.fake.messages_to(gone.telegram_user_id) == []
    assert _audit(bot)[-1] == (
        "broadcast_send",
        "ok",
        lena.telegram_user_id,
        lena.id,
        {"alert_id": alert.id},
    )
    # The report is closed once nobody waits.
    for _ in range(1000):
        if _alerts(bot)[0].report_done:
            break
        await asyncio.sleep(0.01)
    assert _alerts(bot)[0].report_done


async def test_the_report_shows_progress_and_is_edited_only_when_it_changes(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena Lead")
    for name in ("Sam", "Nina", "Omar"):
        bot.enrol(name, countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    # Telegram takes 6.5 s to answer the first message: the report is due for an update
    # three times meanwhile, with nothing new to say.
    bot.fake.slow("sendMessage", 6.5)
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    final = (
        "<b>Delivered: broadcast to Kazakhstan</b>\n✅ delivered: 3\n⏳ waiting: 0\n"
        "❌ failed: 0\n🚫 unreachable: 0\nof 3"
    )
    await bot.fake.await_for(lambda f: any(e.text == final for e in f.edits), timeout=30)
    shown = [e.text for e in bot.fake.edits if e.message_id == message_id and e.text]
    assert shown[-1] == final
    # While it went out, the report said so ...
    assert shown[:-1] and all(
        t.startswith("<b>Sending: broadcast to Kazakhstan</b>") for t in shown[:-1]
    )
    assert all("⏳ waiting: 0" not in t for t in shown[:-1])
    # ... and each edit said something new. (One more at most: an update due while an
    # edit is on its way works out the same text again.)
    asked = [
        params
        for method, params in bot.fake.calls
        if method == "editMessageText" and int(params["message_id"]) == message_id
    ]
    assert len(shown) == len(set(shown))
    assert len(shown) <= len(asked) <= len(shown) + 1


async def test_a_report_edit_that_fails_is_made_again_later(bot: RunningBot) -> None:
    lena = await _leading(bot, "Lena Lead")
    gone = bot.enrol("Gus", countries=("KZ",))
    _unreachable(bot, gone)
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    bot.fake.fail_next("editMessageText", status=502, description="Bad Gateway")
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    final = (
        "<b>Delivered: broadcast to Kazakhstan</b>\n✅ delivered: 0\n⏳ waiting: 0\n"
        "❌ failed: 0\n🚫 unreachable: 1\nof 1"
    )
    await bot.fake.await_for(lambda f: any(e.text == final for e in f.edits), timeout=20)
    assert [e.message_id for e in bot.fake.edits] == [message_id]


async def test_cancel_keeps_the_draft_from_going_out_even_on_a_later_send(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena Lead")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ Drill at 10:00")
    message_id, cancel = _button(bot.fake, lena.telegram_user_id, "Cancel")
    _, send = _button(bot.fake, lena.telegram_user_id, "Send")
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=cancel
    )
    await bot.fake.await_for(
        lambda f: (
            f.current_text(lena.telegram_user_id, message_id) == "Cancelled. Nothing was sent."
        )
    )
    assert bot.fake.callback_answers[0]["text"] == "Cancelled."
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=send
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) == 2)
    assert bot.fake.callback_answers[1]["text"] == (
        "This preview has already been sent or cancelled."
    )
    assert bot.fake.callback_answers[1]["show_alert"] is True
    (alert,) = _alerts(bot)
    assert (alert.status, alert.sent_at, alert.report_message_id) == ("cancelled", None, None)
    assert _deliveries(bot) == [] and bot.fake.messages_to(sam.telegram_user_id) == []
    assert [entry[:2] for entry in _audit(bot)[-2:]] == [
        ("broadcast_cancel", "ok"),
        ("broadcast_send", "refused"),
    ]


async def test_another_leads_send_is_refused_and_the_draft_still_works_for_its_author(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena Lead")
    lars = await _leading(bot, "Lars Lead")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ hello")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    bot.press(
        lars.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) == 1)
    assert bot.fake.callback_answers[0]["text"] == (
        "This preview has already been sent or cancelled."
    )
    (alert,) = _alerts(bot)
    assert alert.status == "draft"
    assert _audit(bot)[-1] == (
        "broadcast_send",
        "refused",
        lars.telegram_user_id,
        lars.id,
        {"alert_id": alert.id},
    )
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.telegram_user_id)) == 1)


async def test_a_send_button_naming_a_feed_alert_sends_nothing(bot: RunningBot) -> None:
    lena = await _leading(bot, "Lena Lead")
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ hello")
    message_id, _ = _button(bot.fake, lena.telegram_user_id, "Send")
    with session_scope(bot.engine) as session:
        feed = Alert(
            kind=AlertKind.SECURITY.value,
            status=AlertStatus.DRAFT.value,
            country="KZ",
            title="Demonstration",
            created_by_staff_id=lena.id,
        )
        session.add(feed)
        session.flush()
        feed_id = feed.id
    bot.press(
        lena.telegram_user_id,
        chat_id=lena.telegram_user_id,
        message_id=message_id,
        data=f"bc:send:{feed_id}",
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) == 1)
    assert bot.fake.callback_answers[0]["text"] == (
        "This preview has already been sent or cancelled."
    )
    assert _deliveries(bot) == [] and bot.fake.messages_to(sam.telegram_user_id) == []


async def test_buttons_that_are_no_broadcast_buttons_are_refused(bot: RunningBot) -> None:
    lena = await _leading(bot, "Lena Lead")
    bot.enrol("Sam", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/broadcast KZ hello")
    message_id, _ = _button(bot.fake, lena.telegram_user_id, "Send")
    audited = len(_audit(bot))
    forged = ["bc:publish:1", "bc:send:x", "bc:send:0", "bc:send", "bc:cancel:-1", "bc:send:1:2"]
    for n, data in enumerate(forged, start=1):
        bot.press(
            lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
        )
        await bot.fake.await_for(lambda f, n=n: len(f.callback_answers) == n)  # type: ignore[misc]
        answer = bot.fake.callback_answers[-1]
        assert (answer["text"], answer["show_alert"]) == ("That button is not valid.", True), data
    assert len(_audit(bot)) == audited
    assert [a.status for a in _alerts(bot)] == ["draft"]


async def test_a_broadcast_without_a_message_or_to_an_unknown_country_explains_itself(
    bot: RunningBot,
) -> None:
    lena = await _leading(bot, "Lena Lead")
    uid = lena.telegram_user_id
    assert await bot.say(uid, "/broadcast") == USAGE
    assert await bot.say(uid, "/broadcast KZ") == f"What should I send to Kazakhstan (KZ)?\n{USAGE}"
    assert await bot.say(uid, "/broadcast Atlantis hi") == (
        f"I don't know the country “Atlantis”.\n{USAGE}"
    )
    assert _alerts(bot) == []


def test_send_queues_a_first_chunk_of_the_size_asked_and_leaves_the_rest_to_the_fan_out(
    engine: Engine,
) -> None:
    now = MutableClock()()
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        leads.lead(session, staff_id=lena.id or 0, country="KZ")
        people = [_person(session, f"P{n}") for n in range(5)]
        for someone in people:
            subscriptions.subscribe(session, staff_id=someone.id or 0, country="KZ")
        draft = db_broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=lena.id or 0, now=now
        )
        alert = decide_draft(
            session,
            alert_id=draft.id or 0,
            send=True,
            person=lena,
            report_at=(lena.chat_id, 7),
            now=now,
            chunk=2,
        )
        assert alert is not None and alert.id is not None
        queued = session.exec(select(Delivery.staff_id).where(Delivery.alert_id == alert.id))
        assert sorted(queued) == [p.id for p in people[:2]]
        assert not db_broadcasts.fan_out_done(session, alert_id=alert.id)


def test_parse_broadcast_reads_country_names_of_up_to_four_words() -> None:
    for raw, code, text in [
        ("Saint Kitts and Nevis Hurricane warning", "KN", "Hurricane warning"),
        ("Bosnia and Herzegovina Roads closed", "BA", "Roads closed"),
        ("kz   Stay\nin", "KZ", "Stay\nin"),
        ("KZ\nOn the next line only", "KZ", "On the next line only"),
        ("  Kazakhstan  Stay  indoors  ", "KZ", "Stay indoors"),
        ("South Korea " + "x" * MAX_TEXT, "KR", "x" * MAX_TEXT),
    ]:
        parsed = parse_broadcast(raw)
        assert (parsed.country.code, parsed.text) == (code, text)
    too_long = "KZ " + "x" * (MAX_TEXT + 1)
    assert _refusal(too_long) == (
        f"That message is {MAX_TEXT + 1} characters; please keep it under {MAX_TEXT}."
    )
    assert _refusal("") == USAGE
    assert _refusal(" \t ") == USAGE
    assert _refusal("  \n hello") == f"I don't know the country “hello”.\n{USAGE}"
    assert _refusal("KZ \n ") == f"What should I send to Kazakhstan (KZ)?\n{USAGE}"
    assert _refusal("Kazakstan hello") == (
        f"I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?\n{USAGE}"
    )
    word = "Q" * 70
    assert _refusal(f"{word} hi") == f"I don't know the country “{'Q' * 60}”.\n{USAGE}"


async def test_acks_on_a_broadcast_says_it_asked_for_no_acknowledgement(bot: RunningBot) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    for n in range(3):
        bot.enrol(f"Staff {n}", countries=("KZ",))
    await bot.say(lead.telegram_user_id, "/broadcast KZ Stay indoors tonight")
    message_id, data = _button(bot.fake, lead.telegram_user_id, "Send")
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(
        lambda f: "Delivered: broadcast" in f.current_text(lead.telegram_user_id, message_id)
    )
    (alert,) = _alerts(bot)
    assert await bot.say(lead.telegram_user_id, f"/acks {alert.id}") == (
        f"Alert {alert.id} asked for no acknowledgement: it went to 3 people without an "
        "Acknowledge button. Only departure advisories ask for one."
    )


async def test_a_large_audience_is_queued_a_chunk_at_a_time_and_each_served_once(
    bot: RunningBot,
) -> None:
    bot.services.settings.fan_out_chunk = 2
    lena = await _leading(bot, "Lena Lead")
    people = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(7)]
    gone = bot.enrol("Gus", countries=("KZ",))
    _unreachable(bot, gone)
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    message_id, data = _button(bot.fake, lena.telegram_user_id, "Send")
    bot.press(
        lena.telegram_user_id, chat_id=lena.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(
        lambda f: all(f.messages_to(p.telegram_user_id) for p in people), timeout=30
    )
    final = (
        "<b>Delivered: broadcast to Kazakhstan</b>\n✅ delivered: 7\n⏳ waiting: 0\n"
        "❌ failed: 0\n🚫 unreachable: 1\nof 8"
    )
    await bot.fake.await_for(lambda f: f.current_text(lena.telegram_user_id, message_id) == final)
    # The report never claimed to be done before everyone was queued and served.
    done = [
        e.text
        for e in bot.fake.edits
        if e.message_id == message_id and "Delivered:" in (e.text or "")
    ]
    assert done == [final]
    assert all(len(bot.fake.messages_to(p.telegram_user_id)) == 1 for p in people)
    (alert,) = _alerts(bot)
    assert alert.fan_out_after is None
    assert sorted(d[0] or 0 for d in _deliveries(bot)) == sorted(p.id or 0 for p in [*people, gone])


async def test_a_fan_out_cut_short_by_a_crash_is_finished_at_the_next_start(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    # Send was pressed and its first chunk committed; the bot died before the rest.
    settings.fan_out_chunk = 3
    now = clock()
    with session_scope(engine) as session:
        lena = staff.enrol(
            session,
            telegram_user_id=4_000_000_001,
            chat_id=4_000_000_001,
            display_name="Lena Lead",
            username=None,
            role=Role.LEAD,
        )
        people = []
        for n in range(10):
            person = staff.enrol(
                session,
                telegram_user_id=6_000_000_100 + n,
                chat_id=6_000_000_100 + n,
                display_name=f"Staff {n}",
                username=None,
                role=Role.STAFF,
            )
            subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")
            people.append(person)
        alert = db_broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=lena.id or 0, now=now
        )
        assert db_broadcasts.claim_draft(
            session,
            alert_id=alert.id or 0,
            author_staff_id=lena.id or 0,
            status=AlertStatus.SENT,
            now=now,
        )
        first = db_broadcasts.fan_out(
            session, alert=alert, parts=staff_message(alert, "Lena Lead"), now=now, chunk=3
        )
        assert not first.done
    async with running_bot(settings, engine=engine, fake=fake, clock=clock):
        await fake.await_for(
            lambda f: all(f.messages_to(p.telegram_user_id) for p in people), timeout=30
        )
        await until_recorded(engine)
    assert all(len(fake.messages_to(p.telegram_user_id)) == 1 for p in people)
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery)).all()
        assert sorted(r.staff_id for r in rows) == sorted(p.id or 0 for p in people)
        assert {r.status for r in rows} == {DeliveryStatus.SENT.value}
        assert db_broadcasts.fanning_out(session) == []
