"""Feed sources on the real database: adding and removing them, what each has shown,
success and failure bookkeeping, and the alerts made from their news (`db/sources.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from db import cards, sources
from db.engine import session_scope
from db.models import Alert, Priority, SeenItem, Source
from db.sources import Shown

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _add(
    engine: Engine, url: str = "https://kz.usembassy.gov/feed/", country: str | None = "KZ"
) -> int:
    with session_scope(engine) as session:
        source = sources.add(session, kind="us-embassy", url=url, country=country)
        assert source is not None and source.id is not None
        return source.id


def _source(engine: Engine, source_id: int) -> Source:
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        return source


def _alert(engine: Engine, source_id: int, **overrides: object) -> Alert:
    fields: dict[str, object] = {
        "source_id": source_id,
        "kind": "security",
        "country": "KZ",
        "title": "Demonstration in Almaty",
        "summary": "Avoid Republic Square.",
        "link": "https://kz.usembassy.gov/alert-1/",
        "level": None,
        "previous_level": None,
        "departure": False,
        "curfew_text": None,
        "item_key": "alert-1",
        "fingerprint": "f" * 64,
        "published_at": NOW - timedelta(hours=2),
        "now": NOW,
    } | overrides
    with session_scope(engine) as session:
        return sources.create_feed_alert(session, **fields)  # type: ignore[arg-type]


def test_a_new_database_has_the_state_department_feed_and_nothing_else(engine: Engine) -> None:
    assert sources.schema_has_sources(engine) is True
    with session_scope(engine) as session:
        listed = [(s.kind, s.url, s.country, s.interval_minutes) for s in sources.every(session)]
    assert listed == [("us-state", "https://travel.state.gov/_res/rss/TAsTWs.xml", None, 10)]


def test_an_empty_database_has_no_sources_table(empty_engine: Engine) -> None:
    assert sources.schema_has_sources(empty_engine) is False


def test_a_source_is_added_once_per_kind_and_url(engine: Engine) -> None:
    with session_scope(engine) as session:
        added = sources.add(
            session, kind="rss", url="https://example.org/feed", country="GE", interval_minutes=30
        )
        assert added is not None
        assert (added.kind, added.url, added.country, added.interval_minutes) == (
            "rss",
            "https://example.org/feed",
            "GE",
            30,
        )
        assert (
            sources.add(session, kind="rss", url="https://example.org/feed", country=None) is None
        )
        other_kind = sources.add(session, kind="fcdo", url="https://example.org/feed", country=None)
        assert other_kind is not None and other_kind.interval_minutes == 10
        assert [s.id for s in sources.every(session)] == [1, added.id, other_kind.id]


def test_removing_a_source_forgets_what_it_showed_and_leaves_others_alone(engine: Engine) -> None:
    first, second = _add(engine, "https://a.example/feed"), _add(engine, "https://b.example/feed")
    with session_scope(engine) as session:
        sources.remember(session, source_id=first, items=[Shown("k1", 1, "fp1")], now=NOW)
        sources.remember(session, source_id=second, items=[Shown("k1", 2, "fp2")], now=NOW)
    with session_scope(engine) as session:
        removed = sources.remove(session, source_id=first)
        assert removed is not None and removed.url == "https://a.example/feed"
        assert sources.remove(session, source_id=10**6) is None
    with session_scope(engine) as session:
        assert [s.id for s in sources.every(session)] == [1, second]
        assert sources.seen(session, source_id=first) == {}
        assert sources.seen(session, source_id=second) == {"k1": (2, "fp2")}


def test_a_source_that_has_raised_alerts_can_be_removed_and_its_alerts_stay(
    engine: Engine,
) -> None:
    source_id = _add(engine)
    alert = _alert(engine, source_id)
    with session_scope(engine) as session:
        assert sources.remove(session, source_id=source_id) is not None
    with session_scope(engine) as session:
        assert session.get(Source, source_id) is None
        kept = session.get(Alert, alert.id)
        assert kept is not None
        assert (kept.title, kept.source_id) == ("Demonstration in Almaty", None)


def test_what_a_source_showed_is_remembered_and_updated_only_when_changed(
    engine: Engine,
) -> None:
    source_id = _add(engine)
    with session_scope(engine) as session:
        assert sources.seen(session, source_id=source_id) == {}
        sources.remember(
            session,
            source_id=source_id,
            items=[Shown("a", 2, "fa"), Shown("b", None, "fb")],
            now=NOW,
        )
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        sources.remember(
            session,
            source_id=source_id,
            items=[Shown("a", 3, "fa"), Shown("b", None, "fb"), Shown("c", 1, "fc")],
            now=later,
        )
    with session_scope(engine) as session:
        assert sources.seen(session, source_id=source_id) == {
            "a": (3, "fa"),
            "b": (None, "fb"),
            "c": (1, "fc"),
        }
        stamps = {
            row.key: row.updated_at
            for row in session.exec(select(SeenItem).where(SeenItem.source_id == source_id))
        }
        assert stamps == {"a": later, "b": NOW, "c": later}
    with session_scope(engine) as session:
        sources.remember(session, source_id=source_id, items=[Shown("b", None, "fb2")], now=later)
    with session_scope(engine) as session:
        assert sources.seen(session, source_id=source_id)["b"] == (None, "fb2")
        # An item no longer shown is still remembered.
        assert sources.seen(session, source_id=source_id)["a"] == (3, "fa")


def test_a_key_repeated_in_one_poll_keeps_its_first_item(engine: Engine) -> None:
    source_id = _add(engine)
    with session_scope(engine) as session:
        sources.remember(
            session,
            source_id=source_id,
            items=[Shown("dup", 1, "first"), Shown("dup", 4, "second")],
            now=NOW,
        )
    with session_scope(engine) as session:
        assert sources.seen(session, source_id=source_id) == {"dup": (1, "first")}
        sources.remember(
            session,
            source_id=source_id,
            items=[Shown("dup", 2, "again"), Shown("dup", 4, "later")],
            now=NOW,
        )
    with session_scope(engine) as session:
        assert sources.seen(session, source_id=source_id) == {"dup": (2, "again")}


def test_a_failure_is_reported_once_when_the_source_has_failed_for_an_hour(
    engine: Engine,
) -> None:
    source_id = _add(engine)
    answers = []
    for minutes in (0, 30, 59, 60, 61, 120):
        with session_scope(engine) as session:
            source = session.get(Source, source_id)
            assert source is not None
            answers.append(
                sources.record_failure(
                    session,
                    source=source,
                    error=f"timeout {minutes}",
                    now=NOW + timedelta(minutes=minutes),
                )
            )
    assert answers == [False, False, False, True, False, False]
    failing = _source(engine, source_id)
    assert failing.failing_since == NOW
    assert failing.last_polled_at == NOW + timedelta(minutes=120)
    assert failing.last_error == "timeout 120"
    assert failing.consecutive_failures == 6
    assert failing.failure_reported is True


def test_a_failure_message_is_kept_to_500_characters(engine: Engine) -> None:
    source_id = _add(engine)
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        sources.record_failure(session, source=source, error="x" * 600, now=NOW)
    assert _source(engine, source_id).last_error == "x" * 500


def test_a_success_clears_the_failure_and_a_new_outage_is_reported_again(
    engine: Engine,
) -> None:
    source_id = _add(engine)
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        sources.record_failure(session, source=source, error="down", now=NOW)
        assert sources.record_failure(
            session, source=source, error="down", now=NOW + timedelta(hours=1)
        )
        sources.record_success(
            session,
            source=source,
            etag='"v1"',
            last_modified="Fri, 01 May 2026 10:00:00 GMT",
            now=NOW + timedelta(hours=2),
        )
    back = _source(engine, source_id)
    assert (back.last_error, back.failing_since, back.consecutive_failures) == (None, None, 0)
    assert back.failure_reported is False
    assert back.last_polled_at == back.last_success_at == NOW + timedelta(hours=2)
    assert (back.etag, back.last_modified) == ('"v1"', "Fri, 01 May 2026 10:00:00 GMT")
    outage = NOW + timedelta(hours=3)
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert not sources.record_failure(session, source=source, error="down", now=outage)
        assert sources.record_failure(
            session, source=source, error="down", now=outage + timedelta(hours=1)
        )
    # A failure does not forget the last success or the validators.
    failed = _source(engine, source_id)
    assert failed.last_success_at == NOW + timedelta(hours=2)
    assert (failed.etag, failed.last_modified) == ('"v1"', "Fri, 01 May 2026 10:00:00 GMT")


def test_a_success_without_validators_keeps_the_ones_it_had(engine: Engine) -> None:
    source_id = _add(engine)
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        sources.record_success(session, source=source, etag='"v1"', last_modified="Mon", now=NOW)
        sources.record_success(session, source=source, etag=None, last_modified="", now=NOW)
    assert (_source(engine, source_id).etag, _source(engine, source_id).last_modified) == (
        '"v1"',
        "Mon",
    )
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        sources.record_success(session, source=source, etag='"v2"', last_modified="Tue", now=NOW)
    assert (_source(engine, source_id).etag, _source(engine, source_id).last_modified) == (
        '"v2"',
        "Tue",
    )


def test_a_feed_alert_is_stored_as_sent_with_everything_it_was_given(engine: Engine) -> None:
    source_id = _add(engine)
    alert = _alert(
        engine,
        source_id,
        kind="departure",
        level=4,
        previous_level=3,
        departure=True,
        curfew_text="22:00-06:00",
    )
    with session_scope(engine) as session:
        stored = session.get(Alert, alert.id)
        assert stored is not None
        assert (stored.kind, stored.status, stored.priority) == ("departure", "sent", 0)
        assert (stored.country, stored.title, stored.body) == (
            "KZ",
            "Demonstration in Almaty",
            "Avoid Republic Square.",
        )
        assert stored.link == "https://kz.usembassy.gov/alert-1/"
        assert (stored.level, stored.previous_level, stored.departure) == (4, 3, True)
        assert stored.curfew_text == "22:00-06:00"
        assert (stored.source_id, stored.item_key, stored.fingerprint) == (
            source_id,
            "alert-1",
            "f" * 64,
        )
        assert stored.published_at == NOW - timedelta(hours=2)
        assert stored.created_at == stored.sent_at == NOW
        assert stored.created_by_staff_id is None


def test_each_kind_of_feed_alert_has_its_urgency(engine: Engine) -> None:
    source_id = _add(engine)
    expected = {
        "departure": Priority.CRITICAL,
        "curfew": Priority.HIGH,
        "security": Priority.NORMAL,
        "advisory": Priority.ROUTINE,
        "something-new": Priority.NORMAL,
    }
    got = {
        kind: _alert(engine, source_id, kind=kind[:16], item_key=kind).priority for kind in expected
    }
    assert got == {kind: int(p) for kind, p in expected.items()}


def test_long_titles_links_and_keys_are_cut_and_an_empty_link_is_none(engine: Engine) -> None:
    source_id = _add(engine)
    long = _alert(
        engine,
        source_id,
        title="T" * 600,
        link="https://x.example/" + "l" * 1200,
        item_key="k" * 700,
        published_at=None,
    )
    bare = _alert(engine, source_id, link="", item_key="bare")
    with session_scope(engine) as session:
        stored = session.get(Alert, long.id)
        assert stored is not None
        assert stored.title == "T" * 500
        assert stored.link == ("https://x.example/" + "l" * 1200)[:1000]
        assert stored.item_key == "k" * 500
        assert stored.published_at is None
        empty = session.get(Alert, bare.id)
        assert empty is not None and empty.link is None


def test_a_countrys_level_is_known_from_what_its_sources_show_before_any_change(
    engine: Engine,
) -> None:
    source_id = _add(engine)
    published = NOW - timedelta(days=40)
    with session_scope(engine) as session:
        assert cards.advisory_of(session, country="KZ").level is None
        sources.remember(
            session,
            source_id=source_id,
            items=[
                Shown("kz", 3, "f1", "KZ", published),
                Shown("kg", 2, "f2", "KG", None),
                Shown("news", None, "f3", "KZ", NOW),
            ],
            now=NOW,
        )
    with session_scope(engine) as session:
        kz = cards.advisory_of(session, country="KZ")
        kg = cards.advisory_of(session, country="KG")
        assert (kz.level, kz.level_at, kz.departure) == (3, published, False)
        assert (kg.level, kg.level_at) == (2, NOW)  # when it was read, without a date
        # A change that was news (an alert with a level) speaks for the country after that.
        sources.create_feed_alert(
            session,
            source_id=source_id,
            kind="departure",
            country="KZ",
            title="Kazakhstan - Level 4: Do Not Travel",
            summary="Leave now.",
            link="https://travel.state.gov/kz",
            level=4,
            previous_level=3,
            departure=True,
            curfew_text=None,
            item_key="kz",
            fingerprint="f4",
            published_at=NOW,
            now=NOW,
        )
    with session_scope(engine) as session:
        kz = cards.advisory_of(session, country="KZ")
        assert (kz.level, kz.level_at, kz.departure) == (4, NOW, True)
