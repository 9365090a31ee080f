"""Following countries by code, alpha-3, name or city, several at once; near misses get a
suggestion and a button that does it, for the person it was offered to alone."""

from __future__ import annotations

from db import subscriptions
from db.engine import session_scope
from db.models import Role, Staff
from tests.harness import RunningBot


def _countries(bot: RunningBot, staff_id: int) -> list[str]:
    with session_scope(bot.engine) as session:
        return subscriptions.countries_of(session, staff_id=staff_id)


async def test_subscribe_by_code_alpha3_and_name(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    uid = sam.telegram_user_id
    assert "Kazakhstan (KZ)" in await bot.say(uid, "/subscribe kz")
    assert "already follow Kazakhstan" in await bot.say(uid, "/subscribe KAZ")
    assert "United Kingdom (GB)" in await bot.say(uid, "/subscribe united kingdom")
    assert "Côte d'Ivoire (CI)" in await bot.say(uid, "/subscribe Cote d'Ivoire")
    assert _countries(bot, sam.id or 0) == ["CI", "GB", "KZ"]
    listing = await bot.say(uid, "/subscriptions")
    assert "Kazakhstan (KZ)" in listing and "United Kingdom (GB)" in listing
    assert "no longer get alerts for Kazakhstan" in await bot.say(uid, "/unsubscribe Kazakhstan")
    assert "were not following Kazakhstan" in await bot.say(uid, "/unsubscribe KZ")
    assert _countries(bot, sam.id or 0) == ["CI", "GB"]


async def test_misspelled_country_gets_a_suggestion_and_changes_nothing(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("GE",))
    refused = {
        "/subscribe Kazakstan": (
            "I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?"
        ),
        "/subscribe Narnia": (
            "I don't know the country “Narnia”. Use its English name or ISO code, e.g. KZ."
        ),
        "/subscribe": "Which country? For example: Kazakhstan, KZ or KAZ.",
        "/unsubscribe Georgi": "I don't know the country “Georgi”. Did you mean Georgia (GE)?",
        "/unsubscribe  \n ": "Which country? For example: Kazakhstan, KZ or KAZ.",
    }
    for command, reply in refused.items():
        assert await bot.say(sam.telegram_user_id, command) == reply, command
    assert _countries(bot, sam.id or 0) == ["GE"]


async def test_countries_is_for_leads_and_counts_subscribers(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    bot.enrol("Kim Staff", countries=("KZ", "GE"))
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    assert "only security leads" in await bot.say(sam.telegram_user_id, "/countries")
    listing = await bot.say(lead.telegram_user_id, "/countries")
    assert listing.endswith("• Kazakhstan (KZ): 2")
    # Nobody took Georgia with /lead: its staff have only the admins to turn to.
    assert "Georgia (GE): 1 ⚠️ no lead: only admins answer for it" in listing
    assert "/lead GE" not in listing


def _buttons(bot: RunningBot, person: Staff) -> tuple[int, dict[str, str]]:
    """The last message to `person` with buttons: its id and each button's data by label."""
    for message in reversed(bot.fake.messages_to(person.chat_id)):
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        if rows:
            return message.message_id, {b["text"]: b["callback_data"] for r in rows for b in r}
    raise AssertionError(f"no buttons for {person.display_name}")


async def _press(
    bot: RunningBot, person: Staff, message_id: int, data: str, *, chat_id: int | None = None
) -> str:
    """Press a button as `person`, in their own chat unless told; the pop-up's text."""
    before = len(bot.fake.callback_answers)
    bot.press(
        person.telegram_user_id,
        chat_id=chat_id or person.chat_id,
        message_id=message_id,
        data=data,
    )
    await bot.fake.await_for(lambda f: len(f.callback_answers) > before)
    return str(bot.fake.callback_answers[before].get("text", ""))


async def test_several_countries_and_cities_at_once(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("GE",))
    uid = sam.telegram_user_id
    assert await bot.say(uid, "/subscribe Kazakhstan, Kyrgyzstan") == (
        "You will now get alerts for Kazakhstan (KZ) and Kyrgyzstan (KG)."
    )
    assert await bot.say(uid, "/unsubscribe KZ KG") == (
        "You will no longer get alerts for Kazakhstan (KZ) and Kyrgyzstan (KG)."
    )
    assert _countries(bot, sam.id or 0) == ["GE"]
    assert await bot.say(uid, "/subscribe Almaty") == (
        "Almaty is in Kazakhstan.\nYou will now get alerts for Kazakhstan (KZ)."
    )
    assert await bot.say(uid, "/subscribe kz, Georgia and Bosnia and Herzegovina") == (
        "You will now get alerts for Bosnia and Herzegovina (BA).\n"
        "You already follow Kazakhstan (KZ) and Georgia (GE)."
    )
    assert _countries(bot, sam.id or 0) == ["BA", "GE", "KZ"]


async def test_partial_success_says_what_was_done_and_what_was_not(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("GE",))
    reply = await bot.say(sam.telegram_user_id, "/subscribe Kyrgyzstan, Narnia, Georgia, Kazakstan")
    assert reply == (
        "You will now get alerts for Kyrgyzstan (KG).\n"
        "You already follow Georgia (GE).\n"
        "I don't know the country “Narnia”. Use its English name or ISO code, e.g. KZ.\n"
        "I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?\n"
        "Nothing else was changed."
    )
    assert _countries(bot, sam.id or 0) == ["GE", "KG"]
    reply = await bot.say(sam.telegram_user_id, "/unsubscribe Kyrgyzstan KZ Georgi")
    assert reply == (
        "You will no longer get alerts for Kyrgyzstan (KG).\n"
        "You were not following Kazakhstan (KZ).\n"
        "I don't know the country “Georgi”. Did you mean Georgia (GE)?\n"
        "Nothing else was changed."
    )
    assert _countries(bot, sam.id or 0) == ["GE"]


async def test_did_you_mean_button_does_it_for_that_person_alone(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("GE",))
    kim = bot.enrol("Kim Staff")
    await bot.say(sam.telegram_user_id, "/subscribe Kazakstan, Kyrgystan")
    message_id, buttons = _buttons(bot, sam)
    assert list(buttons) == ["Follow Kazakhstan (KZ)", "Follow Kyrgyzstan (KG)"]
    assert _countries(bot, sam.id or 0) == ["GE"]  # nothing changed by the suggestion alone

    # Someone else pressing it (or a forged one) changes nothing for anybody.
    data = buttons["Follow Kazakhstan (KZ)"]
    assert (
        await _press(bot, kim, message_id, data, chat_id=sam.chat_id) == "That button is not yours."
    )
    forged = data.replace(f":{sam.id}:", f":{kim.id}:")
    assert await _press(bot, sam, message_id, forged) == "That button is not yours."
    assert _countries(bot, kim.id or 0) == []
    assert _countries(bot, sam.id or 0) == ["GE"]

    before = len(bot.fake.messages_to(sam.chat_id))
    await _press(bot, sam, message_id, data)
    # The answer, and the country's card (which goes through the outbox, in either order).
    followed = "You will now get alerts for Kazakhstan (KZ)."
    await bot.fake.await_for(
        lambda f: followed in [m.text for m in f.messages_to(sam.chat_id)[before:]]
    )
    assert _countries(bot, sam.id or 0) == ["GE", "KZ"]

    await bot.say(sam.telegram_user_id, "/unsubscribe Georgi")
    message_id, buttons = _buttons(bot, sam)
    assert list(buttons) == ["Stop following Georgia (GE)"]
    before = len(bot.fake.messages_to(sam.chat_id))
    await _press(bot, sam, message_id, buttons["Stop following Georgia (GE)"])
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) > before)
    assert "no longer get alerts for Georgia (GE)" in bot.fake.messages_to(sam.chat_id)[before].text
    assert _countries(bot, sam.id or 0) == ["KZ"]


async def test_more_names_than_one_answer_can_hold_are_refused_whole(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    reply = await bot.say(sam.telegram_user_id, "/subscribe " + ", ".join(["KZ"] * 21))
    assert reply == "That is 21 names; send at most 20 at a time. Nothing was changed."
    assert _countries(bot, sam.id or 0) == []
