"""The gate in front of every command and button: private chats only, strangers told one
line, people below the role refused (and audited), admins by configuration."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import col, select

from bot.access import PRIVATE_ONLY_TEXT, STRANGER_TEXT, clean_text, row_id
from db.engine import session_scope
from db.models import AuditEntry, Role, Staff
from tests.harness import ADMIN_ID, RunningBot

STRANGER = 9_200_000_001


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


def _person(bot: RunningBot, telegram_user_id: int) -> Staff | None:
    with session_scope(bot.engine) as session:
        return session.exec(select(Staff).where(Staff.telegram_user_id == telegram_user_id)).first()


async def _say_in_group(bot: RunningBot, user_id: int, text: str) -> str:
    """A command written in a group chat the bot is in; returns the bot's reply there."""
    group = -1_000_000_777
    before = len(bot.fake.messages_to(group))
    with bot.fake._cond:
        message = {
            "message_id": 1 + before,
            "date": int(time.time()),
            "chat": {"id": group, "type": "group", "title": "Office"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ada"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        }
        bot.fake._queue_update({"message": message})
    await bot.fake.await_for(lambda f: len(f.messages_to(group)) > before)
    return bot.fake.messages_to(group)[before].text


async def test_commands_in_a_group_chat_are_answered_with_a_request_for_a_private_chat(
    bot: RunningBot,
) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",))
    for user_id, command in (
        (STRANGER, "/help"),
        (ADMIN_ID, "/staff"),
        (lead.telegram_user_id, "/broadcast KZ Stay indoors"),
    ):
        assert await _say_in_group(bot, user_id, command) == PRIVATE_ONLY_TEXT
    # Nobody was enrolled there, not even a configured admin, and nothing was audited.
    assert _person(bot, ADMIN_ID) is None and _person(bot, STRANGER) is None
    assert _audit(bot) == []
    assert bot.fake.messages_to(lead.telegram_user_id) == []


async def test_a_lead_asking_for_an_admin_command_is_refused_and_audited_with_their_role(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    assert await bot.say(lena.telegram_user_id, "/staff") == "Sorry, only admins can do that."
    assert await bot.say(lena.telegram_user_id, "/invite lead") == (
        "Sorry, only admins can do that."
    )
    assert _audit(bot) == [
        ("staff", "refused", lena.telegram_user_id, lena.id, {"reason": "role lead"}),
        ("invite", "refused", lena.telegram_user_id, lena.id, {"reason": "role lead"}),
    ]


async def test_a_staff_member_pressing_a_lead_button_gets_a_pop_up_refusal(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    assert "You now lead" in await bot.say(lena.telegram_user_id, "/lead KZ")
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    preview = bot.fake.messages_to(lena.telegram_user_id)[-1]
    assert preview.reply_markup is not None
    data = preview.reply_markup["inline_keyboard"][0][0]["callback_data"]
    bot.press(
        sam.telegram_user_id,
        chat_id=lena.telegram_user_id,
        message_id=preview.message_id,
        data=data,
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) == 1)
    answer = bot.fake.callback_answers[0]
    assert answer["text"] == "Sorry, only security leads can do that."
    assert answer["show_alert"] is True
    assert bot.fake.messages_to(sam.telegram_user_id) == []
    assert _audit(bot)[-1] == (
        "broadcast_button",
        "refused",
        sam.telegram_user_id,
        sam.id,
        {"reason": "role staff"},
    )


async def test_a_stranger_pressing_a_button_is_told_the_bot_is_for_enrolled_staff(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    bot.enrol("Sam Staff", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/lead KZ")
    await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors")
    preview = bot.fake.messages_to(lena.telegram_user_id)[-1]
    bot.press(STRANGER, chat_id=lena.telegram_user_id, message_id=preview.message_id, data="x")
    await bot.fake.await_for(lambda f: len(f.callback_answers) == 1)
    assert bot.fake.callback_answers[0]["text"] == STRANGER_TEXT
    assert bot.fake.callback_answers[0]["show_alert"] is True


async def test_leads_and_admins_may_use_lead_commands(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    bot.enrol("Sam Staff", countries=("KZ",))
    for user_id in (lena.telegram_user_id, ADMIN_ID):
        reply = await bot.say(user_id, "/countries")
        assert reply == "<b>Countries with subscribers</b>\n\n• Kazakhstan (KZ): 1"
    assert [entry[0] for entry in _audit(bot)] == ["enrol"]  # the admin, on first contact


async def test_a_configured_admin_is_enrolled_as_admin_on_first_contact(bot: RunningBot) -> None:
    assert await bot.say(ADMIN_ID, "/staff", first_name="Ada", username="ada") != STRANGER_TEXT
    ada = _person(bot, ADMIN_ID)
    assert ada is not None
    assert (ada.role, ada.chat_id, ada.display_name, ada.username) == (
        Role.ADMIN.value,
        ADMIN_ID,
        "Ada",
        "ada",
    )
    assert _audit(bot) == [
        ("enrol", "ok", ADMIN_ID, ada.id, {"role": "admin", "via": "ADMIN_TELEGRAM_IDS"})
    ]


async def test_a_configured_admin_demoted_in_the_database_is_an_admin_again(
    bot: RunningBot,
) -> None:
    await bot.say(ADMIN_ID, "/help")
    with session_scope(bot.engine) as session:
        ada = session.exec(select(Staff).where(Staff.telegram_user_id == ADMIN_ID)).one()
        ada.role = Role.STAFF.value
        session.add(ada)
    assert await bot.say(ADMIN_ID, "/countries") == "Nobody follows any country yet."
    again = _person(bot, ADMIN_ID)
    assert again is not None and again.role == Role.ADMIN.value
    assert [entry[0] for entry in _audit(bot)] == ["enrol"]


async def test_a_person_who_changes_name_on_telegram_is_shown_under_the_new_one(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam Staff")
    await bot.say(sam.telegram_user_id, "/help", first_name="Samuel", username="samuel_k")
    renamed = _person(bot, sam.telegram_user_id)
    assert renamed is not None
    assert (renamed.display_name, renamed.username, renamed.role) == (
        "Samuel",
        "samuel_k",
        Role.STAFF.value,
    )


async def test_arguments_made_only_of_control_characters_are_dropped(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    assert await bot.say(lena.telegram_user_id, "/curfews \x07") == "No active curfews."
    assert await bot.say(lena.telegram_user_id, "/curfews K\x00Z\x7f") == "No active curfews."
    assert await bot.say(lena.telegram_user_id, "/curfews Atlantis") == (
        "I don't know the country “Atlantis”."
    )


def test_control_characters_are_dropped_but_tabs_and_line_breaks_stay() -> None:
    controls = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
    kept = [0x09, 0x0A, 0x0D, 0x20, 0x80, 0xA0]
    for code in controls:
        assert clean_text(f"a{chr(code)}b") == "ab", hex(code)
    for code in kept:
        assert clean_text(f"a{chr(code)}b") == f"a{chr(code)}b", hex(code)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", 12),
        ("#12", 12),
        (" #7 ", 7),
        ("0000000001", 1),
        ("2147483647", 2**31 - 1),
        ("1", 1),
        ("00000000001", None),
        ("2147483648", None),
        ("0", None),
        ("#", None),
        ("", None),
        ("²", None),
        ("١٢", None),
        ("-1", None),
        ("1e3", None),
        ("##1", None),
    ],
)
def test_an_id_is_read_only_when_a_row_can_have_it(typed: str, expected: int | None) -> None:
    assert row_id(typed) == expected
