"""GET /healthz: 200 with the report when all is well, 503 when the database is gone or
the outbox is stuck."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.context import Services
from bot.health import HealthServer, assess, serve_health
from bot.settings import BotSettings, ConfigError
from bot.sim.telegram.server import FakeTelegram
from db import deliveries, sources, staff
from db.deliveries import Recipient
from db.engine import make_engine, session_scope
from db.health import OutboxState
from db.models import DeliveryKind, Priority, Role
from tests.harness import MutableClock, RunningBot, free_ports, running_bot


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


@asynccontextmanager
async def health_bot(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> AsyncIterator[tuple[RunningBot, str]]:
    """The running bot (long polling) with /healthz on a free port."""
    (port,) = free_ports(1)
    settings = settings.model_copy(update={"health_port": port})
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        yield bot, f"http://127.0.0.1:{port}/healthz"


def _queue(engine: Engine, *, at: datetime, key: str) -> None:
    with session_scope(engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=6_000_000_001) or staff.enrol(
            session,
            telegram_user_id=6_000_000_001,
            chat_id=6_000_000_001,
            display_name="Sam",
            username=None,
            role=Role.STAFF,
        )
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key=key,
            recipients=[Recipient(staff_id=person.id or 0, chat_id=person.chat_id)],
            parts=["Stay indoors"],
            priority=Priority.NORMAL,
            now=at,
        )


async def test_healthz_reports_sources_and_outbox_while_polling(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    polled_at = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        (feed,) = sources.every(session)
        sources.record_success(session, source=feed, etag=None, last_modified=None, now=polled_at)
    async with health_bot(settings, engine, fake, clock) as (_bot, url):
        _queue(engine, at=clock() + timedelta(hours=1), key="later")  # waiting, not yet due
        response = await _get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    report = response.json()
    assert report["status"] == "ok" and report["problems"] == []
    assert report["mode"] == "polling"
    assert report["database"] == {"reachable": True}
    assert [(s["kind"], s["last_success_at"]) for s in report["sources"]] == [
        ("us-state", polled_at.isoformat())
    ]
    assert report["outbox"]["depth"] == 1
    assert report["outbox"]["oldest_due_waiting_seconds"] is None
    assert report["outbox"]["stuck"] is False
    lag = report["loop_lag"]
    assert set(lag) == {"p50_ms", "p99_ms", "max_ms", "samples"}
    assert 0 <= lag["p50_ms"] <= lag["p99_ms"] <= lag["max_ms"]


async def test_a_stuck_outbox_gives_503_unless_telegram_asked_to_wait(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    async with health_bot(settings, engine, fake, clock) as (bot, url):
        dispatcher = bot.services.dispatcher
        assert dispatcher is not None
        await dispatcher.stop()  # a dispatcher that no longer sends anything
        _queue(engine, at=clock(), key="first")
        _queue(engine, at=clock(), key="second")
        assert (await _get(url)).status_code == 200  # due just now: not stuck yet

        clock.advance(seconds=settings.health_outbox_stuck_seconds + 60)
        response = await _get(url)
        assert response.status_code == 503
        report = response.json()
        assert report["status"] == "failing"
        assert report["outbox"]["stuck"] is True and report["outbox"]["depth"] == 2
        assert report["outbox"]["oldest_due_waiting_seconds"] >= 360
        assert report["problems"][0].startswith("outbox stuck: a message has been due for 36")

        # Waiting out a 429 is not being stuck.
        dispatcher.pacer.pause(120)
        response = await _get(url)
        assert response.status_code == 200
        assert response.json()["outbox"]["paused_by_telegram_seconds"] > 100


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_an_unreachable_database_gives_503(
    kind: str, settings: BotSettings, tmp_path: Path, clock: MutableClock
) -> None:
    (closed_port,) = free_ports(1)  # nothing listens there once the probe socket is closed
    gone = make_engine(
        f"sqlite:///{tmp_path / 'missing-folder' / 'dutybot.sqlite3'}"
        if kind == "sqlite"
        else f"postgresql+psycopg://dutybot@127.0.0.1:{closed_port}/gone?connect_timeout=3"
    )
    (port,) = free_ports(1)
    svc = Services(
        settings=settings.model_copy(update={"health_port": port}), engine=gone, clock=clock
    )
    server = serve_health(svc)
    try:
        response = await _get(f"http://127.0.0.1:{port}/healthz")
    finally:
        await server.stop()
        gone.dispose()
    assert response.status_code == 503
    report = response.json()
    assert report["database"] == {"reachable": False}
    assert report["problems"][0].startswith("database unreachable (OperationalError")
    assert report["sources"] is None and report["outbox"] is None
    # Nothing of the database's address gets into the report.
    assert "missing-folder" not in response.text and str(closed_port) not in response.text


async def test_a_port_in_use_stops_start_up_with_a_clear_message(
    settings: BotSettings, engine: Engine, clock: MutableClock
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        svc = Services(
            settings=settings.model_copy(update={"health_port": port}), engine=engine, clock=clock
        )
        with pytest.raises(ConfigError, match=f"HEALTH_PORT {port} on 127.0.0.1 cannot be used"):
            serve_health(svc)


async def test_the_server_stops_listening_when_stopped() -> None:
    async def probe() -> object:
        raise AssertionError("not called")

    server = HealthServer(probe)  # type: ignore[arg-type]
    server.start(listen="127.0.0.1", port=0)
    port = server.port
    await server.stop()
    with pytest.raises(httpx.ConnectError):
        await _get(f"http://127.0.0.1:{port}/healthz")


NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _outbox(due_since: float | None) -> OutboxState:
    due = None if due_since is None else NOW - timedelta(seconds=due_since)
    return OutboxState(depth=3, oldest_undelivered_at=NOW - timedelta(hours=2), oldest_due_at=due)


@pytest.mark.parametrize(
    ("due_since", "paused_for", "stuck"),
    [
        (None, 0.0, False),  # nothing due (waiting for a retry, or empty)
        (299.0, 0.0, False),
        (301.0, 0.0, True),
        (301.0, 30.0, False),  # Telegram asked the bot to wait
    ],
)
def test_stuck_means_due_for_longer_than_the_threshold_without_a_pause(
    due_since: float | None, paused_for: float, stuck: bool
) -> None:
    report = assess(
        mode="polling",
        now=NOW,
        database_error=None,
        sources=[],
        outbox=_outbox(due_since),
        paused_for=paused_for,
        stuck_after=300,
    )
    assert report.healthy is not stuck
    assert report.body["outbox"]["stuck"] is stuck
    assert report.body["outbox"]["oldest_undelivered_age_seconds"] == 7200.0
