"""What polling costs: parse a 211-item State Department feed, and one whole poll per source.

    .venv/bin/python -m benchmarks.feeds

Prints the median of several runs for: parsing alone; a full poll of an unchanged
211-item feed over loopback HTTP (fetch, parse, change detection, database); and a poll
answered 304 Not Modified. Beside each poll, the event loop's lag while it ran (a 10 ms
timer, bot.looplag): what the poll costs every message in flight.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.context import Services
from bot.feeds import poll_source
from bot.looplag import LoopLag
from bot.settings import BotSettings
from bot.sim.feed_samples import StateItem, state_feed
from bot.sim.feeds import feed_server
from db import sources
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from schedules.sources.base import SourceKind
from schedules.sources.parse import parse_feed

COUNTRIES = [
    ("Kazakhstan", "KZ"), ("Georgia", "GG"), ("Kenya", "KE"), ("Peru", "PE"), ("Nepal", "NP"),
]  # fmt: skip


def big_feed(n: int = 211) -> bytes:
    items = []
    for i in range(n):
        name, tag = COUNTRIES[i % len(COUNTRIES)]
        items.append(
            StateItem(
                title=f"{name} - Level {1 + i % 4}: Exercise Increased Caution",
                description="<p>"
                + "Exercise increased caution due to crime and unrest. " * 30
                + f"Item {i}.</p>",
                tag=tag,
                slug=f"{name.lower()}-{i}",
            )
        )
    return state_feed(*items)


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


async def main() -> None:
    body = big_feed()
    now = datetime.now(UTC)
    parse_times = []
    for _ in range(5):
        started = time.perf_counter()
        items = parse_feed(
            SourceKind.US_STATE, body, url="https://example.org/ta.xml", fetched_at=now
        )
        parse_times.append(time.perf_counter() - started)
    print(
        f"parse a {len(items)}-item State Department feed ({len(body) / 1024:.0f} KiB): "
        f"{median_ms(parse_times)}"
    )

    with tempfile.TemporaryDirectory() as folder, feed_server() as server:
        server.serve("/full.xml", body)
        server.serve("/cached.xml", body, etag='"v1"')
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        create_schema(engine)
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token="7000000001:AAFakeTokenForTestsOnly_abcdefghijklmno",
            database_url=str(engine.url),
        )
        async with httpx.AsyncClient() as client:
            svc = Services(settings=settings, engine=engine, http=client)
            with session_scope(engine) as session:
                full = sources.add(
                    session, kind="us-state", url=server.url("/full.xml"), country=None
                )
                cached = sources.add(
                    session, kind="us-state", url=server.url("/cached.xml"), country=None
                )
                assert full and cached and full.id and cached.id
                full_id, cached_id = full.id, cached.id
            for label, source_id in (
                ("unchanged 211-item feed, full body", full_id),
                ("answered 304 Not Modified", cached_id),
            ):
                await poll_source(svc, source_id)  # the baseline
                times = []
                lag = LoopLag(interval=0.01)
                lag.start()
                for _ in range(5):
                    started = time.perf_counter()
                    await poll_source(svc, source_id)
                    times.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)  # the timer held by the last poll fires
                summary = lag.summary()
                await lag.stop()
                print(
                    f"one poll, {label}: {median_ms(times)}; loop lag meanwhile: "
                    f"p50 {summary.p50_ms:.1f} ms, p99 {summary.p99_ms:.1f} ms, "
                    f"max {summary.max_ms:.0f} ms"
                )
        engine.dispose()
    print(f"machine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    asyncio.run(main())
