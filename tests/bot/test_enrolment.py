"""Enrolment by invite, roles, and strangers refused everywhere."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from bot.access import STRANGER_TEXT
from bot.sim.telegram.server import FakeTelegram
from db.engine import session_scope
from db.models import AuditEntry, Role, Staff
from tests.harness import ADMIN_ID, RunningBot

STRANGER = 9_100_000_001


def _invite_code(reply: str) -> str:
    match = re.search(r"\?start=([\w-]+)", reply)
    assert match, reply
    return match.group(1)


async def test_admin_invites_and_a_new_person_enrols_with_the_link(bot: RunningBot) -> None:
    reply = await bot.say(ADMIN_ID, "/invite", first_name="Ada")
    assert f"https://t.me/{FakeTelegram.BOT_USERNAME}?start=" in reply
    assert reply.startswith("Invite for a staff member, single use, valid until ")
    code = _invite_code(reply)

    welcome = await bot.say(7_000_123, f"/start {code}", first_name="Nurlan", username="nurlan")
    assert "enrolled as staff" in welcome
    with session_scope(bot.engine) as session:
        person = session.exec(select(Staff).where(Staff.telegram_user_id == 7_000_123)).one()
        assert person.role == Role.STAFF.value
        assert person.username == "nurlan"

    # Single use: a second person cannot use the same code.
    second = await bot.say(7_000_456, f"/start {code}", first_name="Eve")
    assert second == STRANGER_TEXT


async def test_lead_invite_enrols_a_lead(bot: RunningBot) -> None:
    reply = await bot.say(ADMIN_ID, "/invite lead")
    assert reply.startswith("Invite for a security lead, single use, valid until ")
    code = _invite_code(reply)
    welcome = await bot.say(7_000_777, f"/start {code}", first_name="Lena")
    assert "security lead" in welcome


async def test_expired_invite_is_refused(bot: RunningBot) -> None:
    code = _invite_code(await bot.say(ADMIN_ID, "/invite"))
    bot.clock.advance(days=8)
    assert await bot.say(7_000_888, f"/start {code}") == STRANGER_TEXT
    with session_scope(bot.engine) as session:
        assert (
            session.exec(select(Staff).where(Staff.telegram_user_id == 7_000_888)).first() is None
        )


async def test_stranger_is_refused_everywhere_and_learns_nothing(bot: RunningBot) -> None:
    bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",))
    bot.enrol("Sam Staff", countries=("KZ",))
    for command in [
        "/start",
        "/start not-a-code",
        "/help",
        "/subscribe KZ",
        "/subscriptions",
        "/countries",
        "/broadcast KZ hello",
        "/invite",
        "/promote @sam_staff",
        "/staff",
        "/whatever",
        "hello there",
    ]:
        assert await bot.say(STRANGER, command) == STRANGER_TEXT, command
        bot.clock.advance(minutes=1)  # a stranger is answered once a minute at most
    everything = " ".join(m.text for m in bot.fake.messages_to(STRANGER))
    assert not any(word in everything for word in ("Sam", "Lena", "KZ", "Kazakhstan"))
    with session_scope(bot.engine) as session:
        assert session.exec(select(Staff).where(Staff.telegram_user_id == STRANGER)).first() is None
        refused = session.exec(
            select(AuditEntry).where(
                AuditEntry.actor_telegram_id == STRANGER, AuditEntry.outcome == "refused"
            )
        ).all()
    # Privileged attempts are audited, each once: countries, broadcast, invite, promote, staff.
    assert sorted(e.action for e in refused) == [
        "broadcast",
        "countries",
        "invite",
        "promote",
        "staff",
    ]
    assert all(e.actor_staff_id is None for e in refused)
    assert all(json.loads(e.detail or "{}") == {"reason": "not enrolled"} for e in refused)


async def test_promote_and_demote(bot: RunningBot) -> None:
    bot.enrol("Sam Staff")
    assert "now a security lead" in await bot.say(ADMIN_ID, "/promote @sam_staff")
    assert "now an admin" in await bot.say(ADMIN_ID, "/promote @Sam_Staff")
    assert "already an admin" in await bot.say(ADMIN_ID, "/promote @sam_staff admin")
    assert "now a security lead" in await bot.say(ADMIN_ID, "/demote @sam_staff")
    assert "No enrolled person" in await bot.say(ADMIN_ID, "/promote @nobody")
    with session_scope(bot.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert actions.count("promote") == 2 and actions.count("demote") == 1


async def test_a_username_two_people_hold_picks_neither_and_names_both(bot: RunningBot) -> None:
    # Sam gave up @sam_staff and a newcomer took it; our record of Sam is from before.
    old = bot.enrol("Sam Staff")
    new = bot.enrol("Sam Staff")
    reply = await bot.say(ADMIN_ID, "/promote @Sam_Staff lead")
    assert "2 enrolled people have the username @sam_staff" in reply
    assert f"Sam Staff (id {old.telegram_user_id})" in reply
    assert f"Sam Staff (id {new.telegram_user_id})" in reply
    with session_scope(bot.engine) as session:
        roles = {p.telegram_user_id: p.role for p in session.exec(select(Staff)).all()}
        promotions = [e for e in session.exec(select(AuditEntry)).all() if e.action == "promote"]
    assert roles[old.telegram_user_id] == roles[new.telegram_user_id] == Role.STAFF
    # The refusal is audited, as every refused admin command is; no role changed.
    assert [json.loads(e.detail or "{}")["reason"][:41] for e in promotions] == [
        "2 enrolled people have the username @sam_"
    ]
    assert "now a security lead" in await bot.say(ADMIN_ID, f"/promote {new.telegram_user_id}")
    with session_scope(bot.engine) as session:
        assert session.get(Staff, new.id).role == Role.LEAD  # type: ignore[union-attr]
        assert session.get(Staff, old.id).role == Role.STAFF  # type: ignore[union-attr]


async def test_staff_cannot_use_admin_commands(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    assert "only admins" in await bot.say(sam.telegram_user_id, "/invite")
    assert "only admins" in await bot.say(sam.telegram_user_id, "/staff")


async def test_help_lists_what_the_role_may_use(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    staff_help = await bot.say(sam.telegram_user_id, "/help")
    admin_help = await bot.say(ADMIN_ID, "/help")
    assert "/subscribe" in staff_help and "/broadcast" not in staff_help
    assert "/broadcast" in admin_help and "/invite" in admin_help


async def test_the_last_admin_and_configured_admins_cannot_be_demoted(bot: RunningBot) -> None:
    await bot.say(ADMIN_ID, "/help")  # enrols the configured admin
    other = bot.enrol("Olga Admin", role=Role.ADMIN)
    assert "ADMIN_TELEGRAM_IDS" in await bot.say(other.telegram_user_id, f"/demote {ADMIN_ID}")
    assert "now a security lead" in await bot.say(ADMIN_ID, "/demote @olga_admin")
    with session_scope(bot.engine) as session:
        configured = session.exec(select(Staff).where(Staff.telegram_user_id == ADMIN_ID)).one()
        configured.telegram_user_id = 1_000_000_999  # no longer the configured id
        session.add(configured)
    assert "last admin" in await bot.say(1_000_000_999, "/demote 1000000999")


async def test_staff_list_shows_people_roles_and_countries(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", countries=("KZ", "GE"))
    bot.enrol("Lena Lead", role=Role.LEAD, countries=("KG",), answers_for=("KZ", "UZ"))
    bot.enrol("Lou <Lead>", role=Role.LEAD)
    listing = await bot.say(ADMIN_ID, "/staff")
    # Each name links to the person's profile, escaped.
    link = f'<a href="tg://user?id={sam.telegram_user_id}">Sam Staff</a>'
    assert f"• {link} (@sam_staff) (id {sam.telegram_user_id})" in listing
    assert ">Lou &lt;Lead&gt;</a>" in listing
    assert "staff; follows GE, KZ\n" in listing
    # What a lead answers for is not what they follow.
    assert "lead; follows KG; answers for KZ, UZ\n" in listing
    assert "lead; follows none; answers for none\n" in listing
    assert "admin; follows none; answers for every country" in listing


async def test_a_promoted_person_is_told_what_they_can_now_do(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    await bot.say(sam.telegram_user_id, "/help")  # Telegram lets a bot write to its users
    assert "now a security lead" in await bot.say(ADMIN_ID, "/promote @sam_staff")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
    told = bot.fake.messages_to(sam.chat_id)[1].text
    assert told.startswith("<b>You are now a security lead.</b> You can now also use:\n")
    assert "/broadcast KZ &lt;text&gt;: message a country's staff" in told
    assert "/lead [KZ]" in told and "/checkin" in told
    assert "/subscribe" not in told and "/invite" not in told  # had it; not theirs
    assert "Start with /lead &lt;country&gt; for each" in told

    assert "now an admin" in await bot.say(ADMIN_ID, "/promote @sam_staff")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 3)
    told = bot.fake.messages_to(sam.chat_id)[2].text
    assert told.startswith("<b>You are now an admin.</b> You can now also use:\n")
    assert "/invite" in told and "/staff" in told and "/broadcast" not in told

    # A demotion is no news of new commands.
    assert "now a security lead" in await bot.say(ADMIN_ID, "/demote @sam_staff")
    await bot.settled()
    assert len(bot.fake.messages_to(sam.chat_id)) == 3
