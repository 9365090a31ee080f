"""One poll of one source: fetch with validators, parse, and say what went wrong if anything.

Pure with respect to the database: the caller passes what it stored last time and
stores what comes back. Every failure (HTTP error, timeout, oversize body, HTML instead
of a feed, garbage, an empty feed) comes back as one line in `PollResult.error`, so
one bad source can never stop the others. The parsing runs on a worker thread, off the
event loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from schedules.sources.base import FeedError, FeedItem, SourceKind
from schedules.sources.fcdo import slug_from_url
from schedules.sources.fetch import fetch
from schedules.sources.parse import parse_feed

log = logging.getLogger(__name__)

GOVUK_CONTENT_API = "https://www.gov.uk/api/content/foreign-travel-advice/{slug}"
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class PollResult:
    items: list[FeedItem] | None = None  # None: not modified since last time, or failed
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


def fetch_url(kind: SourceKind, url: str) -> str:
    """GOV.UK's Atom feed misses some updates; its content API has them all, so poll that."""
    if kind is SourceKind.FCDO and url.endswith(".atom"):
        slug = slug_from_url(url)
        if slug:
            return GOVUK_CONTENT_API.format(slug=slug)
    return url


async def poll(
    client: httpx.AsyncClient,
    *,
    kind: SourceKind,
    url: str,
    country: str | None,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
    timeout: float = 20.0,  # noqa: ASYNC109 - one bound for the whole fetch
    max_bytes: int = 5_000_000,
) -> PollResult:
    target = fetch_url(kind, url)
    try:
        fetched = await fetch(
            client,
            target,
            etag=etag,
            last_modified=last_modified,
            timeout=timeout,
            max_bytes=max_bytes,
        )
        if fetched.status == "not_modified":
            return PollResult(etag=etag, last_modified=last_modified)
        # Parsing a whole feed takes long enough (hundreds of ms for the State
        # Department's) to hold up every message in flight: it runs on a worker thread.
        items = await asyncio.to_thread(
            parse_feed, kind, fetched.body, url=url, country=country, fetched_at=now
        )
    except FeedError as error:
        return PollResult(error=str(error)[:500])
    except Exception as error:  # a parser bug must not stop polling either
        log.exception("unexpected failure polling %s", target)
        return PollResult(error=f"{target}: unexpected {type(error).__name__}")
    if not items:
        return PollResult(error=f"{target}: the feed has no items")
    return PollResult(items=items, etag=fetched.etag, last_modified=fetched.last_modified)


def backoff(consecutive_failures: int, interval: timedelta) -> timedelta:
    """How long to leave a failing source alone: doubling from its interval, at most 30 min."""
    if consecutive_failures <= 0:
        return timedelta(0)
    return min(interval * (1 << min(consecutive_failures - 1, 16)), MAX_BACKOFF)


def first_delay(interval: timedelta) -> float:
    """Seconds before a source's first poll: spread over the interval so sources don't bunch."""
    return random.uniform(1.0, max(2.0, min(interval.total_seconds(), 60.0)))
