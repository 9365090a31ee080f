"""Calls for help as conversations, end to end against the simulated Bot API: what a
person sends reaches their leads (text, photos as copies, locations), a lead claims the
call and the others see who, replies go both ways, /incidents lists the open calls,
/resolve and /safe close them; typed words outside a call are offered the right buttons;
strangers get nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.access import STRANGER_TEXT
from bot.incidents.parsing import reads_as_call_for_help, reads_as_safe
from bot.incidents.texts import HELP_QUESTION, PASSED_ON, SAFE_QUESTION, SEND_QUESTION, TYPE_WHAT
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db import incidents
from db.engine import session_scope
from db.incidents import HelpCall, HelpMessage
from db.models import Priority, Role, Staff
from tests.harness import (
    MutableClock,
    RunningBot,
    checkins_of,
    queue,
    running_bot,
)

# 16:12 UTC on 6 January 2022 was 22:12 in Almaty (UTC+6 then).
JAN_6 = datetime(2022, 1, 6, 16, 12, tzinfo=UTC)


def _link(person: Staff) -> str:
    return f'<a href="tg://user?id={person.telegram_user_id}">{person.display_name}</a>'


def _to(fake: FakeTelegram, person: Staff, marker: str) -> list[SentMessage]:
    return [m for m in fake.messages_to(person.chat_id) if marker in m.text]


def _got(person: Staff, marker: str, count: int = 1) -> Callable[[FakeTelegram], bool]:
    return lambda fake: len(_to(fake, person, marker)) >= count


def _buttons(message: SentMessage) -> dict[str, str]:
    assert message.reply_markup is not None, message.text
    return {
        b["text"]: b["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for b in row
    }


def _press(bot: RunningBot, person: Staff, message: SentMessage, label: str) -> None:
    bot.press(
        person.telegram_user_id,
        chat_id=person.chat_id,
        message_id=message.message_id,
        data=_buttons(message)[label],
    )


async def _lead(bot: RunningBot, name: str) -> Staff:
    lead = bot.enrol(name, role=Role.LEAD)
    assert "You now lead" in await bot.say(lead.telegram_user_id, "/lead KZ")
    return lead


async def _asks_for_help(bot: RunningBot, lena: Staff, nina: Staff) -> SentMessage:
    """Nina presses "I need help" in a roll call; the alert Lena gets."""
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    await bot.fake.await_for(_got(nina, "Safety roll call"))
    (question,) = _to(bot.fake, nina, "Safety roll call")
    _press(bot, nina, question, "I need help")
    await bot.fake.await_for(_got(nina, TYPE_WHAT))
    await bot.fake.await_for(_got(lena, "needs help</b>"))
    (alert,) = _to(bot.fake, lena, "needs help</b>")
    return alert


async def test_what_a_person_sends_after_i_need_help_reaches_the_leads(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead")
    omar = bot.enrol("Omar Lead", role=Role.LEAD)
    assert "You now lead" in await bot.say(omar.telegram_user_id, "/lead GE")
    nina = bot.enrol("Nina Help", countries=("KZ",))

    alert = await _asks_for_help(bot, lena, nina)
    # The alert links her profile (one tap to write or call her) and can be owned or answered.
    assert f"🆘 <b>{_link(nina)} (@nina_help) needs help</b>" in alert.text
    assert set(_buttons(alert)) == {"I'm handling it", "Reply"}

    words = "Stuck in the office on Abay Ave, men with guns outside, 2 colleagues with me"
    assert await bot.say(nina.telegram_user_id, words) == PASSED_ON
    await bot.fake.await_for(_got(lena, "Abay Ave"))
    (relayed,) = _to(bot.fake, lena, "Abay Ave")
    assert relayed.text == f"💬 <b>{_link(nina)} (@nina_help)</b> (call #1):\n{words}"

    # A photo goes as a copy of hers (the same file), with her name as the caption.
    photo = bot.fake.inject_message(
        nina.telegram_user_id,
        "",
        media="photo",
        caption="the street",
        first_name="Nina Help",
        username="nina_help",
    )
    await bot.fake.await_for(lambda f: any(m.method == "copyMessage" for m in f.sent))
    (copy,) = [m for m in bot.fake.messages_to(lena.chat_id) if m.method == "copyMessage"]
    assert copy.copy_of == (nina.chat_id, photo["message"]["message_id"])
    assert copy.content is not None and copy.content["photo"] == photo["message"]["photo"]
    assert copy.text == f"💬 <b>{_link(nina)} (@nina_help)</b> (call #1) sent a photo: “the street”"
    await bot.fake.await_for(_got(nina, PASSED_ON, count=2))

    # Her location, with a map link; it is recorded as any shared location is.
    assert "sent to your security leads" in await bot.say(
        nina.telegram_user_id, "", location=(43.238, 76.946)
    )
    await bot.fake.await_for(_got(lena, "shared their location"))
    assert "https://maps.google.com/?q=43.23800,76.94600" in (
        _to(bot.fake, lena, "shared their location")[0].text
    )
    with session_scope(bot.engine) as session:
        assert [c.kind for c in checkins_of(session, staff_id=nina.id or 0)] == ["location"]
        (call,) = incidents.calls_of(session, staff_id=nina.id or 0)
        thread = [(m.kind, m.from_person) for m in incidents.thread(session, call_id=call.id or 0)]
    assert thread == [("text", True), ("photo", True), ("location", True)]
    # A lead of another country hears none of it.
    assert bot.fake.messages_to(omar.chat_id)[1:] == []


async def test_the_first_lead_to_claim_owns_the_call_and_a_second_asks_first(
    bot: RunningBot,
) -> None:
    bot.clock.set(JAN_6)
    lena = await _lead(bot, "Lena Lead")
    omar = await _lead(bot, "Omar Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))
    alert = await _asks_for_help(bot, lena, nina)
    await bot.fake.await_for(_got(omar, "needs help</b>"))
    (omar_alert,) = _to(bot.fake, omar, "needs help</b>")

    _press(bot, lena, alert, "I'm handling it")
    await bot.fake.await_for(_got(nina, "is on it"))
    assert _to(bot.fake, nina, "is on it")[0].text == (
        "👤 Lena Lead from your security team is on it."
    )
    await bot.fake.await_for(
        lambda f: (
            "Lena Lead is handling this" in f.current_text(omar.chat_id, omar_alert.message_id)
        )
    )
    assert bot.fake.current_text(omar.chat_id, omar_alert.message_id).endswith(
        "👤 <b>Lena Lead is handling this</b>, since 22:12 Almaty (16:12 UTC)."
    )
    assert "You are handling this" in bot.fake.current_text(lena.chat_id, alert.message_id)

    # Omar presses too: he is asked before taking it over, and nothing changes meanwhile.
    before = len(bot.fake.messages_to(omar.chat_id))
    _press(bot, omar, omar_alert, "I'm handling it")
    await bot.fake.await_for(lambda f: len(f.messages_to(omar.chat_id)) > before)
    question = bot.fake.messages_to(omar.chat_id)[-1]
    assert question.text.startswith("Lena Lead has been handling this call since 22:12 Almaty")
    with session_scope(bot.engine) as session:
        (call,) = incidents.open_calls(session, staff_ids=None)
        assert call.owner_staff_id == lena.id
    _press(bot, omar, question, "Take it over")
    await bot.fake.await_for(_got(nina, "Omar Lead from your security team is on it."))
    await bot.fake.await_for(
        lambda f: "Omar Lead is handling this" in f.current_text(lena.chat_id, alert.message_id)
    )
    # The confirmation was for taking it from Lena; pressed again, it changes nothing.
    answers = len(bot.fake.callback_answers)
    _press(bot, omar, question, "Take it over")
    await bot.fake.await_for(lambda f: len(f.callback_answers) > answers)
    assert len(_to(bot.fake, nina, "is on it")) == 2


async def test_a_lead_who_answers_a_relayed_message_the_moment_it_arrives_answers_the_call(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead")
    omar = await _lead(bot, "Omar Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))
    await _asks_for_help(bot, lena, nina)
    # Telegram's answers are slow on their way back: the copies are in the leads' chats
    # before the bot knows their message ids, and records them.
    bot.fake.slow("sendMessage", 1.0, count=3, after=True)
    await bot.say(nina.telegram_user_id, "They are at the gate")
    await bot.fake.await_for(_got(lena, "at the gate"))
    (relayed,) = _to(bot.fake, lena, "at the gate")
    reply = await bot.say(lena.telegram_user_id, "Lock the door", reply_to=relayed.message_id)
    assert reply == "Sent to Nina Help (call #1)."
    await bot.fake.await_for(_got(nina, "Lock the door"))
    await bot.fake.await_for(_got(omar, "Lock the door"))


async def test_replies_go_both_ways_and_every_lead_sees_them(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead")
    omar = await _lead(bot, "Omar Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))
    await _asks_for_help(bot, lena, nina)
    await bot.say(nina.telegram_user_id, "Men with guns outside")
    await bot.fake.await_for(_got(lena, "Men with guns"))
    (relayed,) = _to(bot.fake, lena, "Men with guns")

    # Lena answers with Telegram's reply to the relayed message.
    reply = await bot.say(
        lena.telegram_user_id, "Stay away from the windows", reply_to=relayed.message_id
    )
    assert reply == "Sent to Nina Help (call #1)."
    await bot.fake.await_for(_got(nina, "Stay away"))
    assert _to(bot.fake, nina, "Stay away")[0].text == (
        "💬 <b>Lena Lead</b>, your security team:\nStay away from the windows"
    )
    await bot.fake.await_for(_got(omar, "Stay away"))
    assert _to(bot.fake, omar, "Stay away")[0].text.startswith(
        f"↩️ <b>Lena Lead</b> to {_link(nina)} (@nina_help) (call #1):"
    )

    # Omar presses Reply; his next message goes to her.
    (omar_alert,) = _to(bot.fake, omar, "needs help</b>")
    _press(bot, omar, omar_alert, "Reply")
    await bot.fake.await_for(_got(omar, "Your next message goes to"))
    assert await bot.say(omar.telegram_user_id, "Police are on the way") == (
        "Sent to Nina Help (call #1)."
    )
    await bot.fake.await_for(_got(nina, "Police are on the way"))
    # Her answer comes back to both, as everything she sends in the call does.
    assert await bot.say(nina.telegram_user_id, "Thank you") == PASSED_ON
    await bot.fake.await_for(lambda f: _got(lena, "Thank you")(f) and _got(omar, "Thank you")(f))
    # Omar's next message after that is no reply: his own words, read as a lead's.
    assert "curfew" in await bot.say(omar.telegram_user_id, "Nothing to see here")
    with session_scope(bot.engine) as session:
        (call,) = incidents.calls_of(session, staff_id=nina.id or 0)
        thread = [(m.text, m.from_person) for m in incidents.thread(session, call_id=call.id or 0)]
    assert thread == [
        ("Men with guns outside", True),
        ("Stay away from the windows", False),
        ("Police are on the way", False),
        ("Thank you", True),
    ]


async def test_incidents_lists_open_calls_and_resolve_and_safe_close_them(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead")
    pat = bot.enrol("Pat Lead", role=Role.LEAD)
    nina = bot.enrol("Nina Help", countries=("KZ",))
    sam = bot.enrol("Sam", countries=("KZ",))
    assert "being alerted now" in await bot.say(nina.telegram_user_id, "/help_me")
    await bot.say(nina.telegram_user_id, "Cut off on Abay Ave")
    await bot.fake.await_for(_got(lena, "needs help</b>"))
    (alert,) = _to(bot.fake, lena, "needs help</b>")
    _press(bot, lena, alert, "I'm handling it")
    await bot.fake.await_for(_got(nina, "is on it"))
    await bot.say(sam.telegram_user_id, "/help_me")

    await bot.fake.await_for(_got(lena, f"{_link(sam)} (@sam) needs help"))
    listed = await bot.say(lena.telegram_user_id, "/incidents")
    first, second, footer = listed.split("\n\n")
    assert first.startswith(f"🆘 <b>#1</b> {_link(nina)} (@nina_help), open 0 min, handled by")
    assert "Lena Lead" in first and "“Cut off on Abay Ave”" in first and "Almaty (" in first
    assert second.startswith(f"🆘 <b>#2</b> {_link(sam)} (@sam), open 0 min, nobody")
    assert footer == "/resolve &lt;id&gt; closes one."
    # A lead who does not answer for Kazakhstan sees none and may close none.
    assert await bot.say(pat.telegram_user_id, "/incidents") == "No open calls for help."
    assert await bot.say(pat.telegram_user_id, "/resolve 1") == (
        "You don't answer for the person in call #1."
    )

    assert "Call #1 is closed" in await bot.say(lena.telegram_user_id, "/resolve 1")
    await bot.fake.await_for(_got(nina, "closed your call for help (#1)"))
    assert await bot.say(lena.telegram_user_id, "/resolve 1") == "Call #1 is closed already."
    assert "Usage: /resolve" in await bot.say(lena.telegram_user_id, "/resolve")
    # Closed, her words are no longer passed on without asking.
    assert await bot.say(nina.telegram_user_id, "Home now") == SEND_QUESTION

    # Sam says he is safe: his call closes too.
    assert "Recorded: you are safe" in await bot.say(sam.telegram_user_id, "/safe")
    await bot.fake.await_for(_got(lena, "now says they are safe"))
    assert await bot.say(lena.telegram_user_id, "/incidents") == "No open calls for help."
    with session_scope(bot.engine) as session:
        closed = {c.id: c.close_reason for c in session.exec(select(HelpCall)).all()}
    assert closed == {1: "resolved", 2: "safe"}


async def test_a_person_in_trouble_is_answered_before_a_broadcast_going_out_ends(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    """Her words, the offer to alert, her press and what she sends next each take the
    next slot of the flood budget, as a call for help does: none waits for the 40
    messages of a routine broadcast still going out at 5 a second."""
    slow = settings.model_copy(update={"send_rate_per_second": 5.0})
    async with running_bot(slow, engine=engine, fake=fake, clock=clock) as bot:
        lena = await _lead(bot, "Lena Lead")
        nina = bot.enrol("Nina Help", countries=("KZ",))
        others = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(40)]
        news = "The embassy is open as usual."
        queue(bot, others, news, key="alert:77", priority=Priority.NORMAL)
        await fake.await_for(lambda f: any(m.text == news for m in f.sent))

        def broadcast_before(answer: SentMessage) -> int:
            """How many of the broadcast's messages Telegram had before `answer`."""
            return sum(1 for m in fake.sent if m.text == news and m.at < answer.at)

        before = broadcast_before(fake.sent[-1])
        bot.fake.inject_message(nina.telegram_user_id, "I need help, men with guns at the door")
        await fake.await_for(_got(nina, HELP_QUESTION))
        (offer,) = _to(fake, nina, HELP_QUESTION)
        # The slot already given, and one more at most, before hers.
        assert broadcast_before(offer) <= before + 2
        _press(bot, nina, offer, "🆘 Alert my security team")
        await fake.await_for(
            lambda f: "being alerted now" in f.current_text(nina.chat_id, offer.message_id)
        )
        await fake.await_for(_got(lena, "needs help</b>"))
        bot.fake.inject_message(nina.telegram_user_id, "Two of them, in uniform")
        await fake.await_for(_got(nina, PASSED_ON))
        (passed,) = _to(fake, nina, PASSED_ON)
        assert broadcast_before(passed) < len(others)
        await fake.await_for(lambda f: sum(1 for m in f.sent if m.text == news) == len(others))


@pytest.mark.parametrize(
    "words",
    [
        "help",
        "HELP!!",
        "sos",
        "SOS",
        "I need help",
        "we are not safe",
        "Help, men with guns are at the door",
        "помогите",
        "помощь",
        "au secours",
        "à l'aide",
        "j'ai besoin d'aide",
    ],
)
async def test_typed_calls_for_help_get_the_alert_button(bot: RunningBot, words: str) -> None:
    nina = bot.enrol("Nina Help", countries=("KZ",))
    assert await bot.say(nina.telegram_user_id, words) == HELP_QUESTION
    offer = bot.fake.messages_to(nina.chat_id)[-1]
    assert _buttons(offer) == {"🆘 Alert my security team": "hx:help", "I'm safe": "hx:safe"}


@pytest.mark.parametrize(
    ("words", "asks"),
    [
        ("Help, men with guns are at the door", True),
        ("HELP!!! they are shooting", True),
        ("SOS - car crash on the Almaty road", True),
        ("Emergency: the hotel is on fire", True),
        ("Помощь! Стреляют", True),
        ("Au secours, ils tirent", True),
        ("Help me subscribe to Georgia", False),
        ("Helpful tip: the embassy is open", False),
        ("Can you help me?", False),
        ("help desk number please", False),
    ],
)
def test_a_call_for_help_is_read_in_a_messages_opening_words_too(words: str, asks: bool) -> None:
    # A question that opens with "Help:" is offered the button too: not pressing it
    # costs nothing, and an emergency read as anything else would cost a tap more.
    assert reads_as_call_for_help(words) is asks


@pytest.mark.parametrize(
    ("words", "safe"),
    [
        ("I'm safe", True),
        ("Sorry, my phone was off. I'm safe, at home.", True),
        ("We're all safe in the hotel", True),
        ("Я в безопасности, дома", True),
        ("Je suis en sécurité.", True),
        ("Is it safe to go to the airport?", False),
        ("Are you safe?", False),
        ("I'm safe but Anna is not safe", False),  # someone is not: a call for help
        ("safe house on Abay", False),
    ],
)
def test_saying_you_are_safe_is_read_in_a_sentence_too(words: str, safe: bool) -> None:
    assert reads_as_safe(words) is safe


async def test_typed_words_outside_a_call_are_offered_to_the_team_never_lost(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))

    # "safe" is offered the button, never recorded without a tap.
    assert await bot.say(nina.telegram_user_id, "I'm safe") == SAFE_QUESTION
    safe_offer = bot.fake.messages_to(nina.chat_id)[-1]
    assert set(_buttons(safe_offer)) == {"I'm safe"}
    with session_scope(bot.engine) as session:
        assert checkins_of(session, staff_id=nina.id or 0) == []
    _press(bot, nina, safe_offer, "I'm safe")
    await bot.fake.await_for(
        lambda f: "Recorded: you are safe" in f.current_text(nina.chat_id, safe_offer.message_id)
    )

    # Other words: Send or Cancel. Cancel sends nothing.
    assert await bot.say(nina.telegram_user_id, "Is the office open tomorrow?") == SEND_QUESTION
    cancelled = bot.fake.messages_to(nina.chat_id)[-1]
    _press(bot, nina, cancelled, "Cancel")
    await bot.fake.await_for(
        lambda f: f.current_text(nina.chat_id, cancelled.message_id) == "Not sent."
    )
    # Send passes them on, with her name.
    assert await bot.say(nina.telegram_user_id, "Road to the airport is blocked") == SEND_QUESTION
    sent = bot.fake.messages_to(nina.chat_id)[-1]
    _press(bot, nina, sent, "Send")
    await bot.fake.await_for(_got(lena, "Road to the airport"))
    assert _link(nina) in _to(bot.fake, lena, "Road to the airport")[0].text
    await bot.fake.await_for(lambda f: f.current_text(nina.chat_id, sent.message_id) == PASSED_ON)
    assert not _to(bot.fake, lena, "office open")

    # The alert button: her words are the note of a call for help.
    await bot.say(nina.telegram_user_id, "/safe")
    assert await bot.say(nina.telegram_user_id, "SOS car crash") == HELP_QUESTION
    _press(bot, nina, bot.fake.messages_to(nina.chat_id)[-1], "🆘 Alert my security team")
    await bot.fake.await_for(_got(lena, "needs help</b>"))
    assert "Note: “SOS car crash”" in _to(bot.fake, lena, "needs help</b>")[0].text


async def test_words_after_help_are_offered_the_alert_button_and_reach_the_lead(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))
    # A person in trouble types the command they see first, with what is happening.
    offered = await bot.say(
        nina.telegram_user_id, "/help stuck at the airport, police took my passport"
    )
    assert offered == f"{HELP_QUESTION}\n(/help alone lists what you can do.)"
    offer = bot.fake.messages_to(nina.chat_id)[-1]
    assert _buttons(offer) == {"🆘 Alert my security team": "hx:help", "I'm safe": "hx:safe"}
    _press(bot, nina, offer, "🆘 Alert my security team")
    await bot.fake.await_for(_got(lena, "needs help</b>"))
    alert = _to(bot.fake, lena, "needs help</b>")[0].text
    assert "Note: “stuck at the airport, police took my passport”" in alert


async def test_a_strangers_words_reach_nobody(bot: RunningBot) -> None:
    lena = await _lead(bot, "Lena Lead")
    stranger = 9_300_000_001
    before = len(bot.fake.messages_to(lena.chat_id))
    assert await bot.say(stranger, "help") == STRANGER_TEXT
    bot.clock.advance(minutes=1)  # a stranger is answered once a minute at most
    bot.fake.inject_message(stranger, "", media="photo")
    await bot.fake.await_for(lambda f: len(f.messages_to(stranger)) == 2)
    assert [m.text for m in bot.fake.messages_to(stranger)] == [STRANGER_TEXT, STRANGER_TEXT]
    with session_scope(bot.engine) as session:
        assert incidents.open_calls(session, staff_ids=None) == []
    assert len(bot.fake.messages_to(lena.chat_id)) == before


async def test_export_me_holds_a_persons_calls_and_forget_me_removes_them(
    bot: RunningBot,
) -> None:
    lena = await _lead(bot, "Lena Lead")
    nina = bot.enrol("Nina Help", countries=("KZ",))
    await bot.say(nina.telegram_user_id, "/help_me")
    await bot.say(nina.telegram_user_id, "Cut off on Abay Ave")
    await bot.fake.await_for(_got(lena, "Cut off"))
    (relayed,) = _to(bot.fake, lena, "Cut off")
    await bot.say(lena.telegram_user_id, "Stay put", reply_to=relayed.message_id)
    # Her answer is in the call once it reaches Nina (other messages to Lena may come
    # before the bot's word that it went).
    await bot.fake.await_for(_got(nina, "Stay put"))

    await bot.say(nina.telegram_user_id, "/export_me")
    await bot.fake.await_for(
        lambda f: any(m.document is not None for m in f.messages_to(nina.chat_id))
    )
    (exported,) = [m for m in bot.fake.messages_to(nina.chat_id) if m.document is not None]
    assert exported.document is not None
    (call,) = json.loads(exported.document)["calls_for_help"]
    assert [(m["from"], m["text"]) for m in call["messages"]] == [
        ("you", "Cut off on Abay Ave"),
        ("your security team", "Stay put"),
    ]

    await bot.say(nina.telegram_user_id, "/forget_me")
    forget = bot.fake.messages_to(nina.chat_id)[-1]
    _press(bot, nina, forget, "Delete my data")

    def gone(_: FakeTelegram) -> bool:
        with session_scope(bot.engine) as session:
            return (
                not session.exec(select(HelpMessage)).all()
                and not session.exec(select(HelpCall)).all()
            )

    await bot.fake.await_for(gone)
