"""GOV.UK foreign travel advice (FCDO): one country's page, as Atom or as content-API JSON,
and the global Atom feed of every country's updates.

A page's two forms come from `https://www.gov.uk/foreign-travel-advice/<slug>`: `.atom` gives the
latest change description, `/api/content/...` gives it with the warnings in force
(`details.alert_status`). Which one a body is, is read from the body. The page is known
by its slug, because Atom entry ids change with every update; it changes when the change
description or the warnings do. Slugs are not ISO codes (`usa`,
`bonaire-st-eustatius-saba`), and old ones stay in use (`macedonia`, `swaziland`).

The global feed (`https://www.gov.uk/foreign-travel-advice.atom`) has one entry per
update, for any country: each entry is read like a page's Atom entry, its country taken
from its link's slug alone. An entry whose slug names no known country is skipped rather
than sent to a guessed one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from schedules.countries import resolve_country
from schedules.sources.base import FeedError, FeedItem, SourceKind
from schedules.sources.classify import classify
from schedules.sources.text import curfew_alert_text, fingerprint, html_to_text, truncate
from schedules.sources.xmlfeed import plausible, read_feed, text_field, trusted_date

logger = logging.getLogger(__name__)

GOV_UK = "https://www.gov.uk"
_SLUG_IN_PATH = re.compile(r"/foreign-travel-advice/(?P<slug>[a-z0-9-]+?)(?:\.atom)?/?$")

# Slugs whose words are not a name pycountry or the aliases know.
_SLUG_COUNTRIES: dict[str, str] = {
    "bonaire-st-eustatius-saba": "BQ",
    "macedonia": "MK",
    "uae": "AE",
    "sint-maarten": "SX",
    "democratic-republic-of-congo": "CD",
    "occupied-palestinian-territories": "PS",
    "south-georgia-and-south-sandwich-islands": "GS",
    "antarctica-british-antarctic-territory": "AQ",
    # One page for three territories; the Cook Islands are where its staff would be.
    "cook-islands-tokelau-and-niue": "CK",
    "cote-d-ivoire": "CI",
    "ivory-coast": "CI",
    "pitcairn-island": "PN",
    "st-helena-ascension-and-tristan-da-cunha": "SH",
    "st-maarten": "SX",
    "st-martin": "MF",
    "st-barthelemy": "BL",
    "the-occupied-palestinian-territories": "PS",
    "british-antarctic-territory": "AQ",
}

# What each warning means, most severe first; the first one present is the label.
ALERT_STATUS_TEXT: dict[str, str] = {
    "avoid_all_travel_to_whole_country": "FCDO advises against all travel to the whole country",
    "avoid_all_but_essential_travel_to_whole_country": (
        "FCDO advises against all but essential travel to the whole country"
    ),
    "avoid_all_travel_to_parts": "FCDO advises against all travel to parts of the country",
    "avoid_all_but_essential_travel_to_parts": (
        "FCDO advises against all but essential travel to parts of the country"
    ),
}


def parse(body: bytes, *, url: str, country: str | None, fetched_at: datetime) -> list[FeedItem]:
    """The page's current advice as one item (none for an Atom feed with no entries)."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        return [_from_content_api(_load_json(body), url=url, country=country, at=fetched_at)]
    entries = read_feed(body)
    if not entries:
        return []
    return [_from_atom(_latest(entries), url=url, country=country, fetched_at=fetched_at)]


def parse_global(body: bytes, *, fetched_at: datetime) -> list[FeedItem]:
    """One item per country in GOV.UK's global feed: that country's newest entry.

    The feed lists every update, so a busy country appears several times; its newest
    entry is its current word, as on its own page.
    """
    newest: dict[str, Any] = {}
    for entry in read_feed(body):
        slug = _entry_slug(entry)
        if slug is None:
            _skip_once(text_field(entry, "link") or text_field(entry, "id"), "not a country page")
            continue
        if slug_country(slug) is None:
            _skip_once(slug, "no known country")
            continue
        newest[slug] = _latest([newest[slug], entry]) if slug in newest else entry
    return [
        _from_atom(entry, url="", country=slug_country(slug), fetched_at=fetched_at)
        for slug, entry in newest.items()
    ]


# What has been reported as skipped: a feed polled every few minutes would repeat it.
_SKIPPED: set[str] = set()


def _skip_once(what: str, why: str) -> None:
    if what not in _SKIPPED:
        _SKIPPED.add(what)
        logger.warning("GOV.UK travel advice entry %r skipped: %s", what[:200], why)


def _entry_slug(entry: Any) -> str | None:
    return slug_from_url(text_field(entry, "link")) or slug_from_url(text_field(entry, "id"))


def slug_country(slug: str) -> str | None:
    """ISO code for a GOV.UK travel advice slug."""
    if slug in _SLUG_COUNTRIES:
        return _SLUG_COUNTRIES[slug]
    resolved = resolve_country(slug.replace("-", " "))
    return resolved.code if resolved else None


def slug_from_url(url: str) -> str | None:
    try:
        path = urlsplit(url.strip()).path
    except ValueError:  # "http://[x": not a URL at all
        return None
    match = _SLUG_IN_PATH.search(path)
    return match.group("slug") if match else None


def _load_json(body: bytes) -> Mapping[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("details"), dict):
        raise FeedError("JSON is not a GOV.UK content item (no details)")
    return document


def _from_content_api(
    document: Mapping[str, Any], *, url: str, country: str | None, at: datetime
) -> FeedItem:
    details: Mapping[str, Any] = document["details"]
    country_block = details.get("country")
    country_info: Mapping[str, Any] = country_block if isinstance(country_block, dict) else {}
    base_path = _string(document.get("base_path"))
    slug = _string(country_info.get("slug")) or slug_from_url(base_path) or slug_from_url(url)
    if not slug:
        raise FeedError("GOV.UK content item is not a foreign travel advice page")
    name = _string(country_info.get("name"))
    named = resolve_country(name) if name else None
    code = country or (named.code if named else None) or slug_country(slug)
    title = _string(document.get("title")) or f"{name or slug} travel advice"
    statuses = _strings(details.get("alert_status"))
    return _item(
        slug=slug,
        country=code,
        title=title,
        url=f"{GOV_UK}{base_path}" if base_path.startswith("/") else _page_url(slug),
        published=_iso_instant(document.get("public_updated_at"), fetched_at=at),
        change=_change_description(details),
        alert_status=statuses,
    )


def _from_atom(entry: Any, *, url: str, country: str | None, fetched_at: datetime) -> FeedItem:
    slug = _entry_slug(entry) or slug_from_url(url)
    if not slug:
        raise FeedError("Atom entry is not a foreign travel advice page")
    return _item(
        slug=slug,
        country=country or slug_country(slug),
        title=" ".join(text_field(entry, "title").split()) or f"{slug} travel advice",
        url=_page_url(slug),
        published=trusted_date(entry, fetched_at=fetched_at),
        change=html_to_text(text_field(entry, "summary")),
        alert_status=[],
    )


def _item(
    *,
    slug: str,
    country: str | None,
    title: str,
    url: str,
    published: datetime | None,
    change: str,
    alert_status: Sequence[str],
) -> FeedItem:
    if country is None:
        logger.warning("no country for GOV.UK travel advice %r (slug %s)", title, slug)
    warnings = [text for status, text in ALERT_STATUS_TEXT.items() if status in alert_status]
    summary = "\n".join([change, *(f"{text}." for text in warnings)]).strip()
    kind, departure = classify(
        summary, level=None, alert_status=alert_status, source_kind=SourceKind.FCDO
    )
    return FeedItem(
        key=slug,
        country=country,
        kind=kind,
        level=None,
        level_label=warnings[0] if warnings else None,
        title=title,
        url=url,
        published=published,
        summary=truncate(summary),
        fingerprint=fingerprint(change, *sorted(alert_status)),
        departure=departure,
        curfew_text=curfew_alert_text(change),
    )


def _change_description(details: Mapping[str, Any]) -> str:
    """`details.change_description`, else the newest note of `details.change_history`."""
    described = _string(details.get("change_description"))
    if described:
        return html_to_text(described)
    raw_history = details.get("change_history")
    history = (
        [h for h in raw_history if isinstance(h, dict)] if isinstance(raw_history, list) else []
    )
    if not history:
        return ""
    newest = max(history, key=lambda h: _string(h.get("public_timestamp")))
    return html_to_text(_string(newest.get("note")))


def _latest(entries: list[Any]) -> Any:
    """The newest entry by its updated time; feed order decides between undated ones."""
    dated = [e for e in entries if e.get("updated_parsed") or e.get("published_parsed")]
    if not dated:
        return entries[0]
    return max(dated, key=lambda e: tuple(e.get("updated_parsed") or e.get("published_parsed")))


def _iso_instant(value: object, *, fetched_at: datetime) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # GOV.UK writes UTC offsets; bare is UTC too
    return plausible(instant, fetched_at=fetched_at)


def _page_url(slug: str) -> str:
    return f"{GOV_UK}/foreign-travel-advice/{slug}"


def _string(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
