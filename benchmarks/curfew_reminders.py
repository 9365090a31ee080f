"""Curfew reminder precision: 1,000 staff, Telegram's limits on, scheduled vs sent.

    .venv/bin/python -m benchmarks.curfew_reminders

Runs the real Application against the fake Bot API (30 messages/s in total, 1/s per
chat), sets a curfew in Almaty whose 60-minute reminder falls due within about a minute,
and waits for the scheduler to fire it. Prints how long after its scheduled time the
first, median, 95th-percentile and last reminder reached the fake Telegram.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.settings import BotSettings
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from db import curfews, staff, subscriptions
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from db.models import CurfewStatus, Role
from schedules import zones
from tests.harness import MutableClock, running_bot

PEOPLE = 1000
ZONE = "Asia/Almaty"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder, FakeTelegram(rate_limits=RateLimits()) as fake:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        create_schema(engine)
        now = datetime.now(UTC)
        # The first whole local minute at least 61 minutes away: its reminder is due soon.
        start_local = zones.utc_to_local(ZONE, now + timedelta(minutes=61, seconds=10))
        start_local = start_local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end_local = start_local + timedelta(hours=8)
        with session_scope(engine) as session:
            for n in range(PEOPLE):
                person = staff.enrol(
                    session,
                    telegram_user_id=8_000_000_000 + n,
                    chat_id=8_000_000_000 + n,
                    display_name=f"Staff {n}",
                    username=None,
                    role=Role.STAFF,
                )
                subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")
            curfews.create(
                session,
                country="KZ",
                area="Almaty",
                zone=ZONE,
                start=f"{start_local:%H:%M}",
                end=f"{end_local:%H:%M}",
                first_day=start_local.date(),
                last_day=None,
                status=CurfewStatus.ACTIVE,
                now=now,
            )
        scheduled = zones.local_to_utc(ZONE, start_local.date(), start_local.time()).utc
        scheduled -= timedelta(minutes=60)
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token=FakeTelegram.TOKEN,
            telegram_base_url=fake.base_url,
            database_url=str(engine.url),
            feeds_enabled=False,
            health_port=0,
        )
        print(f"{PEOPLE} staff; reminder scheduled at {scheduled:%H:%M:%S} UTC; waiting…")
        async with running_bot(settings, engine=engine, fake=fake, clock=MutableClock()):
            await fake.await_for(
                lambda f: sum("starts in" in m.text for m in f.sent) >= PEOPLE,
                timeout=(scheduled - datetime.now(UTC)).total_seconds() + 120,
            )
        # The fake stamps messages with the monotonic clock; map them to wall time.
        offset = datetime.now(UTC) - timedelta(seconds=time.monotonic())
        delays = sorted(
            ((offset + timedelta(seconds=m.at)) - scheduled).total_seconds()
            for m in fake.sent
            if "starts in" in m.text
        )
        median = statistics.median(delays)
        print(
            f"sent vs scheduled: first +{delays[0]:.2f} s, median +{median:.2f} s, "
            f"p95 +{delays[int(len(delays) * 0.95)]:.2f} s, last +{delays[-1]:.2f} s"
        )
        rate = (len(delays) - 1) / (delays[-1] - delays[0])
        print(f"delivery rate {rate:.1f} msg/s; 429s from the fake: {fake.too_many_requests}")
        print(f"machine: {os.cpu_count()} CPUs")
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
