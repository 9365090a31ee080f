"""`/contact` end to end against the fake Bot API: a phone number and an emergency
contact recorded, shown, refused when wrong, passed to the leads in a call for help,
exported, removed and forgotten."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from db.engine import session_scope
from db.models import Role, Staff
from tests.harness import RunningBot

PHONE = "+7 701 234 5678"
EMERGENCY = "Anna (wife) <+7 701 765 4321>"


async def _export(bot: RunningBot, person: Staff) -> dict[str, Any]:
    assert (await bot.say(person.telegram_user_id, "/export_me")).startswith("Everything")
    document = bot.fake.messages_to(person.chat_id)[-1]
    assert document.document is not None
    data: dict[str, Any] = json.loads(document.document)
    return data


async def test_a_contact_is_recorded_shown_and_refused_when_it_is_not_a_phone(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam", countries=("KZ",))
    assert (await bot.say(sam.telegram_user_id, "/contact")).startswith(
        "You have not given a phone number. Usage: /contact <phone> [; emergency contact]"
    )
    for wrong in ("/contact 1234", "/contact call me; Anna", "/contact +7 701 234 5678 9012 345"):
        assert "is not a phone number. Usage: /contact" in await bot.say(
            sam.telegram_user_id, wrong
        )
    too_long = await bot.say(sam.telegram_user_id, f"/contact {PHONE}; {'x' * 201}")
    assert too_long == "The emergency contact is too long: at most 200 characters."
    with session_scope(bot.engine) as session:
        person = session.get(Staff, sam.id)
        assert person is not None and (person.phone, person.emergency_contact) == (None, None)

    recorded = await bot.say(sam.telegram_user_id, f"/contact  {PHONE} ;  {EMERGENCY} ")
    assert recorded == (
        f"Recorded.\nPhone: {PHONE}\nEmergency contact: {EMERGENCY}\n"
        "Your security leads see these when you ask for help. /contact off removes them."
    )
    assert (await bot.say(sam.telegram_user_id, "/contact")).startswith(f"Phone: {PHONE}\n")
    # A phone alone replaces both.
    assert "Emergency contact: none\n" in await bot.say(sam.telegram_user_id, "/contact 8 800 1234")
    assert await bot.say(sam.telegram_user_id, "/contact OFF") == (
        "Your phone number and emergency contact are removed."
    )
    assert (await bot.say(sam.telegram_user_id, "/contact")).startswith("You have not given")


async def test_the_leads_see_the_contact_in_a_call_for_help_and_export_and_forget_have_it(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact {PHONE}; {EMERGENCY}")
    await bot.say(sam.telegram_user_id, "/help_me Car crash")
    await bot.fake.await_for(
        lambda f: any("needs help</b>" in m.text for m in f.messages_to(lena.chat_id))
    )
    alert = next(m.text for m in bot.fake.messages_to(lena.chat_id) if "needs help</b>" in m.text)
    assert f"\nPhone: {PHONE}\n" in alert
    assert "\nEmergency contact: Anna (wife) &lt;+7 701 765 4321&gt;\n" in alert

    person = (await _export(bot, sam))["person"]
    assert (person["phone"], person["emergency_contact"]) == (PHONE, EMERGENCY)

    preview = await bot.say(sam.telegram_user_id, "/forget_me")
    # The preview names both, since Delete removes them.
    assert "• the phone number and emergency contact you gave with /contact\n" in preview
    assert "• 1 call for help, with everything you and your security team wrote" in preview
    message = bot.fake.messages_to(sam.chat_id)[-1]
    assert message.reply_markup is not None
    (delete,) = [
        b["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for b in row
        if b["text"] == "Delete my data"
    ]
    bot.press(sam.telegram_user_id, chat_id=sam.chat_id, message_id=message.message_id, data=delete)
    await bot.fake.await_for(lambda f: any(a.get("text") == "Deleted." for a in f.callback_answers))
    with session_scope(bot.engine) as session:
        assert session.exec(select(Staff).where(col(Staff.phone) == PHONE)).all() == []


MOBILE = "+77012345678"


async def test_a_mobile_for_sms_and_an_email_are_validated_shown_changed_and_removed(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam", countries=("KZ",))
    bob = bot.enrol("Bob", countries=("KZ",))
    refusals = {
        "/contact sms": "Usage: /contact sms <mobile number with country code>",
        "/contact sms 701 234 5678": "is not a mobile number with its country code",
        "/contact sms +7 701 234": "is not a valid phone number",
        "/contact sms +7 727 272 7272": "is a landline or service number",  # Almaty landline
        "/contact email": "Usage: /contact email <address>",
        "/contact email sam@": "is not an e-mail address",
        "/contact email sam at example.org": "is not an e-mail address",
    }
    for command, refusal in refusals.items():
        assert refusal in await bot.say(sam.telegram_user_id, command), command
    with session_scope(bot.engine) as session:
        person = session.get(Staff, sam.id)
        assert person is not None and (person.mobile, person.email) == (None, None)

    # Written any way people write it, kept as E.164; 00 is the international prefix.
    # This bot has no SMS or SMTP settings: the person is told so.
    assert await bot.say(sam.telegram_user_id, "/contact sms 007 (701) 234-56-78") == (
        f"Recorded: urgent messages reach you by SMS at {MOBILE}. "
        "This bot sends no SMS yet; it is kept for when it does."
    )
    assert await bot.say(sam.telegram_user_id, "/contact email Sam@Example.ORG") == (
        "Recorded: urgent messages reach you by e-mail at Sam@example.org. "
        "This bot sends no e-mail yet; it is kept for when it does."
    )
    shown = await bot.say(sam.telegram_user_id, "/contact")
    assert f"SMS: {MOBILE} (/contact sms off removes it)" in shown
    assert "E-mail: Sam@example.org (/contact email off removes it)" in shown
    # One number, one person: answers by SMS are matched by it.
    assert "Someone else has given +77012345678" in await bot.say(
        bob.telegram_user_id, f"/contact sms {MOBILE}"
    )
    assert (await bot.say(sam.telegram_user_id, "/contact sms +7 702 000 0000")).startswith(
        "Recorded: urgent messages reach you by SMS at +77020000000."
    )
    assert await bot.say(sam.telegram_user_id, "/contact sms OFF") == (
        "Your mobile number for SMS is removed."
    )
    assert await bot.say(sam.telegram_user_id, "/contact email off") == (
        "Your e-mail address is removed."
    )
    with session_scope(bot.engine) as session:
        person = session.get(Staff, sam.id)
        assert person is not None and (person.mobile, person.email) == (None, None)


async def test_leads_see_only_whether_a_person_can_be_reached_until_they_ask_for_help(
    bot: RunningBot,
) -> None:
    admin = bot.enrol("Ada Admin", role=Role.ADMIN)
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    await bot.say(sam.telegram_user_id, f"/contact sms {MOBILE}")
    await bot.say(sam.telegram_user_id, "/contact email sam@example.org")
    listing = await bot.say(admin.telegram_user_id, "/staff")
    assert "follows KZ; reachable by SMS and e-mail" in listing
    assert MOBILE not in listing and "sam@example.org" not in listing

    await bot.say(sam.telegram_user_id, "/help_me")
    await bot.fake.await_for(
        lambda f: any("needs help</b>" in m.text for m in f.messages_to(lena.chat_id))
    )
    alert = next(m.text for m in bot.fake.messages_to(lena.chat_id) if "needs help</b>" in m.text)
    assert f"\nMobile (SMS): {MOBILE}\n" in alert and "\nE-mail: sam@example.org\n" in alert

    person = (await _export(bot, sam))["person"]
    assert (person["mobile_for_sms"], person["email"]) == (MOBILE, "sam@example.org")
