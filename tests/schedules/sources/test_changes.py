"""Change detection between two polls."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from schedules.sources.base import AlertKind, FeedItem, SourceKind
from schedules.sources.changes import Change, Seen, detect_changes
from schedules.sources.parse import parse_feed
from tests.schedules.sources.samples import FETCHED_AT, STATE_URL, StateItem, state_feed


def state(*items: StateItem, old_layout: bool = False) -> list[FeedItem]:
    body = state_feed(*items, old_layout=old_layout)
    return parse_feed(SourceKind.US_STATE, body, url=STATE_URL, fetched_at=FETCHED_AT)


def seen(items: list[FeedItem]) -> dict[str, Seen]:
    return {item.key: Seen.of(item) for item in items}


SAO_TOME_1 = StateItem(
    "Sao Tome and Principe - Level 1: Exercise Normal Precautions",
    "<p>Exercise normal precautions in Sao Tome and Principe.</p>",
    tag="TP",
    slug="sao-tome-and-principe",
    pub_date="Wed, 25 Sep 2024",
)
SAO_TOME_2 = StateItem(
    "Sao Tome and Principe - Level 2: Exercise Increased Caution",
    "<p>Exercise increased caution in Sao Tome and Principe due to crime.</p>",
    tag="TP",
    slug="sao-tome-and-principe",
    pub_date="Wed, 08 Oct 2025",
)
CHAD = StateItem("Chad - Level 3: Reconsider Travel", "<p>Crime.</p>", tag="CD", slug="chad")


def test_first_poll_everything_is_new() -> None:
    changes = detect_changes({}, state(SAO_TOME_1, CHAD))
    assert [(c.what, c.item.key, c.previous) for c in changes] == [
        ("new", "ST", None),
        ("new", "TD", None),
    ]


def test_level_change() -> None:
    before = seen(state(SAO_TOME_1, CHAD))
    [change] = detect_changes(before, state(SAO_TOME_2, CHAD))
    assert change.what == "level_change"
    assert change.item.country == "ST"
    assert change.previous == before["ST"]
    assert change.level_change_text() == "Level 1 -> Level 2"


def test_redated_or_relinked_unchanged_item_is_not_news() -> None:
    before = seen(state(CHAD))
    after = state(replace(CHAD, pub_date="Thu, 01 Jan 1970", scheme="http"), old_layout=True)
    assert detect_changes(before, after) == []


def test_same_level_new_text_is_updated() -> None:
    before = seen(state(CHAD))
    [change] = detect_changes(before, state(replace(CHAD, description="<p>Crime, terrorism.</p>")))
    assert (change.what, change.previous) == ("updated", before["TD"])
    assert change.level_change_text() is None


def test_items_gone_from_the_feed_say_nothing() -> None:
    before = seen(state(SAO_TOME_1, CHAD))
    assert detect_changes(before, state(CHAD)) == []
    assert detect_changes(before, []) == []


def test_most_urgent_kind_first_then_feed_order() -> None:
    items = state(
        StateItem("Chad - Level 2: Exercise Increased Caution", tag="CD"),
        StateItem("Nepal - Level 3: Reconsider Travel", "<p>A curfew is in effect.</p>", tag="NP"),
        StateItem("Iceland - Level 1: Exercise Normal Precautions", tag="IC"),
        StateItem("Syria - Level 4: Do Not Travel", tag="SY"),
    )
    changes = detect_changes({}, items)
    assert [(c.item.key, c.item.kind) for c in changes] == [
        ("SY", AlertKind.DEPARTURE),
        ("NP", AlertKind.CURFEW),
        ("TD", AlertKind.ADVISORY),
        ("IS", AlertKind.ADVISORY),
    ]


def test_level_change_text_without_a_previous_level() -> None:
    [item] = state(CHAD)
    change = Change(item=item, previous=Seen(level=None, fingerprint="x"), what="level_change")
    assert change.level_change_text() == "no level -> Level 3"


def test_a_duplicate_key_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    [item] = state(CHAD)
    with caplog.at_level(logging.WARNING):
        changes = detect_changes({}, [item, replace(item, title="Chad again")])
    assert [c.item.title for c in changes] == [item.title]
    assert caplog.messages == ["duplicate key 'TD' in one poll; ignoring 'Chad again'"]


def test_a_lowered_level_is_a_level_change_too() -> None:
    raised = replace(CHAD, title="Chad - Level 3: Reconsider Travel")
    lowered = replace(CHAD, title="Chad - Level 2: Exercise Increased Caution")
    before = seen(state(raised, SAO_TOME_1))
    [change] = detect_changes(before, state(lowered, SAO_TOME_1))
    assert (change.what, change.item.key, change.previous) == ("level_change", "TD", before["TD"])
    assert change.level_change_text() == "Level 3 -> Level 2"


def test_a_level_change_with_new_text_reads_as_a_level_change() -> None:
    before = seen(state(SAO_TOME_1))
    moved = replace(SAO_TOME_2, description="<p>Entirely new text.</p>")
    [change] = detect_changes(before, state(moved))
    assert change.what == "level_change"
    assert change.level_change_text() == "Level 1 -> Level 2"


def test_a_level_that_disappears_reads_as_no_level() -> None:
    [item] = state(CHAD)
    previous = Seen(level=2, fingerprint=item.fingerprint)
    [change] = detect_changes({"TD": previous}, [replace(item, level=None)])
    assert (change.what, change.previous) == ("level_change", previous)
    assert change.level_change_text() == "Level 2 -> no level"


def test_a_new_item_has_no_level_change_text() -> None:
    [change] = detect_changes({}, state(CHAD))
    assert change.level_change_text() is None


def test_a_duplicate_key_does_not_hide_the_items_after_it() -> None:
    chad, sao_tome = state(CHAD, SAO_TOME_1)
    changes = detect_changes({}, [chad, replace(chad, title="Chad again"), sao_tome])
    assert [(c.what, c.item.title) for c in changes] == [
        ("new", chad.title),
        ("new", sao_tome.title),
    ]


def test_seen_keeps_the_level_and_fingerprint() -> None:
    [item] = state(CHAD)
    assert Seen.of(item) == Seen(level=3, fingerprint=item.fingerprint)
