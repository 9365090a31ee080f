"""Hearing from Telegram, in the running Application: getUpdates failing for a while is
ridden out and logged once each way, a 401 marks the token rejected, and /healthz tells
how long ago the bot last heard from Telegram (the process-level cases are in
test_listening_process.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.error import TimedOut

from bot.health import assess, mask_url, mask_urls
from bot.listening import TelegramLink, TelegramRequest, WebhookStatus, build_requests
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import sources
from db.engine import session_scope
from db.models import Role
from tests.bot.test_health import health_bot
from tests.harness import MutableClock, RunningBot, running_bot


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    return settings.model_copy(update={"telegram_retry_max_seconds": 0.2})


def _listening_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.listening"]


@pytest.mark.parametrize(
    ("status", "description"),
    [(502, "Bad Gateway"), (500, "Internal Server Error"), (404, "Not Found")],
)
async def test_getupdates_failing_for_a_while_is_ridden_out_and_logged_once_each_way(
    status: int, description: str, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.listening")
    person = bot.enrol("Sam", countries=("KZ",))
    before = bot.fake.outage_answers
    bot.fake.fail_for("getUpdates", 2.0, status=status, description=description)
    await bot.fake.await_for(lambda f: f.outage_answers >= before + 3)
    bot.fake.inject_message(person.telegram_user_id, "/subscriptions")
    await bot.fake.await_for(lambda f: bool(f.messages_to(person.telegram_user_id)), timeout=30)

    lines = _listening_lines(caplog)
    warnings = [m for level, m in lines if level == logging.WARNING]
    infos = [m for level, m in lines if level == logging.INFO]
    assert warnings == [
        f"not hearing from Telegram: getUpdates failed ({status} {description}); "
        "asking again until it answers"
    ]
    (again,) = infos
    assert again.startswith("hearing from Telegram again after ")
    retries = [m for level, m in lines if level == logging.DEBUG]
    assert len(retries) >= 2  # every other attempt is a DEBUG line
    link = bot.services.link
    assert link is not None
    assert link.failing_since is None and link.heard_by == "getUpdates"
    assert link.silent_for() < 5


async def test_a_getupdates_that_finds_its_own_pool_full_is_not_retried_for_ever(
    fake: FakeTelegram,
) -> None:
    """PTB's last getUpdates at shutdown can find the one connection of its pool still
    held by the long poll it gave up; asking again for ever would hang the shutdown."""
    link = TelegramLink(clock=lambda: datetime.now(UTC), retry_max_seconds=0.2)
    _, get_updates = build_requests(link)
    bot = Bot(FakeTelegram.TOKEN, base_url=fake.base_url, get_updates_request=get_updates)
    fake.slow("getUpdates", 3.0)
    async with bot:
        held = asyncio.create_task(bot.get_updates(timeout=0))
        await fake.await_for(lambda f: any(m == "getUpdates" for m, _ in f.calls), timeout=10)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.get_updates(timeout=0, pool_timeout=0.2)
        await held
    assert link.failing_since is None  # nothing Telegram did


async def test_requests_under_way_at_once_each_find_a_connection_in_the_pools(
    fake: FakeTelegram,
) -> None:
    """Three pools of one connection: three slow sends go out together, where one pool of
    one connection would keep the second waiting past its pool timeout."""
    link = TelegramLink(clock=lambda: datetime.now(UTC), retry_max_seconds=0.2)
    request = TelegramRequest(link, pools=3, connection_pool_size=1)
    bot = Bot(FakeTelegram.TOKEN, base_url=fake.base_url, request=request)
    fake.slow("sendMessage", 2.0, count=3)
    async with bot:
        sends = [
            asyncio.create_task(bot.send_message(100 + n, f"Stay indoors {n}", pool_timeout=0.5))
            for n in range(3)
        ]
        await fake.await_for(lambda f: [m for m, _ in f.calls].count("sendMessage") == 3)
        sent = await asyncio.gather(*sends)
        # Once they are done, one at a time goes through the first pool again.
        await bot.send_message(103, "Curfew at 23:00", pool_timeout=0.5)
    assert sorted(m.text or "" for m in sent) == [f"Stay indoors {n}" for n in range(3)]
    assert [m.text for m in fake.messages_to(103)] == ["Curfew at 23:00"]


async def test_a_401_marks_the_token_rejected_and_is_never_mistaken_for_a_404(
    bot: RunningBot,
) -> None:
    link = bot.services.link
    assert link is not None and not link.rejected
    bot.fake.fail_next("getUpdates", status=404, description="Not Found")
    await bot.fake.await_for(lambda f: link.failing_since is not None)
    assert not link.rejected
    bot.fake.revoke_token()
    await bot.fake.await_for(lambda f: link.rejected, timeout=30)
    assert link.last_error == "401 Unauthorized: the token was rejected"


async def test_healthz_answers_503_while_the_bot_hears_nothing_and_200_after(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    # Over the simulated Telegram's longest long poll (1 s), under the outage.
    settings = settings.model_copy(update={"health_telegram_silence_seconds": 2.5})
    async with (
        health_bot(settings, engine, fake, clock) as (_bot, url),
        httpx.AsyncClient(timeout=10) as client,
    ):
        assert (await client.get(url)).status_code == 200
        fake.fail_for("getUpdates", 6.0, status=502, description="Bad Gateway")
        seen: list[httpx.Response] = []

        async def status_is(code: int) -> bool:
            seen.append(await client.get(url))
            return seen[-1].status_code == code

        # Waits for the outcome: /healthz asked until it says so.
        while not await status_is(503):
            await fake.await_for(lambda f: True)
        report = seen[-1].json()
        assert report["status"] == "failing"
        assert report["problems"][0].startswith("not heard from Telegram for ")
        assert report["problems"][0].endswith("(last error: getUpdates: 502 Bad Gateway)")
        assert report["telegram"]["silent_after_seconds"] == 2.5
        assert report["telegram"]["failing_since"] is not None
        assert fake.in_outage("getUpdates")
        while not await status_is(200):
            await fake.await_for(lambda f: True)
        assert not fake.in_outage("getUpdates")
        assert seen[-1].json()["telegram"]["heard_by"] == "getUpdates"
        assert seen[-1].json()["telegram"]["failing_since"] is None


NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _assess(link: TelegramLink, mode: str = "polling") -> dict[str, object]:
    report = assess(
        mode=mode,
        now=NOW,
        database_error=None,
        sources=[],
        outbox=None,
        paused_for=0.0,
        stuck_after=300,
        link=link,
        silence_after=90,
    )
    assert report.healthy is (report.body["problems"] == [])
    return report.body


@pytest.mark.parametrize(("silent", "healthy"), [(89.0, True), (91.0, False)])
def test_silent_for_longer_than_the_threshold_is_unhealthy(silent: float, healthy: bool) -> None:
    clock = MutableClock()
    link = TelegramLink(clock=clock, retry_max_seconds=30)
    link.heard("getUpdates")
    clock.advance(seconds=silent)
    body = _assess(link)
    assert (body["problems"] == []) is healthy
    telegram = body["telegram"]
    assert isinstance(telegram, dict) and telegram["silent_seconds"] >= silent


def test_never_heard_counts_from_start_up_and_webhook_mode_reports_getwebhookinfo() -> None:
    clock = MutableClock()
    link = TelegramLink(clock=clock, retry_max_seconds=30)
    assert _assess(link, "webhook")["problems"] == []
    clock.advance(seconds=120)
    body = _assess(link, "webhook")
    assert body["problems"] == ["not heard from Telegram for 120 s"]
    telegram = body["telegram"]
    assert isinstance(telegram, dict) and telegram["webhook"] is None

    error_at = datetime(2024, 3, 1, 11, 58, tzinfo=UTC)
    link.heard("getWebhookInfo")
    checked_at = clock()
    link.webhook = WebhookStatus(
        checked_at=checked_at,
        pending_update_count=7,
        last_error_date=error_at,
        last_error_message="Wrong response from the webhook: 502 Bad Gateway",
    )
    body = _assess(link, "webhook")
    assert body["problems"] == []
    telegram = body["telegram"]
    assert isinstance(telegram, dict)
    assert telegram["webhook"] == {
        "checked_at": checked_at.isoformat(),
        "pending_update_count": 7,
        "last_error_date": error_at.isoformat(),
        "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://travel.state.gov/_res/rss/TAsTWs.xml", "https://travel.state.gov/_res/rss/TAsTWs.xml"),
        ("https://user:pa55@feeds.example.org:8443/a.xml", "https://[redacted]@feeds.example.org:8443/a.xml"),
        ("https://feeds.example.org/a.xml?key=abc&x=1", "https://feeds.example.org/a.xml?[redacted]"),
        ("https://t0ken@feeds.example.org/a?k=v#top", "https://[redacted]@feeds.example.org/a?[redacted]"),
    ],
)  # fmt: skip
def test_feed_urls_lose_their_credentials(url: str, shown: str) -> None:
    assert mask_url(url) == shown


async def test_healthz_shows_no_credentials_of_feeds(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    url = "https://reader:hunter22@feeds.example.org/kz.xml?api_key=s3cr3tkey"
    with session_scope(engine) as session:
        added = sources.add(session, kind="rss", url=url, country="KZ")
        assert added is not None
        sources.record_failure(session, source=added, error=f"HTTP 500 from {url}", now=clock())
    async with (
        health_bot(settings, engine, fake, clock) as (_bot, healthz),
        httpx.AsyncClient(timeout=10) as client,
    ):
        response = await client.get(healthz)
    for secret in ("reader", "hunter22", "api_key", "s3cr3tkey"):
        assert secret not in response.text
    shown = [s for s in response.json()["sources"] if s["kind"] == "rss"]
    assert shown == [
        {
            **shown[0],
            "url": "https://[redacted]@feeds.example.org/kz.xml?[redacted]",
            "last_error": "HTTP 500 from https://[redacted]@feeds.example.org/kz.xml?[redacted]",
        }
    ]
    assert mask_urls(None) is None


async def test_the_bot_answers_after_telegram_comes_back_from_a_404_at_once(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    # getMe answering 404 at start-up: the bot waits for Telegram instead of crashing.
    fake.fail_next("getMe", status=404, description="Not Found", count=2)
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        admin = bot.enrol("Ada", role=Role.ADMIN)
        reply = await bot.say(admin.telegram_user_id, "/help")
    assert "/invite" in reply
    assert [m for m, _ in fake.calls[:3]] == ["getMe", "getMe", "getMe"]
