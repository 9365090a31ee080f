"""GOV.UK travel advice, from the content-API JSON and from the Atom feed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from schedules.sources import fcdo
from schedules.sources.base import AlertKind, FeedError, FeedItem, SourceKind
from schedules.sources.fcdo import slug_country
from schedules.sources.parse import parse_feed
from tests.schedules.sources.samples import FETCHED_AT, fcdo_atom, fcdo_json

API_URL = "https://www.gov.uk/api/content/foreign-travel-advice/kazakhstan"
ATOM_URL = "https://www.gov.uk/foreign-travel-advice/kazakhstan.atom"
CURFEW_CHANGE = (
    "Protests in all main cities have led to a nationwide State of Emergency being declared "
    "with a curfew in place from 11pm to 7am. (See ‘Summary’ and ‘Safety and security’ pages)"
)


def parse(body: bytes, url: str = API_URL, country: str | None = None) -> list[FeedItem]:
    return parse_feed(SourceKind.FCDO, body, url=url, country=country, fetched_at=FETCHED_AT)


def test_json_item() -> None:
    [item] = parse(
        fcdo_json(
            alert_status=["avoid_all_but_essential_travel_to_parts"],
            change_description=CURFEW_CHANGE,
        )
    )
    assert item.key == "kazakhstan"
    assert item.country == "KZ"
    assert item.title == "Kazakhstan travel advice"
    assert item.url == "https://www.gov.uk/foreign-travel-advice/kazakhstan"
    assert item.published == datetime(2022, 1, 5, 10, 40, 18, tzinfo=UTC)
    assert item.kind is AlertKind.CURFEW and not item.departure
    assert item.curfew_text == (
        "Protests in all main cities have led to a nationwide State of Emergency being "
        "declared with a curfew in place from 11pm to 7am. (See ‘Summary’ and ‘Safety and "
        "security’ pages)"
    )
    assert item.level is None
    assert (
        item.level_label == "FCDO advises against all but essential travel to parts of the country"
    )
    assert item.summary.startswith("Protests in all main cities")
    assert item.summary.endswith("to parts of the country.")


def test_whole_country_warning_is_a_departure() -> None:
    [item] = parse(fcdo_json(alert_status=["avoid_all_travel_to_whole_country"]))
    assert (item.kind, item.departure) == (AlertKind.DEPARTURE, True)


def test_no_warning_is_an_advisory() -> None:
    [item] = parse(fcdo_json(alert_status=[]))
    assert (item.kind, item.departure, item.level_label) == (AlertKind.ADVISORY, False, None)


def test_change_history_when_there_is_no_change_description() -> None:
    history = [
        {"public_timestamp": "2022-01-05T10:40:18.000+00:00", "note": "Older note."},
        {"public_timestamp": "2022-01-07T19:30:24.000+00:00", "note": "The FCDO now advises "
         "against all but essential travel to the City of Almaty."},
    ]  # fmt: skip
    [item] = parse(fcdo_json(change_description=None, change_history=history))
    assert item.summary.startswith("The FCDO now advises against all but essential travel")


def test_fingerprint_is_change_and_status_not_dates() -> None:
    [first] = parse(
        fcdo_json(change_description="Updated.", public_updated_at="2022-01-05T10:00:00Z")
    )
    [redated] = parse(
        fcdo_json(change_description="Updated.", public_updated_at="2022-01-06T10:00:00Z")
    )
    [warned] = parse(
        fcdo_json(change_description="Updated.", alert_status=["avoid_all_travel_to_parts"])
    )
    [reworded] = parse(fcdo_json(change_description="Updated information on curfews."))
    assert first.fingerprint == redated.fingerprint
    assert first.published != redated.published
    assert len({first.fingerprint, warned.fingerprint, reworded.fingerprint}) == 3


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("usa", "US"),
        ("bonaire-st-eustatius-saba", "BQ"),
        ("kazakhstan", "KZ"),
        ("the-occupied-palestinian-territories", "PS"),
        ("democratic-republic-of-the-congo", "CD"),
        ("st-kitts-and-nevis", "KN"),
        ("south-korea", "KR"),
        ("cote-d-ivoire", "CI"),
        ("no-such-place", None),
    ],
)
def test_slugs(slug: str, code: str | None) -> None:
    assert slug_country(slug) == code


def test_slug_from_json_when_the_country_block_is_missing() -> None:
    [item] = parse(fcdo_json(slug="usa", name=None), url="/tmp/page.json")
    assert (item.key, item.country) == ("usa", "US")


def test_atom_latest_entry_keyed_on_slug() -> None:
    body = fcdo_atom(
        entries=[
            ("2022-01-05T10:40:18+00:00", "Protests led to a State of Emergency in Almaty."),
            ("2022-01-07T19:30:24+00:00", "The FCDO now advises against all but essential "
             "travel to the City of Almaty (See &#8216;Summary&#8217;)"),
        ]
    )  # fmt: skip
    [item] = parse(body, url=ATOM_URL)
    assert item.key == "kazakhstan"
    assert item.country == "KZ"
    assert item.published == datetime(2022, 1, 7, 19, 30, 24, tzinfo=UTC)
    assert item.summary == (
        "The FCDO now advises against all but essential travel to the City of Almaty "
        "(See ‘Summary’)"
    )
    assert (item.kind, item.departure) == (AlertKind.ADVISORY, False)


def test_atom_ids_change_but_the_same_words_keep_the_fingerprint() -> None:
    [first] = parse(fcdo_atom(entries=[("2022-01-05T10:40:18+00:00", CURFEW_CHANGE)]), ATOM_URL)
    [again] = parse(fcdo_atom(entries=[("2022-01-06T18:00:24+00:00", CURFEW_CHANGE)]), ATOM_URL)
    assert (first.key, first.fingerprint) == (again.key, again.fingerprint)
    assert first.kind is AlertKind.CURFEW


def test_atom_with_no_entries_is_empty_not_an_error() -> None:
    assert parse(fcdo_atom(entries=[]), url=ATOM_URL) == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"title": "no details"}', b'{"details": {"body": "x"}}'],
)
def test_json_that_is_not_a_travel_advice_page(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse(body, url="https://www.gov.uk/api/content/help")


GLOBAL_URL = "https://www.gov.uk/foreign-travel-advice.atom"


def global_feed(*entries: tuple[str, str, str]) -> bytes:
    """GOV.UK's global feed: (slug, updated, change description) per entry."""
    body = "".join(
        f"<entry><id>https://www.gov.uk/foreign-travel-advice/{slug}#{updated}</id>"
        f"<updated>{updated}</updated>"
        f'<link rel="alternate" type="text/html" href="https://www.gov.uk/foreign-travel-advice/{slug}"/>'
        f"<title>{slug.replace('-', ' ').title()}</title>"
        f'<summary type="html">{summary}</summary></entry>'
        for slug, updated, summary in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{GLOBAL_URL}</id><title>Foreign travel advice</title>"
        f"<updated>2025-10-08T10:00:00+01:00</updated>{body}</feed>"
    ).encode()


def test_global_feed_gives_each_country_its_newest_entry() -> None:
    body = global_feed(
        ("israel", "2025-10-08T09:00:00+01:00", "Rockets were fired towards Haifa."),
        ("macedonia", "2025-10-07T12:00:00+01:00", "Updated information on entry requirements."),
        ("israel", "2025-10-06T09:00:00+01:00", "Editorial changes."),
        ("cote-d-ivoire", "2025-10-05T09:00:00+01:00", "British nationals should leave now."),
    )
    items = parse_feed(
        SourceKind.FCDO_GLOBAL, body, url=GLOBAL_URL, country="KZ", fetched_at=FETCHED_AT
    )
    got = [(i.key, i.country, i.kind, i.departure) for i in items]
    assert got == [
        ("israel", "IL", AlertKind.SECURITY, False),
        ("macedonia", "MK", AlertKind.ADVISORY, False),
        ("cote-d-ivoire", "CI", AlertKind.DEPARTURE, True),
    ]
    assert items[0].url == "https://www.gov.uk/foreign-travel-advice/israel"
    assert items[0].summary == "Rockets were fired towards Haifa."


def test_global_feed_skips_what_is_no_country_and_says_so_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once per process: start from a process that has not said it yet (a mutation run
    # runs the suite twice in one).
    monkeypatch.setattr(fcdo, "_SKIPPED", set())
    body = global_feed(
        ("el-dorado", "2025-10-08T09:00:00+01:00", "Attacks on the coast."),
        ("kazakhstan", "2025-10-08T08:00:00+01:00", "Updated information."),
    )
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            items = parse_feed(SourceKind.FCDO_GLOBAL, body, url=GLOBAL_URL, fetched_at=FETCHED_AT)
            assert [(i.key, i.country) for i in items] == [("kazakhstan", "KZ")]
    assert [r.getMessage() for r in caplog.records if "el-dorado" in r.getMessage()] == [
        "GOV.UK travel advice entry 'el-dorado' skipped: no known country"
    ]


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("macedonia", "MK"),
        ("north-macedonia", "MK"),
        ("the-gambia", "GM"),
        ("congo", "CG"),
        ("north-korea", "KP"),
        ("ivory-coast", "CI"),
        ("st-maarten", "SX"),
        ("occupied-palestinian-territories", "PS"),
        ("kosovo", "XK"),
        ("cape-verde", "CV"),
        ("eswatini", "SZ"),
        ("swaziland", "SZ"),
        ("myanmar", "MM"),
        ("burma", "MM"),
        ("turkey", "TR"),
        ("turkiye", "TR"),
        ("czech-republic", "CZ"),
        ("czechia", "CZ"),
        ("uae", "AE"),
        ("united-arab-emirates", "AE"),
        ("timor-leste", "TL"),
        ("macao", "MO"),
        ("laos", "LA"),
        ("st-martin", "MF"),
        ("saint-barthelemy", "BL"),
        ("south-georgia-and-the-south-sandwich-islands", "GS"),
    ],
)
def test_old_and_odd_slugs(slug: str, code: str) -> None:
    assert slug_country(slug) == code
