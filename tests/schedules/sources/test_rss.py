"""Any RSS/Atom feed bound to one country."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from schedules.sources.base import AlertKind, FeedItem, SourceKind
from schedules.sources.parse import parse_feed
from tests.schedules.sources.samples import FETCHED_AT

URL = "https://example.org/alerts.xml"


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Alerts</title>'
        f"<link>https://example.org/</link><description>x</description>{items}</channel></rss>"
    ).encode()


def parse(body: bytes, country: str | None = "KZ") -> list[FeedItem]:
    return parse_feed(SourceKind.RSS, body, url=URL, country=country, fetched_at=FETCHED_AT)


def test_items_keyed_by_guid_or_link_without_scheme() -> None:
    body = rss(
        '<item><title>Road closures</title><guid isPermaLink="false">alert-17</guid>'
        "<link>https://example.org/a</link><description>Roads closed.</description></item>"
        "<item><title>Protest</title><link>http://example.org/b/</link>"
        "<description><![CDATA[<p>A protest&nbsp;is planned.</p>]]></description></item>"
    )
    guid_item, link_item = parse(body)
    assert guid_item.key == "alert-17"
    assert link_item.key == "example.org/b"
    assert link_item.summary == "A protest is planned."
    assert (link_item.country, link_item.kind) == ("KZ", AlertKind.SECURITY)


def test_guid_url_moving_to_https_keeps_key_and_fingerprint() -> None:
    item = "<item><title>Curfew</title><guid>{}://example.org/c</guid><description>" \
        "A curfew is in effect from 10 p.m.</description><pubDate>{}</pubDate></item>"  # fmt: skip
    [old] = parse(rss(item.format("http", "Mon, 03 Jan 2022 10:00:00 GMT")))
    [new] = parse(rss(item.format("https", "Tue, 04 Jan 2022 10:00:00 GMT")))
    assert (old.key, old.fingerprint) == (new.key, new.fingerprint)
    assert new.kind is AlertKind.CURFEW
    assert new.curfew_text == "A curfew is in effect from 10 p.m."


def test_no_country_is_logged_and_kept(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        [item] = parse(rss("<item><title>Unbound alert</title><guid>x</guid></item>"), None)
    assert item.country is None
    assert "Unbound alert" in caplog.text


def test_atom_feed() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><id>urn:uuid:1</id><title>Leave now</title><updated>2024-05-01T10:00:00Z"
        b'</updated><content type="html">&lt;p&gt;U.S. citizens should leave the country '
        b"immediately.&lt;/p&gt;</content></entry></feed>"
    )
    [item] = parse(body)
    assert (item.key, item.kind, item.departure) == ("urn:uuid:1", AlertKind.DEPARTURE, True)
    assert item.published == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
