"""The one shape every official source is turned into, and the entry point that parses it.

Each source module (State Department advisories, US embassy alerts, GOV.UK travel advice,
any other RSS/Atom feed) reads its own format and returns `FeedItem`s, so change
detection, storage and rendering never look at a feed format again. `parse_feed` picks
the module by `SourceKind` and is the only function callers need.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from schedules.countries import resolve_country


class SourceKind(StrEnum):
    US_STATE = "us-state"
    US_EMBASSY = "us-embassy"
    FCDO = "fcdo"
    RSS = "rss"


class AlertKind(StrEnum):
    """What an item asks of staff, most urgent first (see `URGENCY`)."""

    DEPARTURE = "departure"
    CURFEW = "curfew"
    SECURITY = "security"
    ADVISORY = "advisory"


URGENCY: tuple[AlertKind, ...] = tuple(AlertKind)


# The longest item key stored (db.models.SeenItem.key).
MAX_KEY = 500


class FeedError(Exception):
    """A body or a fetch that gave no feed: the message is one line for an operator."""


@dataclass(frozen=True)
class FeedItem:
    """One country's current word from one source, as read on one poll.

    `key` stays the same across polls for the same thing (a country's advisory, an
    embassy alert's page, a GOV.UK slug), and `fingerprint` changes only when the words
    that matter change, so a re-dated or re-linked item is recognised as unchanged.
    """

    key: str
    country: str | None
    kind: AlertKind
    level: int | None
    level_label: str | None
    title: str
    url: str
    published: datetime | None
    summary: str
    fingerprint: str
    departure: bool
    curfew_text: str | None


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
    countries itself and ignores it. A valid feed with no items gives `[]`.
    """
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    code = _country_code(country)
    # Imported here because every source module imports the types above from this one.
    import schedules.sources.fcdo as fcdo
    import schedules.sources.rss as rss
    import schedules.sources.us_embassy as us_embassy
    import schedules.sources.us_state as us_state

    if kind is SourceKind.US_STATE:
        items = us_state.parse(body, url=url, fetched_at=fetched_at)
    elif kind is SourceKind.US_EMBASSY:
        items = us_embassy.parse(body, url=url, country=code, fetched_at=fetched_at)
    elif kind is SourceKind.FCDO:
        items = fcdo.parse(body, url=url, country=code, fetched_at=fetched_at)
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
