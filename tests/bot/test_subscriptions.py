"""Following countries by code, alpha-3 or name; near misses get a suggestion and change nothing."""

from __future__ import annotations

from db import subscriptions
from db.engine import session_scope
from db.models import Role
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
        "/subscribe Atlantis": (
            "I don't know the country “Atlantis”. Use its English name or ISO code, e.g. KZ."
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
    lead = bot.enrol("Lena Lead", role=Role.LEAD)
    assert "only security leads" in await bot.say(sam.telegram_user_id, "/countries")
    listing = await bot.say(lead.telegram_user_id, "/countries")
    assert "Kazakhstan (KZ): 2" in listing and "Georgia (GE): 1" in listing
