"""The US State Department's travel advisories feed: every country in one RSS document.

Each item is one country's advisory. The country comes from the title ("Kenya  - Level
2: ...", "Mexico Travel Advisory - Level 2", "Mainland China, Hong Kong & Macau - See
Summaries - Level 2"), with the feed's own Country-Tag as a fallback: those tags are the
State Department's GEC codes, not ISO (SG is Senegal, not Singapore), and are sometimes
missing or wrong. pubDate is ignored: it has no time, has read 1970, and goes backwards.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schedules.countries import normalise_name, resolve_country
from schedules.sources.base import FeedItem, SourceKind
from schedules.sources.classify import classify
from schedules.sources.text import curfew_alert_text, fingerprint, html_to_text, truncate
from schedules.sources.xmlfeed import entry_html, entry_terms, read_feed, text_field, url_key

logger = logging.getLogger(__name__)

LEVEL_LABELS: dict[int, str] = {
    1: "Exercise Normal Precautions",
    2: "Exercise Increased Caution",
    3: "Reconsider Travel",
    4: "Do Not Travel",
}

_LEVEL = re.compile(r"\blevel\s*(?P<level>[1-4])\b\s*[:\-–—]?\s*(?P<label>.*)$", re.IGNORECASE)
_DASH = r"\s*[-–—]\s*"
# A dash between words, not inside one ("Guinea-Bissau", "Timor-Leste").
_SPACED_DASH = re.compile(r"\s+[-–—]\s*|\s*[-–—]\s+")
# Name, then optional "Travel Advisory" and "- See Summaries", then "- Level N".
_TITLE = re.compile(
    rf"^\s*(?P<name>.+?)(?:\s+travel\s+advisory)?(?:{_DASH}see\s+summaries)?{_DASH}(?=level\b)",
    re.IGNORECASE,
)
_PARENTHESISED = re.compile(r"\s*\(([^)]*)\)\s*")

# Titles the State Department uses that neither pycountry nor the aliases know, keyed by
# normalise_name(). A combined advisory belongs to the country that hosts the embassy.
_STATE_NAMES: dict[str, str] = {
    "mainland china hong kong and macau": "CN",
    "israel the west bank and gaza": "IL",
    "cote d ivoire": "CI",
    "sint maarten": "SX",
    "bonaire": "BQ",
    "sint eustatius": "BQ",
    "saba": "BQ",
    "saint martin": "MF",
    "saint barthelemy": "BL",
}

# The feed's Country-Tag values are GEC (ex-FIPS 10-4) codes; this is what each tag seen
# in the feed means. Only a fallback for a title we cannot read: never pass a tag through
# as ISO, since many collide (AS is Australia here, American Samoa in ISO).
_GEC_TO_ISO: dict[str, str] = {
    "A1": "BQ", "A2": "GF", "AA": "AW", "AC": "AG", "AE": "AE", "AF": "AF", "AG": "DZ",
    "AJ": "AZ", "AL": "AL", "AM": "AM", "AN": "AD", "AO": "AO", "AR": "AR", "AS": "AU",
    "AU": "AT", "AV": "AI", "AY": "AQ", "BA": "BH", "BB": "BB", "BC": "BW", "BD": "BM",
    "BE": "BE", "BF": "BS", "BG": "BD", "BH": "BZ", "BK": "BA", "BL": "BO", "BM": "MM",
    "BN": "BJ", "BO": "BY", "BP": "SB", "BR": "BR", "BT": "BT", "BU": "BG", "BX": "BN",
    "BY": "BI", "CA": "CA", "CB": "KH", "CD": "TD", "CE": "LK", "CF": "CG", "CG": "CD",
    "CH": "CN", "CI": "CL", "CJ": "KY", "CM": "CM", "CN": "KM", "CO": "CO", "CS": "CR",
    "CT": "CF", "CU": "CU", "CV": "CV", "CY": "CY", "DA": "DK", "DJ": "DJ", "DO": "DM",
    "DR": "DO", "EC": "EC", "EG": "EG", "EI": "IE", "EK": "GQ", "EN": "EE", "ER": "ER",
    "ES": "SV", "ET": "ET", "EZ": "CZ", "FI": "FI", "FJ": "FJ", "FM": "FM", "FP": "PF",
    "FR": "FR", "GA": "GM", "GB": "GA", "GG": "GE", "GH": "GH", "GJ": "GD", "GL": "GL",
    "GM": "DE", "GR": "GR", "GT": "GT", "GV": "GN", "GW": "GW", "GY": "GY", "HA": "HT",
    "HK": "HK", "HO": "HN", "HR": "HR", "HU": "HU", "IC": "IS", "ID": "ID", "IN": "IN",
    "IR": "IR", "IS": "IL", "IT": "IT", "IV": "CI", "IZ": "IQ", "JA": "JP", "JM": "JM",
    "JO": "JO", "KE": "KE", "KG": "KG", "KN": "KP", "KR": "KI", "KS": "KR", "KU": "KW",
    "KV": "XK", "KZ": "KZ", "LA": "LA", "LE": "LB", "LG": "LV", "LH": "LT", "LI": "LR",
    "LO": "SK", "LS": "LI", "LT": "LS", "LU": "LU", "LY": "LY", "MA": "MG", "MC": "MO",
    "MD": "MD", "MG": "MN", "MH": "MS", "MI": "MW", "MJ": "ME", "MK": "MK", "ML": "ML",
    "MO": "MA", "MP": "MU", "MR": "MR", "MT": "MT", "MU": "OM", "MV": "MV", "MX": "MX",
    "MY": "MY", "MZ": "MZ", "NC": "NC", "NG": "NE", "NH": "VU", "NI": "NG", "NL": "NL",
    "NN": "SX", "NO": "NO", "NP": "NP", "NR": "NR", "NS": "SR", "NU": "NI", "NZ": "NZ",
    "OD": "SS", "PA": "PY", "PE": "PE", "PK": "PK", "PL": "PL", "PM": "PA", "PO": "PT",
    "PP": "PG", "PS": "PW", "QA": "QA", "RI": "RS", "RM": "MH", "RO": "RO", "RP": "PH",
    "RS": "RU", "RW": "RW", "SA": "SA", "SC": "KN", "SE": "SC", "SF": "ZA", "SG": "SN",
    "SI": "SI", "SL": "SL", "SN": "SG", "SO": "SO", "SP": "ES", "SR": "CH", "ST": "LC",
    "SU": "SD", "SW": "SE", "SY": "SY", "TD": "TT", "TH": "TH", "TI": "TJ", "TK": "TC",
    "TN": "TO", "TO": "TG", "TP": "ST", "TS": "TN", "TT": "TL", "TU": "TR", "TV": "TV",
    "TW": "TW", "TX": "TM", "TZ": "TZ", "UC": "CW", "UG": "UG", "UK": "GB", "UP": "UA",
    "UV": "BF", "UY": "UY", "UZ": "UZ", "VC": "VC", "VE": "VE", "VI": "VG", "VM": "VN",
    "WA": "NA", "WS": "WS", "WZ": "SZ", "YM": "YE", "ZA": "ZM", "ZI": "ZW",
}  # fmt: skip


@dataclass(frozen=True)
class TitleParts:
    name: str
    level: int | None
    level_label: str | None


def parse(body: bytes, *, url: str, fetched_at: datetime) -> list[FeedItem]:
    """Every advisory in the feed, one item per country (or per unmapped title)."""
    items = [_item(entry) for entry in read_feed(body)]
    return _unique_keys(items)


def _item(entry: Any) -> FeedItem:
    title = " ".join(text_field(entry, "title").split())
    parts = parse_title(title, threat_level=next(iter(entry_terms(entry, "Threat-Level")), ""))
    tags = entry_terms(entry, "Country-Tag")
    country = country_for(parts.name, tags)
    if country is None:
        logger.warning("no country for State Department advisory %r (tags %s)", title, tags)
    text = html_to_text(entry_html(entry))
    kind, departure = classify(
        f"{title}\n{text}", level=parts.level, source_kind=SourceKind.US_STATE
    )
    return FeedItem(
        key=country or normalise_name(parts.name) or url_key(text_field(entry, "link")),
        country=country,
        kind=kind,
        level=parts.level,
        level_label=parts.level_label,
        title=title,
        url=text_field(entry, "link") or text_field(entry, "id"),
        published=None,
        summary=truncate(text),
        # The level is in the title, whose spacing and capitals vary; the text is the rest.
        fingerprint=fingerprint(f"level {parts.level}", text),
        departure=departure,
        curfew_text=curfew_alert_text(text) or curfew_alert_text(title),
    )


def parse_title(title: str, *, threat_level: str = "") -> TitleParts:
    """Country name, level and canonical label from a title, else from the Threat-Level."""
    match = _TITLE.match(title)
    name = match.group("name") if match else _SPACED_DASH.split(title, maxsplit=1)[0]
    level_match = _LEVEL.search(title) or _LEVEL.search(threat_level)
    if level_match:
        level = int(level_match.group("level"))
        return TitleParts(name.strip(), level, LEVEL_LABELS[level])
    # "Worldwide Caution - Caution": no level, but the feed's own word for it.
    return TitleParts(name.strip(), None, threat_level.strip() or None)


def country_for(name: str, tags: list[str]) -> str | None:
    """ISO code for an advisory: by name first, then by the GEC Country-Tag."""
    for candidate in _name_candidates(name):
        resolved = resolve_country(candidate)
        if resolved is not None:
            return resolved.code
        local = _STATE_NAMES.get(normalise_name(candidate))
        if local is not None:
            return local
    for tag in tags:
        code = _GEC_TO_ISO.get(tag.upper())
        if code is not None:
            return code
    return None


def _name_candidates(name: str) -> list[str]:
    """The name to try, then its parts: "Burma (Myanmar)", "Burma", "Myanmar"."""
    candidates = [name]
    inner = _PARENTHESISED.findall(name)
    if inner:
        candidates.append(_PARENTHESISED.sub(" ", name).strip())
        candidates.extend(inner)
    return [c for c in candidates if c.strip()]


def _unique_keys(items: list[FeedItem]) -> list[FeedItem]:
    """Give advisories that share a country (Bonaire, Saba...) keys of their own.

    Change detection needs one item per key. A shared key gets the advisory's name, and
    if even that is shared, its link without scheme; neither depends on feed order.
    """
    named = _split_shared(items, lambda item: normalise_name(parse_title(item.title).name))
    return _split_shared(named, lambda item: url_key(item.url))


def _split_shared(items: list[FeedItem], suffix: Callable[[FeedItem], str]) -> list[FeedItem]:
    counts = Counter(item.key for item in items)
    return [
        replace(item, key=f"{item.key}:{suffix(item)}") if counts[item.key] > 1 else item
        for item in items
    ]
