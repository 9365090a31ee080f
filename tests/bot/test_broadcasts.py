"""Lead broadcasts: preview, Send, who gets what, the live report, and refusals."""

from __future__ import annotations

from sqlmodel import select

from bot.broadcasts import parse_broadcast
from bot.sim.telegram import FakeTelegram
from db.engine import session_scope
from db.models import AuditEntry, Delivery, DeliveryStatus, Role
from tests.harness import ADMIN_ID, RunningBot


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


async def test_broadcast_to_a_country_nobody_follows(bot: RunningBot) -> None:
    reply = await bot.say(ADMIN_ID, "/broadcast Georgia hello")
    assert "Nobody follows Georgia (GE)" in reply


def test_parse_broadcast_arguments() -> None:
    parsed = parse_broadcast("South Korea Shelter in place\nDetails follow")
    assert not isinstance(parsed, str)
    assert parsed.country.code == "KR"
    assert parsed.text == "Shelter in place\nDetails follow"
    assert "Did you mean Kazakhstan (KZ)" in str(parse_broadcast("Kazakstan hello"))
    assert "What should I send" in str(parse_broadcast("KZ"))
    assert "Usage" in str(parse_broadcast(""))
    assert "keep it under" in str(parse_broadcast("KZ " + "x" * 5000))
