"""Hostile feed content through the bot's real feed path, into the database and the outbox.

Items parsed from hostile feeds are applied as a poll's news (`bot.feeds.apply_items`):
every item becomes an alert that the database stores (on PostgreSQL too: no NUL, keys
and areas within their columns), and every message queued for staff and leads (the
alert itself, curfew offers) is one Telegram accepts.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.feeds import apply_items
from bot.settings import BotSettings
from bot.sim.telegram.validation import check_message_text
from db import leads, staff, subscriptions
from db.engine import session_scope
from db.models import Alert, Delivery, Role, Source
from schedules.polling import PollResult
from schedules.sources.base import FeedError, SourceKind
from schedules.sources.parse import parse_feed
from tests.schedules.sources.test_fuzz_feeds import atom_feeds, rss_feeds

NOW = datetime(2025, 10, 8, 12, 0, tzinfo=UTC)
_sources = itertools.count(1)


def _people(engine: Engine) -> None:
    """A staff member and a lead who follow Kazakhstan, once per database."""
    with session_scope(engine) as session:
        if staff.everyone(session):
            return
        for user_id, role in ((6_000_000_001, Role.STAFF), (6_000_000_002, Role.LEAD)):
            person = staff.enrol(
                session,
                telegram_user_id=user_id,
                chat_id=user_id,
                display_name=f"Fuzz {role.value}",
                username=None,
                role=role,
            )
            subscriptions.subscribe(session, staff_id=person.id or 0, country="KZ")
            if role is Role.LEAD:
                leads.lead(session, staff_id=person.id or 0, country="KZ")


def _rss(title: str, content: str, guid: str = "g1") -> bytes:
    item = (
        f"<item><title><![CDATA[{title}]]></title><guid>{guid}</guid>"
        f"<description><![CDATA[{content}]]></description></item>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
        f"{item}{item}</channel></rss>"  # the same guid twice, as broken feeds have it
    ).encode()


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([SourceKind.RSS, SourceKind.US_EMBASSY, SourceKind.US_STATE]),
    body=rss_feeds() | atom_feeds(),
)
@example(kind=SourceKind.RSS, body=_rss("Curfew " * 400, "<b>&amp;</b> \x00 \u202e"))
@example(
    kind=SourceKind.RSS,
    body=_rss("Curfew", "A curfew is in place in " + "Almaty " * 40 + "from 23:00 to 07:00."),
)
@example(kind=SourceKind.US_EMBASSY, body=_rss("Alert", "Event: x", guid="g" * 3000))
def test_hostile_items_become_alerts_and_valid_messages(
    engine: Engine, settings: BotSettings, kind: SourceKind, body: bytes
) -> None:
    _people(engine)
    try:
        items = parse_feed(kind, body, url="https://kz.usembassy.gov/feed/", country="KZ",
                           fetched_at=NOW)  # fmt: skip
    except FeedError:
        return
    with session_scope(engine) as session:
        before = len(session.exec(select(Delivery.id)).all())
        source = Source(
            kind=kind.value, url=f"https://x.example/{next(_sources)}", baseline_done=True
        )
        session.add(source)
        session.flush()
        alert_ids = apply_items(
            session, source=source, result=PollResult(items=items), now=NOW, settings=settings
        )
    # Nothing is lost: one alert per distinct item, each stored.
    assert len(alert_ids) == len({item.key for item in items})
    with session_scope(engine) as session:
        stored = session.exec(select(Alert).where(col(Alert.id).in_(alert_ids))).all()
        assert len(stored) == len(alert_ids)
        texts = session.exec(select(Delivery.text).order_by(col(Delivery.id))).all()[before:]
    if any(a.country == "KZ" for a in stored):  # "BA" is a title, and Bosnia's code
        assert texts, "alerts about Kazakhstan reach its subscribers"
    for text in texts:
        try:
            check_message_text(text)
        except ValueError as error:
            raise AssertionError(f"queued {text[:300]!r}: {error}") from None
