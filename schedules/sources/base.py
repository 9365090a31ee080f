"""The one shape every official source is turned into (`FeedItem`) and its kinds.

Each source module (State Department advisories, US embassy alerts, GOV.UK travel advice,
any other RSS/Atom feed) reads its own format and returns `FeedItem`s, so change
detection, storage and rendering never look at a feed format again.
`schedules.sources.parse.parse_feed` picks the module by `SourceKind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    US_STATE = "us-state"
    US_EMBASSY = "us-embassy"
    FCDO = "fcdo"
    # GOV.UK's feed of every country's travel advice updates, one entry per update.
    FCDO_GLOBAL = "fcdo-global"
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
