"""The engine and the unit-of-work session scope."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from db import checkins, incidents, leads, models  # noqa: F401  # registers the tables on SQLModel.metadata

# How long one statement (or connecting) may take on PostgreSQL before the bot gives up
# on it and treats the database as unavailable.
DATABASE_TIMEOUT_SECONDS = 5.0


def make_engine(url: str, *, timeout: float = DATABASE_TIMEOUT_SECONDS) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers carry on while the dispatcher writes; NORMAL is durable
            # across process crashes, which is what the outbox needs.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return _postgres_engine(url, timeout)


def _postgres_engine(url: str, timeout: float) -> Engine:
    """PostgreSQL, with a limit on every wait, so a host that stops answering (rather
    than refusing) costs the bot a few seconds per attempt instead of freezing it.

    - connect_timeout: connecting to a host that does not answer;
    - statement_timeout: a server that answers but is stuck (on a lock, say);
    - keepalives and tcp_user_timeout: a host that vanished from the network;
    - _Deadlines: a reply that never comes on a connection that looks alive (a frozen
      server, a half-dead proxy): nothing in libpq times that out;
    - _Breaker: once the database has been slow to fail (a timeout, a cut), the bot's
      next attempts fail at once instead of each waiting out its own timeout on the
      event loop, while a thread of its own tries the database until it answers again.
      A database that refuses at once (stopped, restarting) needs no breaker.
    """
    seconds = max(2, round(timeout))  # libpq counts whole seconds, at least 2
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": seconds,
            "options": f"-c statement_timeout={seconds * 1000}",
            "keepalives": 1,
            "keepalives_idle": seconds,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": seconds * 1000,
        },
    )
    breaker = _Breaker(engine)
    # The server's own statement_timeout comes first; a cut means the host is not answering.
    deadlines = _Deadlines(timeout + 1.0, on_cut=breaker.trip)

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        breaker.refuse_while_open()
        try:
            return dialect.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            breaker.trip()  # slow to fail: the next attempts should not wait as well
            raise

    @event.listens_for(engine, "before_cursor_execute")
    def _watch_statement(conn: Any, *_args: Any) -> None:
        deadlines.watch(conn.connection.dbapi_connection)

    @event.listens_for(engine, "after_cursor_execute")
    def _statement_done(conn: Any, *_args: Any) -> None:
        deadlines.release(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _statement_failed(context: Any) -> None:
        if context.connection is not None and not context.connection.invalidated:
            deadlines.release(context.connection.connection.dbapi_connection)

    @event.listens_for(engine, "commit")
    def _watch_commit(conn: Any) -> None:
        deadlines.watch(conn.connection.dbapi_connection)  # released when checked in

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # pool_pre_ping's own ping has no deadline; this one does. A connection that does
        # not answer is replaced (the pool tries a new one), as pool_pre_ping would do.
        breaker.refuse_while_open()
        deadlines.watch(dbapi_connection)
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error
        finally:
            deadlines.release(dbapi_connection)

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            deadlines.release(dbapi_connection)

    return engine


class _Breaker:
    """Open (refusing at once) from a failure until a probe finds the database answering.

    The probe runs in its own thread and waits out the timeouts there, so that during an
    outage the bot's own attempts cost nothing: no thread of the bot, and above all not
    its event loop, sits in a connection attempt that cannot succeed.
    """

    PROBE_INTERVAL_SECONDS = 1.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._open = threading.Event()
        self._probe: threading.Thread | None = None
        self._lock = threading.Lock()

    def refuse_while_open(self) -> None:
        if self._open.is_set() and threading.current_thread() is not self._probe:
            raise psycopg.OperationalError(
                "the database has not been answering; the bot tries it again in the background"
            )

    def trip(self) -> None:
        with self._lock:
            if self._open.is_set():
                return
            self._open.set()
            self._probe = threading.Thread(target=self._try_until_answered, daemon=True)
            self._probe.start()

    def _try_until_answered(self) -> None:
        while True:
            try:
                connection = self._engine.raw_connection()
                try:
                    cursor = connection.cursor()
                    cursor.execute("SELECT 1")
                    cursor.close()
                finally:
                    connection.close()
            except Exception:
                time.sleep(self.PROBE_INTERVAL_SECONDS)
                continue
            with self._lock:
                self._open.clear()
                self._probe = None
            return


class _Deadlines:
    """Cuts the connection of a statement that has waited past its deadline.

    Shutting the socket down ends libpq's wait at once: the statement fails with an
    OperationalError ("server closed the connection"), SQLAlchemy drops the connection,
    and the bot treats the database as unavailable until it answers again.
    """

    def __init__(self, seconds: float, *, on_cut: Callable[[], None]) -> None:
        self.seconds = seconds
        self.on_cut = on_cut
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[float, int]] = {}  # id(connection) -> (deadline, fd)
        self._thread: threading.Thread | None = None

    def watch(self, connection: Any) -> None:
        try:
            fd = connection.fileno()
        except Exception:
            return  # already closed: nothing to wait on
        with self._lock:
            self._watched[id(connection)] = (time.monotonic() + self.seconds, fd)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="database-deadlines", daemon=True
                )
                self._thread.start()

    def release(self, connection: Any) -> None:
        with self._lock:
            self._watched.pop(id(connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self._lock:
                late = [key for key, (deadline, _fd) in self._watched.items() if deadline <= now]
                for key in late:
                    _deadline, fd = self._watched.pop(key)
                    _shut_down(fd)
            if late:
                self.on_cut()


def _shut_down(fd: int) -> None:
    # Under the lock: the connection is still watched, so its fd is still its socket.
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()  # the fd stays libpq's to close


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
