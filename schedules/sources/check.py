"""Checking a source by hand: fetch it once, parse it, show what the bot would see.

Backs `dutybot sources check`: an operator points it at a URL, a `file://` URL or a path,
and gets either the items (as JSON or a terminal table) or the one-line reason why the
source gives none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from schedules.sources.base import FeedItem, SourceKind
from schedules.sources.fetch import fetch
from schedules.sources.parse import parse_feed

_TITLE_WIDTH = 72


def item_to_json(item: FeedItem) -> dict[str, object]:
    """The fields an operator checks, JSON-ready."""
    return {
        "country": item.country,
        "kind": item.kind.value,
        "level": item.level,
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "fingerprint": item.fingerprint,
        "departure": item.departure,
        "curfew_text": item.curfew_text,
    }


def items_table(items: Sequence[FeedItem]) -> str:
    """A fixed-width table, one item a line, with a count of items without a country."""
    header = f"{'CC':<3} {'KIND':<10} {'LVL':<3} {'DEP':<3} {'PUBLISHED':<16} TITLE"
    lines = [header, "-" * (len(header) + _TITLE_WIDTH - len("TITLE"))]
    for item in items:
        published = item.published.strftime("%Y-%m-%d %H:%M") if item.published else "-"
        lines.append(
            f"{item.country or '--':<3} {item.kind.value:<10} "
            f"{item.level if item.level is not None else '-':<3} "
            f"{'yes' if item.departure else '':<3} {published:<16} {_clip(item.title)}"
        )
    unknown = sum(1 for item in items if item.country is None)
    lines.append(f"{len(items)} items, {unknown} without a country")
    return "\n".join(lines)


async def check_source(target: str, *, kind: SourceKind, country: str | None) -> list[FeedItem]:
    """Fetch `target` once (no validators, so always a full body) and parse it."""
    async with httpx.AsyncClient() as client:
        result = await fetch(client, target, etag=None, last_modified=None)
    return parse_feed(kind, result.body, url=target, country=country, fetched_at=datetime.now(UTC))


def _clip(title: str) -> str:
    return title if len(title) <= _TITLE_WIDTH else title[: _TITLE_WIDTH - 1] + "…"
