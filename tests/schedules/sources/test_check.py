"""The operator's check: JSON shape, the terminal table, and one fetch-and-parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schedules.sources.base import FeedError, SourceKind
from schedules.sources.check import check_source, item_to_json, items_table
from schedules.sources.parse import parse_feed
from tests.schedules.sources.local_server import local_server
from tests.schedules.sources.samples import (
    FETCHED_AT,
    KAZAKHSTAN_ALERT,
    EmbassyItem,
    StateItem,
    embassy_feed,
    state_feed,
)

STATE_BODY = state_feed(
    StateItem("Syria - Level 4: Do Not Travel", tag="SY"),
    StateItem("French West Indies - Level 1: Exercise Normal Precautions", tag="A3"),
)


async def test_item_to_json_has_exactly_the_agreed_fields(tmp_path: Path) -> None:
    path = tmp_path / "embassy.xml"
    path.write_bytes(embassy_feed(EmbassyItem("Security Alert", KAZAKHSTAN_ALERT)))
    [item] = await check_source(str(path), kind=SourceKind.US_EMBASSY, country="KZ")
    document = item_to_json(item)
    assert document == {
        "country": "KZ",
        "kind": "curfew",
        "level": None,
        "title": "Security Alert",
        "url": "https://kz.usembassy.gov/security-alert-u-s-mission-kazakhstan-january-5-2022/",
        "published": "2022-01-05T09:12:33+00:00",
        "fingerprint": item.fingerprint,
        "departure": False,
        "curfew_text": item.curfew_text,
    }
    assert json.loads(json.dumps(document)) == document


async def test_check_source_over_http_and_table() -> None:
    with local_server() as server:
        # The local server's /feed route is an empty channel: a valid feed with no items.
        assert (
            await check_source(f"{server.base_url}/feed", kind=SourceKind.RSS, country="KZ") == []
        )
        with pytest.raises(FeedError, match="HTTP 500"):
            await check_source(f"{server.base_url}/error", kind=SourceKind.RSS, country=None)


async def test_table_lists_items_and_counts_unknown_countries(tmp_path: Path) -> None:
    path = tmp_path / "state.xml"
    path.write_bytes(STATE_BODY)
    items = await check_source(path.as_uri(), kind=SourceKind.US_STATE, country=None)
    table = items_table(items).splitlines()
    assert table[0].split() == ["CC", "KIND", "LVL", "DEP", "PUBLISHED", "TITLE"]
    assert table[2].split()[:5] == ["SY", "departure", "4", "yes", "-"]
    assert table[3].split()[:4] == ["--", "advisory", "1", "-"]
    assert table[-1] == "2 items, 1 without a country"
    # Fixed width: the title starts in the same column on every line.
    column = table[0].index("TITLE")
    assert table[2][column:].startswith("Syria") and table[3][column:].startswith("French")


def test_long_titles_are_clipped_and_dates_shown() -> None:
    body = embassy_feed(EmbassyItem("Security Alert " + "x" * 200, KAZAKHSTAN_ALERT))
    items = parse_feed(SourceKind.US_EMBASSY, body, url="x", country="KZ", fetched_at=FETCHED_AT)
    line = items_table(items).splitlines()[2]
    assert line.endswith("…") and len(line) < 120
    assert "2022-01-05 09:12" in line
    assert items[0].published == datetime(2022, 1, 5, 9, 12, 33, tzinfo=UTC)
