"""US embassy alerts: the WordPress RSS feed of one embassy, so one country per feed.

Titles ("Security Alert – U.S. Mission Kazakhstan (date)") are reused for unrelated
alerts, so an alert is known by its page link. The body, in content:encoded, is labelled
sections: Location, Event(s), Actions to Take, Assistance. The summary staff see is the
Location and Event; the Assistance section is contact boilerplate and is left out of the
fingerprint so a new phone number is not news.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from schedules.countries import resolve_country
from schedules.sources.base import FeedItem, SourceKind
from schedules.sources.classify import classify
from schedules.sources.text import curfew_alert_text, fingerprint, html_to_text, truncate
from schedules.sources.xmlfeed import entry_html, read_feed, text_field, trusted_date, url_key

logger = logging.getLogger(__name__)

_SECTION = re.compile(
    r"^(?P<label>locations?|events?|actions\s+to\s+take|assistance)\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_EMBASSY_HOST = re.compile(r"^(?:www\.)?(?P<code>[a-z]{2})\.usembassy\.gov$")
_SUMMARY_SECTIONS = ("location", "event")


def parse(body: bytes, *, url: str, country: str | None, fetched_at: datetime) -> list[FeedItem]:
    """Every alert in an embassy feed, for `country` or the country in the site's name."""
    feed_country = country or country_from_url(url)
    items = []
    for entry in read_feed(body):
        link = text_field(entry, "link")
        item_country = feed_country or country_from_url(link)
        items.append(_item(entry, link=link, country=item_country, fetched_at=fetched_at))
    return items


def country_from_url(url: str) -> str | None:
    """KZ for https://kz.usembassy.gov/...; GB for uk.usembassy.gov; None otherwise."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:  # "http://[x": not a URL at all
        return None
    match = _EMBASSY_HOST.match(host)
    if match is None:
        return None
    resolved = resolve_country(match.group("code"))
    return resolved.code if resolved else None


def _item(entry: Any, *, link: str, country: str | None, fetched_at: datetime) -> FeedItem:
    title = " ".join(text_field(entry, "title").split())
    if country is None:
        logger.warning("no country for embassy alert %r", title)
    text = html_to_text(entry_html(entry))
    sections = split_sections(text)
    if sections:
        summary = "\n".join(
            f"{label}: {body}" for label, body in sections.items() if _is_summary(label)
        )
        content = "\n".join(body for label, body in sections.items() if label != "Assistance")
    else:
        summary = content = text
    kind, departure = classify(f"{title}\n{content}", level=None, source_kind=SourceKind.US_EMBASSY)
    guid = text_field(entry, "id")
    return FeedItem(
        # An item with neither link nor guid is known by what it says.
        key=url_key(link or guid) or fingerprint(title, content),
        country=country,
        kind=kind,
        level=None,
        level_label=None,
        title=title,
        url=link or guid,
        published=trusted_date(entry, fetched_at=fetched_at),
        summary=truncate(summary or text),
        fingerprint=fingerprint(content),
        departure=departure,
        curfew_text=curfew_alert_text(content) or curfew_alert_text(title),
    )


def split_sections(text: str) -> dict[str, str]:
    """Labelled sections of an alert body, in order, keyed "Location", "Event"...

    A label may share its line with the text ("Location: Almaty") or head the lines
    that follow. Text before the first label is kept as "Event" when the alert has no
    Event section of its own, since some alerts open with the news and label the rest.
    """
    sections: dict[str, list[str]] = {}
    preamble: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            label = _label(match.group("label"))
            current = sections.setdefault(label, [])
            if match.group("rest").strip():
                current.append(match.group("rest").strip())
        elif current is not None:
            current.append(line)
        else:
            preamble.append(line)
    if not sections:
        return {}
    if preamble and "Event" not in sections:
        sections = {"Event": preamble, **sections}
    return {label: "\n".join(lines) for label, lines in sections.items() if lines}


def _label(raw: str) -> str:
    word = raw.split()[0].casefold()
    return {
        "location": "Location",
        "locations": "Location",
        "event": "Event",
        "events": "Event",
        "actions": "Actions to Take",
        "assistance": "Assistance",
    }[word]


def _is_summary(label: str) -> bool:
    return label.casefold() in _SUMMARY_SECTIONS
