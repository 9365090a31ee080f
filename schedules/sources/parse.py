"""The entry point for a fetched body: the parser for its kind, and items fit to store.

`parse_feed` is the only function callers need; each source module reads its own
format into `FeedItem`s (`schedules.sources.base`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from schedules.countries import resolve_country
from schedules.sources import fcdo, rss, us_embassy, us_state
from schedules.sources.base import MAX_KEY, FeedItem, SourceKind


def parse_feed(
    kind: SourceKind,
    body: bytes,
    *,
    url: str,
    country: str | None = None,
    fetched_at: datetime,
) -> list[FeedItem]:
    """Parse a fetched body into items; raise `FeedError` when it is not a feed at all.

    `country` binds a one-country source (embassy, GOV.UK page, plain RSS) to a country
    when it cannot be read from the body or the URL; the State Department feed names its
    countries itself and ignores it, and so does GOV.UK's global travel advice feed. A
    valid feed with no items gives `[]`.
    """
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    code = _country_code(country)
    if kind is SourceKind.US_STATE:
        items = us_state.parse(body, url=url, fetched_at=fetched_at)
    elif kind is SourceKind.US_EMBASSY:
        items = us_embassy.parse(body, url=url, country=code, fetched_at=fetched_at)
    elif kind is SourceKind.FCDO:
        items = fcdo.parse(body, url=url, country=code, fetched_at=fetched_at)
    elif kind is SourceKind.FCDO_GLOBAL:
        items = fcdo.parse_global(body, fetched_at=fetched_at)
    else:
        items = rss.parse(body, url=url, country=code, fetched_at=fetched_at)
    return [_storable(item) for item in items]


# Control characters feeds carry by mistake; PostgreSQL refuses NUL in text outright.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _storable(item: FeedItem) -> FeedItem:
    """The item without control characters, its key short enough to store (`MAX_KEY`).

    A long key (a guid or link of any length) keeps its start and gains a digest of the
    whole, so it stays the same from poll to poll and distinct from every other key.
    """
    key = item.key.translate(_CONTROLS)
    if len(key) > MAX_KEY:
        key = f"{key[: MAX_KEY - 65]}#{hashlib.sha256(key.encode()).hexdigest()}"
    curfew_text = item.curfew_text.translate(_CONTROLS) if item.curfew_text else None
    level_label = item.level_label.translate(_CONTROLS) if item.level_label else None
    return replace(
        item,
        key=key,
        title=item.title.translate(_CONTROLS),
        url=item.url.translate(_CONTROLS),
        summary=item.summary.translate(_CONTROLS),
        curfew_text=curfew_text or None,
        level_label=level_label or None,
    )


def _country_code(country: str | None) -> str | None:
    """Accept `kz`, `KAZ` or `Kazakhstan` from an operator; refuse what is not a country."""
    if country is None:
        return None
    resolved = resolve_country(country)
    if resolved is None:
        raise ValueError(f"unknown country {country!r}")
    return resolved.code
