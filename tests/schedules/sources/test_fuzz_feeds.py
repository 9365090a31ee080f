"""Feed parsers under hostile input: garbage bodies, and valid feeds with hostile items.

A body either gives items fit to store and show, or fails with `FeedError` and a
one-line message; no other exception escapes. Items from hostile feeds are bounded by
what the database holds (keys and titles), carry no NUL (PostgreSQL refuses it in text),
and name a real country code or none.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.sources.base import FeedError, FeedItem, SourceKind
from schedules.sources.changes import Seen, detect_changes
from schedules.sources.classify import classify
from schedules.sources.parse import parse_feed
from schedules.sources.text import (
    SUMMARY_LIMIT,
    extract_curfew_text,
    html_to_text,
    split_sentences,
    truncate,
)
from tests.strategies import any_text, hostile_text, long_text

FETCHED_AT = datetime(2025, 10, 8, 12, 0, tzinfo=UTC)
URLS = {
    SourceKind.US_STATE: "https://travel.state.gov/_res/rss/TAsTWs.xml",
    SourceKind.US_EMBASSY: "https://kz.usembassy.gov/category/alert/feed/",
    SourceKind.FCDO: "https://www.gov.uk/foreign-travel-advice/kazakhstan.atom",
    SourceKind.FCDO_GLOBAL: "https://www.gov.uk/foreign-travel-advice.atom",
    SourceKind.RSS: "https://example.org/feed.xml",
}
# What the database holds (db.models: SeenItem.key, Alert.title, Alert.link).
MAX_KEY = 500


def _xml_text(text: str, how: str) -> str:
    """`text` put into XML escaped, in CDATA, or raw (often not well-formed at all)."""
    if how == "escaped":
        return html.escape(text, quote=False)
    if how == "cdata":
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text


field_text = st.one_of(any_text(4000), st.text(max_size=100))
placements = st.sampled_from(["escaped", "cdata", "raw"])


@st.composite
def rss_feeds(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 document, the shape all three RSS sources read, with hostile items."""
    items = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        how = draw(placements)
        title = draw(
            st.one_of(
                field_text,
                st.sampled_from(
                    ["Kazakhstan - Level 4: Do Not Travel", "Burma (Myanmar) - "]
                ).flatmap(lambda t: st.builds(lambda x: t + x, hostile_text)),
            )
        )
        link = draw(
            st.one_of(
                st.just("https://kz.usembassy.gov/alert-1/"),
                st.just("http://[::1"),
                hostile_text.map(lambda t: "https://" + t),
                long_text(3000),
            )
        )
        content = draw(
            st.one_of(
                field_text,
                st.builds(
                    lambda a, b: (
                        f"<p>Location: {a}</p><p>Event: A curfew is in place from"
                        f" 23:00 to 07:00 in {b} until 9 May.</p><p>Assistance: x</p>"
                    ),
                    hostile_text,
                    st.one_of(hostile_text, st.just("Almaty " * 40)),
                ),
            )
        )
        tags = draw(st.lists(st.tuples(st.sampled_from(["Country-Tag", "Threat-Level"]),
                                       hostile_text), max_size=2))  # fmt: skip
        categories = "".join(
            f'<category domain="{d}">{_xml_text(t, how)}</category>' for d, t in tags
        )
        guid = draw(st.none() | hostile_text | long_text(2000))
        items.append(
            f"<item><title>{_xml_text(title, how)}</title>"
            f"<link>{_xml_text(link, how)}</link>"
            f"<description>{_xml_text(content, how)}</description>"
            f"<content:encoded>{_xml_text(content, how)}</content:encoded>"
            + (f"<guid>{_xml_text(guid, how)}</guid>" if guid is not None else "")
            + f"<pubDate>{_xml_text(draw(hostile_text), how)}</pubDate>"
            f"{categories}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Alerts</title><link>https://example.org/</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode("utf-8", "surrogatepass")


@st.composite
def atom_feeds(draw: st.DrawFn) -> bytes:
    entries = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        how = draw(placements)
        link = draw(
            st.sampled_from(
                ["https://www.gov.uk/foreign-travel-advice/kazakhstan", "http://[x", ""]
            )
            | hostile_text
        )
        entries.append(
            f"<entry><title>{_xml_text(draw(field_text), how)}</title>"
            f'<link rel="alternate" href="{html.escape(link)}"/>'
            f"<id>{_xml_text(draw(hostile_text), how)}</id>"
            f"<updated>{_xml_text(draw(hostile_text), how)}</updated>"
            f'<summary type="html">{_xml_text(draw(field_text), how)}</summary></entry>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Kazakhstan travel advice</title>{''.join(entries)}</feed>"
    ).encode("utf-8", "surrogatepass")


json_values = st.one_of(st.none(), st.integers(), field_text, st.lists(hostile_text, max_size=3))
content_items = st.fixed_dictionaries(
    {
        "details": st.fixed_dictionaries(
            {},
            optional={
                "change_description": json_values,
                "alert_status": st.lists(
                    st.sampled_from(["avoid_all_travel_to_whole_country", "x"]) | hostile_text,
                    max_size=3,
                ),
                "country": st.fixed_dictionaries(
                    {}, optional={"name": json_values, "slug": json_values}
                ),
                "change_history": st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"note": json_values, "public_timestamp": json_values}
                    ),
                    max_size=3,
                ),
            },
        )
    },
    optional={
        "title": json_values,
        "base_path": st.sampled_from(["/foreign-travel-advice/kazakhstan", "/x", "//[x"])
        | json_values,
        "public_updated_at": json_values,
    },
).map(lambda document: json.dumps(document).encode())

bodies = st.one_of(
    rss_feeds(),
    atom_feeds(),
    content_items,
    st.binary(max_size=500),
    st.builds(lambda feed, cut: feed[:cut], rss_feeds(), st.integers(0, 2000)),
)
hostile_urls = st.one_of(
    st.sampled_from(list(URLS.values())),
    st.sampled_from(["http://[::1", "https://[x]/", "", "file:///etc/passwd"]),
    hostile_text,
)


def check_item(item: FeedItem) -> None:
    assert len(item.key) <= MAX_KEY, item.key[:100]
    assert len(item.fingerprint) == 64
    assert item.country is None or (len(item.country) == 2 and item.country.isupper())
    assert len(item.summary) <= SUMMARY_LIMIT
    for text in (item.key, item.title, item.url, item.summary, item.curfew_text or ""):
        assert "\x00" not in text, "NUL cannot be stored in PostgreSQL text"


@settings(max_examples=60)
@given(kind=st.sampled_from(list(SourceKind)), body=bodies, url=hostile_urls)
def test_feeds_give_storable_items_or_a_feed_error(kind: SourceKind, body: bytes, url: str) -> None:
    try:
        items = parse_feed(kind, body, url=url, fetched_at=FETCHED_AT)
    except FeedError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 1000
        return
    for item in items:
        check_item(item)
    # However hostile the items, change detection reads them.
    detect_changes({}, items)
    detect_changes({item.key: Seen(level=1, fingerprint="0" * 64) for item in items}, items)


@settings(max_examples=15)
@given(kind=st.sampled_from(list(SourceKind)), country=hostile_text, body=rss_feeds())
def test_an_unknown_source_country_is_a_value_error(
    kind: SourceKind, country: str, body: bytes
) -> None:
    """The operator's country is checked before parsing (`/source_add` checks it first)."""
    try:
        items = parse_feed(kind, body, url=URLS[kind], country=country, fetched_at=FETCHED_AT)
    except FeedError:
        return
    except ValueError as error:
        assert "unknown country" in str(error)
        return
    for item in items:
        check_item(item)


@settings(max_examples=60)
@given(text=any_text(8000))
def test_text_helpers_accept_anything(text: str) -> None:
    plain = html_to_text(text)
    for sentence in split_sentences(plain):
        assert sentence.strip()
    extract_curfew_text(plain)
    for kind in SourceKind:
        classify(plain, level=None, source_kind=kind)
    assert len(truncate(plain)) <= SUMMARY_LIMIT
