"""parse_feed: dispatch, arguments, and what is not a feed."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.sources.base import URGENCY, AlertKind, FeedError, SourceKind
from schedules.sources.parse import parse_feed
from tests.schedules.sources.samples import (
    EMPTY_RSS,
    FETCHED_AT,
    HTML_PAGE,
    KAZAKHSTAN_ALERT,
    EmbassyItem,
    StateItem,
    embassy_feed,
    fcdo_json,
    state_feed,
)

URL = "https://example.org/feed"


@pytest.mark.parametrize("kind", list(SourceKind))
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (HTML_PAGE, "HTML page"),
        (b"\x00\xff\xfe\x89PNG garbage \x00\x01", "not an RSS or Atom feed"),
        (b"", "empty document"),
        (b"  \n\t", "empty document"),
        (b'<?xml version="1.0"?><catalog><book/></catalog>', "not an RSS or Atom feed"),
    ],
)
def test_not_a_feed_is_a_feed_error(kind: SourceKind, body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(kind, body, url=URL, country="KZ", fetched_at=FETCHED_AT)


@pytest.mark.parametrize("kind", [SourceKind.US_STATE, SourceKind.US_EMBASSY, SourceKind.RSS])
def test_a_feed_without_items_is_empty_not_an_error(kind: SourceKind) -> None:
    assert parse_feed(kind, EMPTY_RSS, url=URL, country="KZ", fetched_at=FETCHED_AT) == []


def test_dispatch_by_kind() -> None:
    state = parse_feed(
        SourceKind.US_STATE,
        state_feed(StateItem("Kazakhstan - Level 1: Exercise Normal Precautions", tag="KZ")),
        url=URL,
        fetched_at=FETCHED_AT,
    )
    embassy = parse_feed(
        SourceKind.US_EMBASSY,
        embassy_feed(EmbassyItem("Security Alert", KAZAKHSTAN_ALERT)),
        url=URL,
        country="kz",
        fetched_at=FETCHED_AT,
    )
    fcdo = parse_feed(SourceKind.FCDO, fcdo_json(), url=URL, fetched_at=FETCHED_AT)
    assert [item.key for item in state] == ["KZ"]
    assert [item.summary.splitlines()[0] for item in embassy] == [
        "Location: Almaty and Mangystau region, Kazakhstan"
    ]
    assert [item.key for item in fcdo] == ["kazakhstan"]


def test_country_argument_is_resolved_or_refused() -> None:
    body = embassy_feed(EmbassyItem("Alert", KAZAKHSTAN_ALERT))
    [item] = parse_feed(SourceKind.RSS, body, url=URL, country="Kazakhstan", fetched_at=FETCHED_AT)
    assert item.country == "KZ"
    with pytest.raises(ValueError, match="unknown country"):
        parse_feed(SourceKind.RSS, body, url=URL, country="Atlantis", fetched_at=FETCHED_AT)


def test_naive_fetch_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_feed(SourceKind.RSS, EMPTY_RSS, url=URL, fetched_at=datetime(2025, 1, 1))  # noqa: DTZ001


def test_urgency_order() -> None:
    assert URGENCY == (
        AlertKind.DEPARTURE,
        AlertKind.CURFEW,
        AlertKind.SECURITY,
        AlertKind.ADVISORY,
    )


_FEEDISH = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=600).map(str.encode),
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(
            [b"<rss", b'<?xml version="1.0"?><rss version="2.0"><channel><item>', b"<feed",
             b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>', b"{", b'{"details": ',
             b"<html>", b"\xef\xbb\xbf"]
        ),
        st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
    ),
)  # fmt: skip

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_CONTENT_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "title": _JSON,
        "base_path": st.sampled_from(["/foreign-travel-advice/usa", "/x"]) | _JSON,
        "public_updated_at": st.sampled_from(["2022-01-05T10:40:18Z", "yesterday"]) | _JSON,
        "details": st.fixed_dictionaries(
            {},
            optional={
                "alert_status": _JSON,
                "change_description": _JSON,
                "change_history": st.lists(
                    st.fixed_dictionaries({}, optional={"public_timestamp": _JSON, "note": _JSON})
                )
                | _JSON,
                "country": st.fixed_dictionaries({}, optional={"name": _JSON, "slug": _JSON})
                | _JSON,
            },
        ),
    },
)


# database=None: nothing written to the working tree; the seed varies run to run anyway.
@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(kind=st.sampled_from(list(SourceKind)), body=_FEEDISH)
def test_any_bytes_give_items_or_a_feed_error(kind: SourceKind, body: bytes) -> None:
    try:
        items = parse_feed(kind, body, url=URL, fetched_at=FETCHED_AT)
    except FeedError:
        return
    # The same bytes always read the same: keys and fingerprints are what change detection
    # compares from one poll to the next.
    assert parse_feed(kind, body, url=URL, fetched_at=FETCHED_AT) == items


@settings(max_examples=100, deadline=None, database=None)
@given(document=_CONTENT_ITEM)
def test_any_json_gives_items_or_a_feed_error(document: dict[str, object]) -> None:
    try:
        items = parse_feed(
            SourceKind.FCDO, json.dumps(document).encode(), url=URL, fetched_at=FETCHED_AT
        )
    except FeedError:
        return
    assert len(items) == 1
