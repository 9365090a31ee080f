"""Any other RSS or Atom feed about one country (an embassy elsewhere, a ministry, a NGO).

Nothing in such a feed says which country it is about, so the operator names it when
adding the source. Items are known by their guid, or their link without its scheme,
and change when their title or text does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from schedules.sources.base import FeedItem, SourceKind
from schedules.sources.classify import classify
from schedules.sources.text import curfew_alert_text, fingerprint, html_to_text, truncate
from schedules.sources.xmlfeed import entry_html, read_feed, text_field, trusted_date, url_key

logger = logging.getLogger(__name__)


def parse(body: bytes, *, url: str, country: str | None, fetched_at: datetime) -> list[FeedItem]:
    """Every item of the feed, all bound to `country` (None, with a warning, if unset)."""
    return [_item(entry, country=country, fetched_at=fetched_at) for entry in read_feed(body)]


def _item(entry: Any, *, country: str | None, fetched_at: datetime) -> FeedItem:
    title = " ".join(text_field(entry, "title").split())
    if country is None:
        logger.warning("no country for feed item %r: give the source a country", title)
    text = html_to_text(entry_html(entry))
    link = text_field(entry, "link")
    kind, departure = classify(f"{title}\n{text}", level=None, source_kind=SourceKind.RSS)
    return FeedItem(
        key=item_key(entry) or fingerprint(title, text),
        country=country,
        kind=kind,
        level=None,
        level_label=None,
        title=title,
        url=link or text_field(entry, "id"),
        published=trusted_date(entry, fetched_at=fetched_at),
        summary=truncate(text),
        fingerprint=fingerprint(title, text),
        departure=departure,
        # The title counts only when the text says nothing ("Curfew" above the details).
        curfew_text=curfew_alert_text(text) or curfew_alert_text(title),
    )


def item_key(entry: Any) -> str:
    """The guid (without scheme when it is a URL), else the link without scheme."""
    guid = text_field(entry, "id")
    return url_key(guid) if guid else url_key(text_field(entry, "link"))
