"""Who answers for a country, end to end: a lead who only follows Kazakhstan gets its
alerts like anyone else, but no call for help, and may not act on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.curfews.rules import propose_curfews
from bot.sim.telegram.server import FakeTelegram
from db import broadcasts, leads
from db.engine import session_scope
from db.models import AuditEntry, Curfew, CurfewStatus, Delivery, DeliveryKind, Role
from schedules.curfew_text import find_curfews
from tests.harness import RunningBot

REFUSED = "You don't answer for Kazakhstan; /lead KZ takes it on."


def _got_help_call(chat_id: int) -> Callable[[FakeTelegram], bool]:
    return lambda f: any("needs help</b>" in m.text for m in f.messages_to(chat_id))


async def test_only_those_who_answer_for_a_country_hear_its_call_for_help(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    fred = bot.enrol("Fred Follower", role=Role.LEAD, countries=("KZ",))
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)
    nina = bot.enrol("Nina", countries=("KZ",))

    reply = await bot.say(nina.telegram_user_id, "/help_me Men with guns outside the office")
    assert "being alerted now (2 people)" in reply
    for lead in (lena, ada):
        await bot.fake.await_for(_got_help_call(lead.chat_id))
    assert not any("needs help" in m.text for m in bot.fake.messages_to(fred.chat_id))


async def test_a_lead_who_does_not_answer_for_a_country_may_not_act_on_it(
    bot: RunningBot,
) -> None:
    bot.clock.set(datetime(2022, 1, 6, 9, 0, tzinfo=UTC))
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    fred = bot.enrol("Fred Follower", role=Role.LEAD, countries=("KZ",))
    bot.enrol("Sam", countries=("KZ",))

    # /broadcast KZ: refused with the way forward, and nothing drafted.
    assert await bot.say(fred.telegram_user_id, "/broadcast KZ Leave now") == REFUSED
    # /acks on a Kazakhstan broadcast: refused, no names shown.
    with session_scope(bot.engine) as session:
        alert = broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=lena.id or 0, now=bot.clock()
        )
        alert_id = alert.id
    assert await bot.say(fred.telegram_user_id, f"/acks {alert_id}") == REFUSED
    # /curfew_set KZ: refused, nothing drafted.
    assert await bot.say(fred.telegram_user_id, "/curfew_set KZ Almaty 23:00-07:00") == REFUSED

    # A forged Confirm on a Kazakhstan proposal (ids are sequential): refused, unchanged.
    with session_scope(bot.engine) as session:
        (proposal_id,) = propose_curfews(
            session,
            country="KZ",
            windows=find_curfews(
                "A curfew is in force in Almaty from 23:00 to 07:00.",
                reference=date(2022, 1, 6),
                country="KZ",
            ),
            published=date(2022, 1, 6),
            now=bot.clock(),
            leads=[lena],
        )
    before = len(bot.fake.callback_answers)
    on_screen = bot.fake.messages_to(fred.chat_id)[-1].message_id  # any message of his
    forged = f"cf:ok:{proposal_id}"
    bot.press(fred.telegram_user_id, chat_id=fred.chat_id, message_id=on_screen, data=forged)
    await bot.fake.await_for(lambda f: len(f.callback_answers) > before)
    assert bot.fake.callback_answers[-1]["text"] == REFUSED
    assert await bot.say(fred.telegram_user_id, f"/curfew_end {proposal_id}") == REFUSED

    with session_scope(bot.engine) as session:
        curfews = session.exec(select(Curfew)).all()
        assert [(c.id, c.status) for c in curfews] == [(proposal_id, CurfewStatus.PROPOSED.value)]
        refusals = session.exec(
            select(AuditEntry).where(
                AuditEntry.actor_staff_id == fred.id, AuditEntry.outcome == "refused"
            )
        ).all()
        assert len(refusals) == 5

    # The lead who answers for Kazakhstan may.
    preview = await bot.say(lena.telegram_user_id, "/broadcast KZ Stay indoors tonight")
    assert "Stay indoors tonight" in preview


async def test_taking_a_country_is_audited_and_the_admins_are_told_once(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)

    reply = await bot.say(lena.telegram_user_id, "/lead Kazakhstan")
    assert reply.startswith("You now lead Kazakhstan (KZ): you answer for it.")
    await bot.fake.await_for(lambda f: len(f.messages_to(ada.chat_id)) == 1)
    told = bot.fake.messages_to(ada.chat_id)[0].text
    assert told == "👤 Lena Lead (@lena_lead) now answers for Kazakhstan (KZ)."
    assert await bot.say(lena.telegram_user_id, "/lead KZ") == "You already lead Kazakhstan (KZ)."

    assert (
        await bot.say(lena.telegram_user_id, "/unlead KZ") == "You no longer lead Kazakhstan (KZ)."
    )
    await bot.fake.await_for(lambda f: len(f.messages_to(ada.chat_id)) == 2)
    assert bot.fake.messages_to(ada.chat_id)[1].text == (
        "👤 Lena Lead (@lena_lead) no longer answers for Kazakhstan (KZ)."
    )
    assert await bot.say(lena.telegram_user_id, "/unlead KZ") == "You did not lead Kazakhstan (KZ)."
    # Nothing more for the repeats; the lead is not told about their own change.
    assert len(bot.fake.messages_to(ada.chat_id)) == 2
    assert not any("answers for" in m.text for m in bot.fake.messages_to(lena.chat_id))
    with session_scope(bot.engine) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.actor_staff_id == lena.id)
        ).all()
        assert sorted(actions) == ["lead", "lead", "unlead", "unlead"]
        # The notices are about Lena: her /export_me lists them, /forget_me deletes them.
        notices = session.exec(
            select(Delivery.kind, Delivery.about_staff_id).where(Delivery.staff_id == ada.id)
        ).all()
        assert notices == [(DeliveryKind.LEAD_CHANGE.value, lena.id)] * 2


async def test_a_country_lead_or_unlead_cannot_read_changes_nothing(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("GE",))
    ada = bot.enrol("Ada Admin", role=Role.ADMIN)

    refused = {
        "/lead Kazakstan": "I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?",
        "/unlead Atlantis": (
            "I don't know the country “Atlantis”. Use its English name or ISO code, e.g. KZ."
        ),
        "/unlead": "Which country? For example: Kazakhstan, KZ or KAZ.",
    }
    for command, reply in refused.items():
        assert await bot.say(lena.telegram_user_id, command) == reply, command
    with session_scope(bot.engine) as session:
        assert leads.countries_led(session, staff_id=lena.id or 0) == ["GE"]
        entries = session.exec(select(AuditEntry).where(AuditEntry.actor_staff_id == lena.id)).all()
        # The gate audits each refusal with what the lead was told; no change is recorded.
        assert [(e.action, e.outcome, json.loads(e.detail)) for e in entries] == [
            ("lead", "refused", {"reason": refused["/lead Kazakstan"]}),
            ("unlead", "refused", {"reason": refused["/unlead Atlantis"]}),
            ("unlead", "refused", {"reason": refused["/unlead"]}),
        ]
    assert bot.fake.messages_to(ada.chat_id) == []


async def test_a_lead_who_follows_a_country_is_told_what_that_brings(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("GE",))
    sam = bot.enrol("Sam")

    reply = await bot.say(lena.telegram_user_id, "/subscribe KZ")
    assert reply == (
        "You will now get alerts for Kazakhstan (KZ).\n"
        "You follow it; you do not answer for it: its calls for help, roll calls and curfew "
        "proposals go to the leads who do. /lead KZ takes it on."
    )
    assert await bot.say(lena.telegram_user_id, "/subscribe GE") == (
        "You will now get alerts for Georgia (GE)."
    )
    assert await bot.say(sam.telegram_user_id, "/subscribe KZ") == (
        "You will now get alerts for Kazakhstan (KZ)."
    )
