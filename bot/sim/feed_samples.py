"""Feed bodies shaped like the real official sources, for the replay, the drills and tests.

State Department: the travel advisories RSS, with HTML descriptions in CDATA, GEC
Country-Tags (not ISO), Threat-Level categories, day-only pubDates, and the older layout
with single-quoted attributes and http:// links. Embassy: WordPress RSS with the alert in
content:encoded. GOV.UK: a travel advice page's content-API JSON and its Atom feed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

STATE_PAGE = "travel.state.gov/content/travel/en/traveladvisories/traveladvisories"


@dataclass(frozen=True)
class StateItem:
    title: str
    description: str = "<p>Exercise normal precautions.</p>"
    tag: str | None = None
    slug: str = "somewhere"
    pub_date: str = "Tue, 07 Oct 2025"
    scheme: str = "https"
    threat_level: str | None = None


def state_feed(*items: StateItem, old_layout: bool = False) -> bytes:
    """A travel advisories feed; `old_layout` is the 2021 shape (single quotes, http)."""
    quote = "'" if old_layout else '"'
    body = "".join(_state_item(item, quote) for item in items)
    return (
        f"<?xml version={quote}1.0{quote} encoding={quote}UTF-8{quote}?>\n"
        f"<rss xmlns:dc={quote}http://purl.org/dc/elements/1.1/{quote} version={quote}2.0{quote}>"
        "<channel><title>travel.state.gov: Travel Advisories</title>"
        "<link>https://travel.state.gov/content/travel/en/traveladvisories.html</link>"
        "<description>Travel Advisories for every destination.</description>"
        f"{body}</channel></rss>"
    ).encode()


def _state_item(item: StateItem, quote: str) -> str:
    link = f"{item.scheme}://{STATE_PAGE}/{item.slug}-travel-advisory.html"
    threat = item.threat_level
    if threat is None and "Level" in item.title:
        threat = item.title[item.title.index("Level") :]
    categories = ""
    if threat:
        categories += f"<category domain={quote}Threat-Level{quote}>{threat}</category>"
    if item.tag is not None:
        categories += f"<category domain={quote}Country-Tag{quote}>{item.tag}</category>"
    categories += f"<category domain={quote}Keyword{quote}>advisory</category>"
    return (
        f"<item><title>{_xml(item.title)}</title><link>{link}</link>"
        f"<pubDate>{item.pub_date}</pubDate>"
        f"<description><![CDATA[{item.description}]]></description>"
        f"{categories}<guid>{link}</guid><dc:identifier>{item.tag},advisory</dc:identifier>"
        "</item>"
    )


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


@dataclass(frozen=True)
class EmbassyItem:
    title: str
    content: str
    link: str = "https://kz.usembassy.gov/security-alert-u-s-mission-kazakhstan-january-5-2022/"
    guid: str = "https://kz.usembassy.gov/?p=41234"
    pub_date: str = "Wed, 05 Jan 2022 09:12:33 +0000"


def embassy_feed(*items: EmbassyItem, site: str = "https://kz.usembassy.gov") -> bytes:
    """A WordPress alert feed: excerpt in description, the alert in content:encoded."""
    body = "".join(
        f"<item><title>{_xml(item.title)}</title><link>{item.link}</link>"
        "<dc:creator><![CDATA[Webmaster]]></dc:creator>"
        f"<pubDate>{item.pub_date}</pubDate><category><![CDATA[Alert]]></category>"
        f'<guid isPermaLink="false">{item.guid}</guid>'
        "<description><![CDATA[Location: see the alert [&#8230;]]]></description>"
        f"<content:encoded><![CDATA[{item.content}]]></content:encoded></item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Alert Archives - U.S. Embassy</title>"
        f"<link>{site}/category/alert/</link><description>Alerts</description>"
        f"<language>en-US</language>{body}</channel></rss>"
    ).encode()


def fcdo_json(
    *,
    slug: str = "kazakhstan",
    name: str | None = "Kazakhstan",
    alert_status: list[str] | None = None,
    change_description: str | None = "Updated information on internal travel.",
    change_history: list[dict[str, str]] | None = None,
    public_updated_at: str = "2022-01-05T10:40:18.000+00:00",
) -> bytes:
    """A content-API document for a travel advice page (only the fields read, plus a few)."""
    details: dict[str, object] = {
        "alert_status": alert_status or [],
        "email_signup_link": f"/foreign-travel-advice/{slug}/email-signup",
        "parts": [{"title": "Summary", "slug": "summary", "body": "<p>Summary text.</p>"}],
        "updated_at": public_updated_at,
    }
    if name is not None:
        details["country"] = {"name": name, "slug": slug, "synonyms": []}
    if change_description is not None:
        details["change_description"] = change_description
    if change_history is not None:
        details["change_history"] = change_history
    document = {
        "base_path": f"/foreign-travel-advice/{slug}",
        "content_id": "4e1b8f2a-0000-4000-8000-000000000000",
        "document_type": "travel_advice",
        "title": f"{name or slug} travel advice",
        "locale": "en",
        "public_updated_at": public_updated_at,
        "details": details,
    }
    return json.dumps(document).encode()


def fcdo_atom(*, slug: str = "kazakhstan", entries: list[tuple[str, str]]) -> bytes:
    """GOV.UK's per-country Atom feed; entries are (updated, change description)."""
    page = f"https://www.gov.uk/foreign-travel-advice/{slug}"
    body = "".join(
        f"<entry><id>{page}#{updated}</id><updated>{updated}</updated>"
        f'<link rel="alternate" type="text/html" href="{page}"/>'
        f"<title>{slug.title()}</title>"
        f'<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        f"<p>{summary}</p></div></summary></entry>"
        for updated, summary in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<id>{page}</id>"
        f'<link rel="alternate" type="text/html" href="{page}"/>'
        f'<link rel="self" type="application/atom+xml" href="{page}.atom"/>'
        "<title>Travel Advice Summary</title><updated>2022-01-09T11:50:19+00:00</updated>"
        f"<author><name>GOV.UK</name></author>{body}</feed>"
    ).encode()
