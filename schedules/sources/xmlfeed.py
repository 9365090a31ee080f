"""Reading RSS and Atom bodies with feedparser, shared by every feed-based source.

feedparser is forgiving (a truncated feed still gives the items before the cut), untyped,
and will fetch a URL or open a file when handed a string that looks like one. This module
hands it bytes only, turns "not a feed" into `FeedError`, and gives the rest of the code
typed accessors for the few fields it reads.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from schedules.sources.base import FeedError

logger = logging.getLogger(__name__)

# Dates before this are placeholders or errors (feeds have carried 1 January 1970).
EARLIEST_TRUSTED = datetime(2000, 1, 1, tzinfo=UTC)
# Servers' clocks drift; a few minutes ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=10)


def read_feed(body: bytes) -> list[Any]:
    """The entries of an RSS or Atom body; `FeedError` when the body is not a feed."""
    if not body.strip():
        raise FeedError("empty document")
    try:
        # A stream, never a str: feedparser treats a str as a URL or a file name to open.
        parsed = feedparser.parse(
            io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser's internals can raise anything on hostile input
        raise FeedError(f"unreadable feed: {type(exc).__name__}") from exc
    if not parsed.get("version"):
        raise FeedError(f"not an RSS or Atom feed ({_what_it_looks_like(body)})")
    if parsed.get("bozo"):
        # Still usable: feedparser kept what it could read. Worth knowing, not fatal.
        logger.info("feed is not well-formed: %s", parsed.get("bozo_exception"))
    return list(parsed.get("entries", []))


def _what_it_looks_like(body: bytes) -> str:
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return "unrecognised content"


def text_field(entry: Any, name: str) -> str:
    value = entry.get(name)
    return value.strip() if isinstance(value, str) else ""


def entry_html(entry: Any) -> str:
    """The fullest body an entry has: content:encoded / Atom content, else the summary."""
    for content in entry.get("content") or []:
        value = content.get("value")
        if isinstance(value, str) and value.strip():
            return value
    return text_field(entry, "summary")


def entry_terms(entry: Any, scheme: str) -> list[str]:
    """The category terms of one domain (RSS) or scheme (Atom), e.g. "Country-Tag"."""
    terms = []
    for tag in entry.get("tags") or []:
        term = tag.get("term")
        if tag.get("scheme") == scheme and isinstance(term, str) and term.strip():
            terms.append(term.strip())
    return terms


def trusted_date(entry: Any, *, fetched_at: datetime) -> datetime | None:
    """The entry's published or updated instant in UTC, if it is plausible."""
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed is None:
            continue
        try:
            year, month, day, hour, minute, second = parsed[:6]
            instant = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except (TypeError, ValueError):
            continue
        return plausible(instant, fetched_at=fetched_at)
    return None


def plausible(instant: datetime, *, fetched_at: datetime) -> datetime | None:
    """`instant` in UTC, or None when it is before 2000 or after the fetch."""
    instant = instant.astimezone(UTC)
    if instant < EARLIEST_TRUSTED or instant > fetched_at + CLOCK_SKEW:
        return None
    return instant


def url_key(url: str) -> str:
    """A URL without scheme or trailing slash, so http/https moves keep their identity."""
    stripped = url.strip()
    for scheme in ("https://", "http://"):
        if stripped.lower().startswith(scheme):
            stripped = stripped[len(scheme) :]
            break
    return stripped.rstrip("/")
