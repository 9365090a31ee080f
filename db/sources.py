"""Feed sources, what each has shown so far, and the alerts made from their news."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, inspect, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import Alert, AlertKind, AlertStatus, Priority, SeenItem, Source

STATE_DEPARTMENT_FEED = "https://travel.state.gov/_res/rss/TAsTWs.xml"
FAILURE_REPORT_AFTER = timedelta(hours=1)

# How urgent each kind of feed alert is in the outbox.
KIND_PRIORITY = {
    "departure": Priority.CRITICAL,
    "curfew": Priority.HIGH,
    "security": Priority.NORMAL,
    "advisory": Priority.ROUTINE,
}


def schema_has_sources(engine: Engine) -> bool:
    return inspect(engine).has_table(Source.__tablename__)  # type: ignore[arg-type]


def seed_defaults(session: Session) -> None:
    """A new database starts with the State Department's feed."""
    session.add(Source(kind="us-state", url=STATE_DEPARTMENT_FEED))


def add(
    session: Session, *, kind: str, url: str, country: str | None, interval_minutes: int = 10
) -> Source | None:
    """A new source; None when the same kind and URL is already there."""
    existing = session.exec(select(Source).where(Source.kind == kind, Source.url == url)).first()
    if existing is not None:
        return None
    source = Source(kind=kind, url=url, country=country, interval_minutes=interval_minutes)
    session.add(source)
    session.flush()
    return source


def remove(session: Session, *, source_id: int) -> Source | None:
    source = session.get(Source, source_id)
    if source is None:
        return None
    session.execute(delete(SeenItem).where(col(SeenItem.source_id) == source_id))
    # Its alerts stay in the history, no longer tied to a source that is gone.
    session.execute(update(Alert).where(col(Alert.source_id) == source_id).values(source_id=None))
    session.delete(source)
    return source


def every(session: Session) -> Sequence[Source]:
    return session.exec(select(Source).order_by(col(Source.id))).all()


def seen(session: Session, *, source_id: int) -> dict[str, tuple[int | None, str]]:
    rows = session.exec(select(SeenItem).where(SeenItem.source_id == source_id)).all()
    return {row.key: (row.level, row.fingerprint) for row in rows}


class Shown(NamedTuple):
    """An item as a source showed it: what change detection compares, and whose it is."""

    key: str
    level: int | None
    fingerprint: str
    country: str | None = None
    published: datetime | None = None


def remember(
    session: Session,
    *,
    source_id: int,
    items: Iterable[Shown],
    now: datetime,
) -> None:
    """Store the latest (key, level, fingerprint) of each item shown, with its country
    and publication time.

    A key given twice (a feed that repeats a guid) keeps its first item, the one change
    detection judged; the second would be news again on every poll.
    """
    current = {
        row.key: row
        for row in session.exec(select(SeenItem).where(SeenItem.source_id == source_id)).all()
    }
    stored: set[str] = set()
    for item in items:
        if item.key in stored:
            continue
        stored.add(item.key)
        row = current.get(item.key)
        if row is None:
            row = SeenItem(source_id=source_id, key=item.key, fingerprint=item.fingerprint)
        elif (row.level, row.fingerprint, row.country, row.published_at) == (
            item.level,
            item.fingerprint,
            item.country,
            item.published,
        ):
            continue
        row.level, row.fingerprint, row.updated_at = item.level, item.fingerprint, now
        row.country, row.published_at = item.country, item.published
        session.add(row)


def record_success(
    session: Session,
    *,
    source: Source,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
) -> None:
    source.etag = etag or source.etag
    source.last_modified = last_modified or source.last_modified
    source.last_polled_at = now
    source.last_success_at = now
    source.last_error = None
    source.failing_since = None
    source.consecutive_failures = 0
    source.failure_reported = False
    session.add(source)


def record_failure(session: Session, *, source: Source, error: str, now: datetime) -> bool:
    """Note a failed poll; True exactly once, when the source has failed for an hour."""
    source.last_polled_at = now
    source.last_error = error[:500]
    source.failing_since = source.failing_since or now
    source.consecutive_failures += 1
    report = not source.failure_reported and now - source.failing_since >= FAILURE_REPORT_AFTER
    if report:
        source.failure_reported = True
    session.add(source)
    return report


def create_feed_alert(
    session: Session,
    *,
    source_id: int,
    kind: str,
    country: str | None,
    title: str,
    summary: str,
    link: str,
    level: int | None,
    previous_level: int | None,
    departure: bool,
    curfew_text: str | None,
    item_key: str,
    fingerprint: str,
    published_at: datetime | None,
    now: datetime,
) -> Alert:
    alert = Alert(
        kind=kind,
        status=AlertStatus.SENT.value,
        priority=KIND_PRIORITY.get(kind, Priority.NORMAL),
        country=country,
        title=title[:500],
        body=summary,
        link=link[:1000] or None,
        level=level,
        previous_level=previous_level,
        departure=departure,
        curfew_text=curfew_text,
        source_id=source_id,
        item_key=item_key[:500],
        fingerprint=fingerprint,
        published_at=published_at,
        created_at=now,
        sent_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def recent_alerts(session: Session, *, country: str, count: int = 3) -> list[Alert]:
    """The country's latest alerts sent to its people, newest first (routine advisory
    updates left out): what a traveller's briefing lists."""
    return list(
        session.exec(
            select(Alert)
            .where(
                Alert.country == country,
                col(Alert.kind).in_([k.value for k in AlertKind if k is not AlertKind.ADVISORY]),
                col(Alert.sent_at).is_not(None),
            )
            .order_by(col(Alert.sent_at).desc())
            .limit(count)
        ).all()
    )
