"""Change detection: which of this poll's items are news, against what was seen before.

Pure: the caller loads what it has stored for a source (key -> level and fingerprint),
passes this poll's items, and stores the new state itself. An item is news when its key
is new, its level moved, or its fingerprint changed; a re-dated item or a link that moved
from http to https is not. An item that left the feed says nothing (feeds drop and
restore items), so it yields no change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from schedules.sources.base import URGENCY, FeedItem

logger = logging.getLogger(__name__)

ChangeWhat = Literal["new", "level_change", "updated"]


@dataclass(frozen=True)
class Seen:
    """What was stored about a key after the previous poll."""

    level: int | None
    fingerprint: str

    @classmethod
    def of(cls, item: FeedItem) -> Seen:
        return cls(level=item.level, fingerprint=item.fingerprint)


@dataclass(frozen=True)
class Change:
    item: FeedItem
    previous: Seen | None
    what: ChangeWhat

    def level_change_text(self) -> str | None:
        """The move to show, such as "Level 1 -> Level 2"; None unless the level changed."""
        if self.what != "level_change" or self.previous is None:
            return None
        return f"{_level_name(self.previous.level)} -> {_level_name(self.item.level)}"


def detect_changes(previous: Mapping[str, Seen], items: Sequence[FeedItem]) -> list[Change]:
    """The news in `items`, most urgent kind first, then in feed order."""
    changes: list[Change] = []
    keys: set[str] = set()
    for item in items:
        if item.key in keys:
            # Parsers give each key once; a second one would be judged against the same
            # stored state and could alert twice.
            logger.warning("duplicate key %r in one poll; ignoring %r", item.key, item.title)
            continue
        keys.add(item.key)
        change = _change(previous.get(item.key), item)
        if change is not None:
            changes.append(change)
    # sorted() is stable, so feed order is kept within a kind.
    return sorted(changes, key=lambda change: URGENCY.index(change.item.kind))


def _change(seen: Seen | None, item: FeedItem) -> Change | None:
    if seen is None:
        return Change(item=item, previous=None, what="new")
    if seen.level != item.level:
        return Change(item=item, previous=seen, what="level_change")
    if seen.fingerprint != item.fingerprint:
        return Change(item=item, previous=seen, what="updated")
    return None


def _level_name(level: int | None) -> str:
    return f"Level {level}" if level is not None else "no level"
