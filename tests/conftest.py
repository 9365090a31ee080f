"""Shared fixtures: a database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the fake
Telegram Bot API on loopback, and the real Application running against both."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db.engine import make_engine
from db.migrations import create_schema
from tests.harness import ADMIN_ID, MutableClock, RunningBot, running_bot
from tests.mutate import MUTANT_WAIT_SECONDS, tests_of

# Property tests: the same examples on every run (CI must not pass or fail by luck), no
# per-example deadline (the machine is shared), nothing written to the working tree.
# HYPOTHESIS_PROFILE=explore searches afresh with random seeds.
hypothesis.settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, print_blob=True
)
hypothesis.settings.register_profile("explore", deadline=None, database=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- under `make mutate` -----------------------------------------------------------------
if "MUTANT_UNDER_TEST" in os.environ:
    # A mutant that stops a reply would otherwise hold its test for the whole bound.
    # mutmut's stats run, every test under the same bound, shows it is enough for the
    # unmutated code.
    FakeTelegram.WAIT_SECONDS = MUTANT_WAIT_SECONDS


@cache
def _durations() -> dict[str, float]:
    """How long each test took in mutmut's stats run (it runs tests from mutants/)."""
    try:
        stats = json.loads(Path("mutmut-stats.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in stats.get("duration_by_test", {}).items()}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut, run only the tests about the mutant's module (tests/mutate.py), fastest
    first: the first failure ends the run, and a mutant most tests catch should not wait
    on the slow ones. mutmut's own runs (stats, clean) run the tests of any mutant."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    allowed = tests_of(os.environ["MUTANT_UNDER_TEST"])
    if allowed is not None:
        left_out = [item for item in items if not item.nodeid.startswith(allowed)]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if item.nodeid.startswith(allowed)]
    durations = _durations()
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'dutybot.sqlite3'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name != "sqlite":
        # A shared server database: start every test from empty tables.
        SQLModel.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    """The test database with nothing in it: no tables, no migration history."""
    empty = make_engine(database_url)
    everything = MetaData()
    everything.reflect(empty)
    everything.drop_all(empty)
    yield empty
    everything = MetaData()
    everything.reflect(empty)
    everything.drop_all(empty)
    empty.dispose()


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def settings(request: pytest.FixtureRequest, fake: FakeTelegram, database_url: str) -> BotSettings:
    # Telegram allows one message a second to a chat, and tests marked `telegram_chat_limit`
    # hold the bot to it; elsewhere a person's messages follow each other quickly, so that
    # no test waits out a second for each one.
    per_chat = 1.0 if request.node.get_closest_marker("telegram_chat_limit") else 20.0
    return BotSettings(
        _env_file=None,
        telegram_bot_token=FakeTelegram.TOKEN,
        telegram_base_url=fake.base_url,
        database_url=database_url,
        admin_telegram_ids=[ADMIN_ID],
        # Tests never reach the real feeds; feed tests add local sources themselves.
        feeds_enabled=False,
        health_port=0,  # tests that want /healthz pick a free port themselves
        send_rate_per_chat_per_second=per_chat,
    )


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
async def bot(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> AsyncIterator[RunningBot]:
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as running:
        yield running
