"""The engine, the schema and the unit-of-work session scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from db import checkins, leads, models  # noqa: F401  # registers the tables on SQLModel.metadata


def make_engine(url: str) -> Engine:
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
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def create_schema(engine: Engine) -> None:
    """The newest schema in one step, for a new throw-away database (tests, benchmarks).

    The models' tables, the default source, and the newest revision stamped, which is what
    running every migration gives (tests/db/test_migrations.py checks that). A database
    that already has tables is upgraded by the migrations instead. Deployments always go
    through `db.migrations.upgrade` (`dutybot db upgrade`, `dutybot run`).
    """
    from db import migrations, sources

    if sources.schema_has_sources(engine):
        migrations.upgrade(engine)
        return
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
        migrations.stamp_head(connection)
    with session_scope(engine) as session:
        sources.seed_defaults(session)


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
