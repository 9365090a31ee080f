"""Official feeds end to end: baseline, news pushed once (also across a restart), departure
acknowledgements, failing sources that never stop the others, and managing sources."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import feeds
from bot.settings import BotSettings
from bot.sim.feeds import FeedServer, feed_server
from bot.sim.telegram.server import FakeTelegram
from db import sources
from db.engine import session_scope
from db.models import Alert, AuditEntry, Delivery, DeliveryKind, Role, Source
from tests.harness import ADMIN_ID, MutableClock, RunningBot, running_bot
from tests.schedules.sources.samples import StateItem, state_feed

KZ_CALM = StateItem(
    title="Kazakhstan - Level 1: Exercise Normal Precautions",
    description="<p>Exercise normal precautions in Kazakhstan.</p>",
    tag="KZ",
    slug="kazakhstan",
)
KZ_REDATED = StateItem(
    title=KZ_CALM.title,
    description=KZ_CALM.description,
    tag="KZ",
    slug="kazakhstan",
    pub_date="Wed, 08 Oct 2025",
    scheme="http",
)
KZ_LEAVE = StateItem(
    title="Kazakhstan - Level 4: Do Not Travel",
    description=(
        "<p>Do not travel to Kazakhstan due to civil unrest. On January 6, 2022, the "
        "Department of State authorized the voluntary departure of non-emergency U.S. "
        "government employees and family members from Almaty.</p>"
    ),
    tag="KZ",
    slug="kazakhstan",
)
ST_ONE = StateItem(
    title="Sao Tome and Principe - Level 1: Exercise Normal Precautions",
    description="<p>Exercise normal precautions.</p>",
    tag="TP",
    slug="sao-tome-and-principe",
)
ST_TWO = StateItem(
    title="Sao Tome and Principe - Level 2: Exercise Increased Caution",
    description="<p>Exercise increased caution due to crime.</p>",
    tag="TP",
    slug="sao-tome-and-principe",
)
GE_TWO = StateItem(
    title="Georgia - Level 2: Exercise Increased Caution",
    description="<p>Exercise increased caution in Georgia due to civil unrest.</p>",
    tag="GG",
    slug="georgia",
)


@pytest.fixture
def feeds_server() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _add_source(
    bot: RunningBot, url: str, kind: str = "us-state", country: str | None = None
) -> int:
    with session_scope(bot.engine) as session:
        source = sources.add(session, kind=kind, url=url, country=country)
        assert source is not None and source.id is not None
        return source.id


def _alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


async def test_a_departure_advisory_reaches_everyone_before_its_roll_call_however_it_is_chunked(
    feeds_server: FeedServer,
    settings: BotSettings,
    engine: Engine,
    fake: FakeTelegram,
    clock: MutableClock,
) -> None:
    # Alerts are queued one person at a time: the roll call must still come second.
    chunked = settings.model_copy(update={"fan_out_chunk": 1})
    async with running_bot(chunked, engine=engine, fake=fake, clock=clock) as bot:
        people = [bot.enrol(f"Kim {n}", countries=("KZ",)) for n in range(5)]
        feeds_server.serve("/ta.xml", state_feed(KZ_CALM, ST_ONE))
        source_id = _add_source(bot, feeds_server.url("/ta.xml"))
        assert await feeds.poll_source(bot.services, source_id) == []
        feeds_server.serve("/ta.xml", state_feed(KZ_LEAVE, ST_ONE))
        assert len(await feeds.poll_source(bot.services, source_id)) == 1
        await fake.await_for(lambda f: all(len(f.messages_to(p.chat_id)) == 2 for p in people))
        for person in people:
            advisory, question = fake.messages_to(person.chat_id)
            assert "DEPARTURE ADVISORY" in advisory.text, person.display_name
            assert "Safety roll call" in question.text, person.display_name


async def test_baseline_then_each_change_pushed_once_even_across_a_restart(
    feeds_server: FeedServer,
    settings: BotSettings,
    engine: Engine,
    fake: FakeTelegram,
    clock: MutableClock,
) -> None:
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        kz = bot.enrol("Kim in Almaty", countries=("KZ",))
        st = bot.enrol("Sara in Sao Tome", countries=("ST",))
        ge = bot.enrol("Giorgi in Tbilisi", countries=("GE",))
        lead = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",), answers_for=("KZ",))
        feeds_server.serve("/ta.xml", state_feed(KZ_CALM, ST_ONE))
        source_id = _add_source(bot, feeds_server.url("/ta.xml"))

        # The first poll is the baseline: recorded, nobody told.
        assert await feeds.poll_source(bot.services, source_id) == []
        # Re-dated, re-linked and unchanged: not news.
        feeds_server.serve("/ta.xml", state_feed(KZ_REDATED, ST_ONE))
        assert await feeds.poll_source(bot.services, source_id) == []

        # A level change is news, reported as such, to that country only.
        feeds_server.serve("/ta.xml", state_feed(KZ_REDATED, ST_TWO))
        assert len(await feeds.poll_source(bot.services, source_id)) == 1
        await fake.await_for(lambda f: len(f.messages_to(st.chat_id)) == 1)
        text = fake.messages_to(st.chat_id)[0].text
        assert "Travel advisory" in text and "Sao Tome and Principe" in text
        assert "Level 1 -&gt; Level 2" in text and "increased caution due to crime" in text
        assert fake.messages_to(kz.chat_id) == []
        assert await feeds.poll_source(bot.services, source_id) == []

        # A new item is news; an item that leaves the feed is not.
        feeds_server.serve("/ta.xml", state_feed(KZ_REDATED, ST_TWO, GE_TWO))
        (new_item,) = await feeds.poll_source(bot.services, source_id)
        feeds_server.serve("/ta.xml", state_feed(KZ_REDATED, ST_TWO))
        assert await feeds.poll_source(bot.services, source_id) == []
        await fake.await_for(lambda f: len(f.messages_to(ge.chat_id)) == 1)
        assert "Georgia" in fake.messages_to(ge.chat_id)[0].text

    # After a restart, the same feed is still not news.
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as again:
        assert await feeds.poll_source(again.services, source_id) == []
        # A departure advisory: pushed with an Acknowledge button, leads see who pressed it.
        feeds_server.serve("/ta.xml", state_feed(KZ_LEAVE, ST_TWO))
        (departure_id,) = await feeds.poll_source(again.services, source_id)
        # It also starts a safety roll call for the country, which comes after it.
        await fake.await_for(lambda f: len(f.messages_to(kz.chat_id)) == 2)
        message, roll_call = fake.messages_to(kz.chat_id)
        assert "Safety roll call: Kazakhstan" in roll_call.text
        assert "DEPARTURE ADVISORY" in message.text and "Level 1 -&gt; Level 4" in message.text
        assert f"alert {departure_id}" in message.text
        with session_scope(again.engine) as session:
            queued_as = session.exec(
                select(Delivery.kind).where(Delivery.alert_id == departure_id).distinct()
            ).all()
        assert queued_as == [DeliveryKind.FEED_ALERT.value]
        assert message.reply_markup == {
            "inline_keyboard": [[{"text": "Acknowledge", "callback_data": f"ack:{departure_id}"}]]
        }
        # The lead follows Kazakhstan too: let their copies (the advisory, then the live
        # roll of the round it started) arrive before they ask.
        await fake.await_for(
            lambda f: any("Roll call #" in m.text for m in f.messages_to(lead.chat_id))
        )
        firsts = [m.text.split("\n")[0] for m in fake.messages_to(lead.chat_id)]
        advisory = firsts.index("🚨 <b>DEPARTURE ADVISORY</b>: Kazakhstan")
        assert advisory < firsts.index("🚨 <b>Safety roll call: Kazakhstan</b>")
        assert advisory < firsts.index("📋 <b>Roll call #1: Kazakhstan</b>")
        waiting = await again.say(lead.telegram_user_id, f"/acks {departure_id}")
        assert "Not yet (2)" in waiting and "Kim in Almaty" in waiting
        again.fake.inject_callback(
            kz.telegram_user_id,
            chat_id=kz.chat_id,
            message_id=message.message_id,
            data=f"ack:{departure_id}",
            first_name="Kim in Almaty",
        )
        await fake.await_for(
            lambda f: "Acknowledged" in f.current_text(kz.chat_id, message.message_id)
        )
        done = await again.say(lead.telegram_user_id, f"/acks {departure_id}")
        assert re.search(
            r"Acknowledged \(1\):\n• <a href=\"tg://user\?id=\d+\">Kim in Almaty</a> "
            r"\(\d\d \w{3} \d\d:\d\d Almaty \(\d\d \w{3} \d\d:\d\d UTC\)\)\n",
            done,
        )
        # Someone the alert was not sent to cannot acknowledge it.
        again.fake.inject_callback(
            st.telegram_user_id,
            chat_id=st.chat_id,
            message_id=1,
            data=f"ack:{departure_id}",
            first_name="Sara in Sao Tome",
        )
        await fake.await_for(
            lambda f: any("not valid" in a.get("text", "") for a in f.callback_answers)
        )

    kinds = [(a.kind, a.country, a.level, a.previous_level) for a in _alerts(engine)]
    assert kinds == [
        ("advisory", "ST", 2, 1),
        ("advisory", "GE", 2, None),
        ("departure", "KZ", 4, 1),
    ]
    assert new_item == _alerts(engine)[1].id
    with session_scope(engine) as session:
        to_kim = session.exec(select(Delivery).where(Delivery.staff_id == kz.id)).all()
    assert len(to_kim) == 2  # the advisory and the roll call, once each


async def test_a_failing_source_never_stops_the_others(
    bot: RunningBot, feeds_server: FeedServer
) -> None:
    bot.services.settings.feed_timeout_seconds = 0.5
    bot.services.settings.feed_max_bytes = 100_000
    kz = bot.enrol("Kim", countries=("KZ",))
    feeds_server.serve("/good.xml", state_feed(KZ_CALM))
    feeds_server.serve("/error.xml", b"oops", status=500)
    feeds_server.serve("/slow.xml", state_feed(KZ_CALM), delay=2.0)
    feeds_server.serve("/garbage.xml", bytes(range(256)) * 10)
    feeds_server.serve(
        "/html.xml", b"<!doctype html><html><body>Login</body></html>", content_type="text/html"
    )
    feeds_server.serve(
        "/empty.xml",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
    )
    feeds_server.serve("/huge.xml", b"<rss>" + b" " * 10_000_000)
    bad = {
        name: _add_source(bot, feeds_server.url(f"/{name}.xml"), kind="rss", country="KZ")
        for name in ("error", "slow", "garbage", "html", "empty", "huge")
    }
    good = _add_source(bot, feeds_server.url("/good.xml"))

    for source_id in [*bad.values(), good]:
        await feeds.poll_source(bot.services, source_id)
    feeds_server.serve("/good.xml", state_feed(KZ_LEAVE))
    for source_id in [*bad.values(), good]:
        bot.clock.advance(minutes=31)  # past any backoff
        await feeds.poll_source(bot.services, source_id)
    await bot.fake.await_for(lambda f: len(f.messages_to(kz.chat_id)) == 1)

    with session_scope(bot.engine) as session:
        by_id = {s.id: s for s in session.exec(select(Source)).all()}
    assert by_id[good].last_error is None and by_id[good].last_success_at is not None
    for name, source_id in bad.items():
        assert by_id[source_id].last_error, name
        assert by_id[source_id].last_success_at is None, name
    assert "500" in (by_id[bad["error"]].last_error or "")
    assert "timed out" in (by_id[bad["slow"]].last_error or "")
    assert "no items" in (by_id[bad["empty"]].last_error or "")
    listing = await bot.say(ADMIN_ID, "/sources")
    assert "last error" in listing and "last success: never" in listing


async def test_admins_are_told_once_when_a_source_fails_for_an_hour(
    bot: RunningBot, feeds_server: FeedServer
) -> None:
    await bot.say(ADMIN_ID, "/help")  # the configured admin enrols on first contact
    feeds_server.serve("/down.xml", b"", status=503)
    source_id = _add_source(bot, feeds_server.url("/down.xml"), kind="rss", country="KZ")
    before = len(bot.fake.messages_to(ADMIN_ID))
    for _ in range(6):
        await feeds.poll_source(bot.services, source_id)
        bot.clock.advance(minutes=31)
    await bot.fake.await_for(lambda f: len(f.messages_to(ADMIN_ID)) > before)
    notices = [m.text for m in bot.fake.messages_to(ADMIN_ID) if "has failed since" in m.text]
    assert len(notices) == 1 and f"Source {source_id}" in notices[0]


async def test_admins_manage_sources(bot: RunningBot) -> None:
    with session_scope(bot.engine) as session:
        there = [(s.kind, s.url, s.country) for s in sources.every(session)]
    sam = bot.enrol("Sam")
    assert "only admins" in await bot.say(
        sam.telegram_user_id, "/source_add rss https://x.example/feed KZ"
    )
    kinds = "us-state, us-embassy, fcdo, fcdo-global, rss"
    refused = {
        "/source_add": f"Usage: /source_add <kind> <url> [country]; kinds: {kinds}",
        "/source_add atom https://x.example/feed": f"Unknown kind “atom”; use one of: {kinds}",
        "/source_add rss https://x.example/feed": (
            "An rss source needs a country: /source_add rss <url> <country>"
        ),
        "/source_add rss ftp://x KZ": "The URL must start with http:// or https://",
        "/source_add rss http://[x KZ": "That is not a URL I can fetch: “http://[x”.",
        "/source_add rss https://x.example/feed Atlantis": "I don't know the country “Atlantis”.",
    }
    for command, reply in refused.items():
        assert await bot.say(ADMIN_ID, command) == reply, command
    # Each refusal is audited with what the admin was told, and no source was added.
    with session_scope(bot.engine) as session:
        assert [(s.kind, s.url, s.country) for s in sources.every(session)] == there
        details = session.exec(
            select(AuditEntry.detail)
            .where(AuditEntry.action == "source_add", AuditEntry.outcome == "refused")
            .order_by(col(AuditEntry.id))
        ).all()
    reasons = [json.loads(detail)["reason"] for detail in details]
    assert reasons == ["role staff", *refused.values()]
    added = await bot.say(ADMIN_ID, "/source_add rss https://x.example/feed Kazakhstan")
    assert "Added source #" in added
    assert "already there" in await bot.say(ADMIN_ID, "/source_add rss https://x.example/feed KZ")
    listing = await bot.say(ADMIN_ID, "/sources")
    assert "travel.state.gov" in listing  # there by default
    assert "rss https://x.example/feed [KZ]" in listing
    source_id = added.split("#")[1].split(".")[0]
    assert f"Removed source #{source_id}" in await bot.say(ADMIN_ID, f"/source_remove {source_id}")
    assert "There is no source" in await bot.say(ADMIN_ID, f"/source_remove {source_id}")


async def test_each_source_gets_its_own_named_polling_job(bot: RunningBot) -> None:
    bot.services.settings.feeds_enabled = True
    _add_source(bot, "https://x.example/a.xml", kind="rss", country="KZ")
    feeds.plan_source_polls(bot.application)
    assert bot.application.job_queue is not None
    names = {job.name for job in bot.application.job_queue.jobs()}
    with session_scope(bot.engine) as session:
        ids = [s.id for s in sources.every(session)]
    assert {f"poll:{i}" for i in ids} <= names


def _global_feed(*entries: tuple[str, str, str]) -> bytes:
    """GOV.UK's global travel advice feed: (slug, updated, change description) each."""
    page = "https://www.gov.uk/foreign-travel-advice"
    body = "".join(
        f"<entry><id>{page}/{slug}#{updated}</id><updated>{updated}</updated>"
        f'<link rel="alternate" type="text/html" href="{page}/{slug}"/>'
        f"<title>{slug.title()}</title><summary>{summary}</summary></entry>"
        for slug, updated, summary in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{page}.atom</id><title>Foreign travel advice</title>"
        f"<updated>2025-10-08T10:00:00Z</updated>{body}</feed>"
    ).encode()


async def test_the_global_gov_uk_feed_reaches_each_country_s_people(
    bot: RunningBot, feeds_server: FeedServer
) -> None:
    il = bot.enrol("Ilan in Haifa", countries=("IL",))
    kz = bot.enrol("Kim in Almaty", countries=("KZ",))
    calm = ("israel", "2025-10-01T09:00:00Z", "Updated information on entry requirements.")
    feeds_server.serve("/ta.atom", _global_feed(calm), content_type="application/atom+xml")
    added = await bot.say(ADMIN_ID, f"/source_add fcdo-global {feeds_server.url('/ta.atom')}")
    source_id = int(added.split("#")[1].split(".")[0])

    assert await feeds.poll_source(bot.services, source_id) == []  # the baseline
    rockets = ("israel", "2025-10-08T09:00:00Z", "Rockets were fired towards Haifa on 8 October.")
    nowhere = ("atlantis", "2025-10-08T08:00:00Z", "Attacks on the coast.")
    feeds_server.serve(
        "/ta.atom", _global_feed(rockets, nowhere, calm), content_type="application/atom+xml"
    )
    (alert_id,) = await feeds.poll_source(bot.services, source_id)
    await bot.fake.await_for(lambda f: len(f.messages_to(il.chat_id)) == 1)
    assert "Rockets were fired towards Haifa" in bot.fake.messages_to(il.chat_id)[0].text
    assert await feeds.poll_source(bot.services, source_id) == []  # seen once, sent once
    (alert,) = _alerts(bot.engine)
    assert (alert.id, alert.kind, alert.country) == (alert_id, "security", "IL")
    assert bot.fake.messages_to(kz.chat_id) == []
