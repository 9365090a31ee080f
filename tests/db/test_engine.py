"""PostgreSQL through a host that falls silent: every wait ends, and the engine works again
once the host answers. SQLite has no host; these run against TEST_DATABASE_URL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.sim.silent import SilentHost
from db.engine import make_engine

# Without the limits a silent host holds a query for as long as TCP keeps the connection:
# many minutes. With them, seconds; this bound only tells a freeze from an answer.
FROZEN_AFTER_SECONDS = 60.0


@pytest.fixture
def silent_host(engine: Engine) -> Iterator[tuple[SilentHost, Engine]]:
    if engine.dialect.name != "postgresql":
        pytest.skip("a database host to fall silent needs PostgreSQL (TEST_DATABASE_URL)")
    url = engine.url
    with SilentHost((url.host or "127.0.0.1", url.port or 5432)) as host:
        relayed = make_engine(host.relayed(url), timeout=2)
        yield host, relayed
        relayed.dispose()


def _outcome(action: Callable[[], object]) -> BaseException | None:
    """Run `action` in a thread; what it raised, None when it returned. Fails on a freeze."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            action()
            result.append(None)
        except BaseException as error:  # the test looks at what it was
            result.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(FROZEN_AFTER_SECONDS)
    assert result, f"still waiting after {FROZEN_AFTER_SECONDS:.0f} s: frozen"
    return result[0]


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_silent_host_fails_new_and_open_connections_then_serves_again(
    silent_host: tuple[SilentHost, Engine],
) -> None:
    host, engine = silent_host
    _select_one(engine)  # a pooled connection, open when the host falls silent
    with engine.connect() as open_connection:
        assert open_connection.execute(text("SELECT 2")).scalar() == 2
        host.silence()
        # A statement on a connection that looked alive: cut at its deadline.
        midway = _outcome(lambda: open_connection.execute(text("SELECT 3")))
        assert isinstance(midway, OperationalError), midway
    # A connection from the pool (its ping fails) and then a new one (connecting fails).
    assert isinstance(_outcome(lambda: _select_one(engine)), OperationalError)
    host.speak()
    # Until the engine's own probe finds the host answering (about a second), attempts
    # still fail at once; then they are served.
    assert _outcome(lambda: _until_served(engine)) is None


def _until_served(engine: Engine) -> None:
    while True:
        try:
            _select_one(engine)
            return
        except OperationalError:
            time.sleep(0.1)
