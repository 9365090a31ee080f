"""US embassy alert feeds: sections, country from the site, keys and dates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from schedules.sources.base import AlertKind, FeedItem, SourceKind
from schedules.sources.parse import parse_feed
from schedules.sources.us_embassy import country_from_url, split_sections
from tests.schedules.sources.samples import (
    FETCHED_AT,
    KAZAKHSTAN_ALERT,
    EmbassyItem,
    embassy_feed,
)

FEED_URL = "https://kz.usembassy.gov/category/alert/feed/"


def parse(*items: EmbassyItem, url: str = FEED_URL, country: str | None = None) -> list[FeedItem]:
    return parse_feed(
        SourceKind.US_EMBASSY, embassy_feed(*items), url=url, country=country, fetched_at=FETCHED_AT
    )


def test_alert_summary_is_location_and_event() -> None:
    [item] = parse(
        EmbassyItem("Security Alert – U.S. Mission Kazakhstan (January 5, 2022)", KAZAKHSTAN_ALERT)
    )
    assert item.country == "KZ"
    assert item.title == "Security Alert – U.S. Mission Kazakhstan (January 5, 2022)"
    assert item.summary == (
        "Location: Almaty and Mangystau region, Kazakhstan\n"
        "Event: Protests continue across Kazakhstan. The government has declared a state of "
        "emergency with a curfew from 11:00 p.m. to 7:00 a.m. in Almaty. Internet access is "
        "disrupted."
    )
    assert "Assistance" not in item.summary and "Avoid demonstrations" not in item.summary
    assert item.kind is AlertKind.CURFEW
    # The whole alert, for the curfew reader: the place may be named in another sentence.
    assert item.curfew_text == (
        "Almaty and Mangystau region, Kazakhstan\n"
        "Protests continue across Kazakhstan. The government has declared a state of emergency "
        "with a curfew from 11:00 p.m. to 7:00 a.m. in Almaty. Internet access is disrupted.\n"
        "• Avoid demonstrations.\n"
        "• Comply with the curfew.\n"
        "• Monitor local media for updates."
    )
    assert (item.level, item.level_label) == (None, None)


def test_key_is_the_link_without_scheme_or_trailing_slash() -> None:
    [item] = parse(EmbassyItem("Security Alert", KAZAKHSTAN_ALERT))
    assert item.key == "kz.usembassy.gov/security-alert-u-s-mission-kazakhstan-january-5-2022"
    assert item.url.startswith("https://")


def test_reused_title_different_alert_is_a_different_key() -> None:
    first, second = parse(
        EmbassyItem("Security Alert – U.S. Mission Kazakhstan", KAZAKHSTAN_ALERT, link="https://kz.usembassy.gov/alert-1/"),
        EmbassyItem("Security Alert – U.S. Mission Kazakhstan", KAZAKHSTAN_ALERT, link="https://kz.usembassy.gov/alert-2/"),
    )  # fmt: skip
    assert first.key != second.key


def test_assistance_changes_do_not_change_the_fingerprint() -> None:
    moved = KAZAKHSTAN_ALERT.replace("+7 (7172) 70-21-00", "+7 (7172) 70-99-99")
    reworded = KAZAKHSTAN_ALERT.replace("Internet access is disrupted.", "Flights resumed.")
    link = EmbassyItem("x", "x").link
    [original] = parse(EmbassyItem("Security Alert", KAZAKHSTAN_ALERT))
    [new_phone] = parse(EmbassyItem("Security Alert", moved, link=link.replace("https", "http")))
    [new_event] = parse(EmbassyItem("Security Alert", reworded))
    assert new_phone.fingerprint == original.fingerprint
    assert new_phone.key == original.key
    assert new_event.fingerprint != original.fingerprint


def alert_dated(letter: str, pub_date: str) -> EmbassyItem:
    link = f"https://kz.usembassy.gov/{letter}/"
    return EmbassyItem(letter, KAZAKHSTAN_ALERT, link=link, pub_date=pub_date)


def test_published_is_aware_utc_and_only_when_plausible() -> None:
    good, epoch, future = parse(
        alert_dated("a", "Wed, 05 Jan 2022 15:12:33 +0600"),
        alert_dated("b", "Thu, 01 Jan 1970 00:00:00 +0000"),
        alert_dated("c", "Fri, 01 Jan 2027 00:00:00 +0000"),
    )
    assert good.published == datetime(2022, 1, 5, 9, 12, 33, tzinfo=UTC)
    assert epoch.published is None
    assert future.published is None


def test_departure_alert() -> None:
    content = (
        "<p><strong>Location:</strong> Khartoum, Sudan</p>"
        "<p><strong>Event:</strong> The Department of State ordered the departure of U.S. "
        "direct hire employees and eligible family members from Embassy Khartoum.</p>"
    )
    [item] = parse(
        EmbassyItem("Security Alert", content), url="https://sd.usembassy.gov/category/alert/feed/"
    )
    assert (item.country, item.kind, item.departure) == ("SD", AlertKind.DEPARTURE, True)


def test_plain_security_alert_without_sections() -> None:
    content = "<p>Demonstrations are planned near the Embassy on&nbsp;Friday.</p>"
    [item] = parse(EmbassyItem("Demonstration Alert: Astana", content))
    assert item.kind is AlertKind.SECURITY and not item.departure
    assert item.summary == "Demonstrations are planned near the Embassy on Friday."


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://kz.usembassy.gov/category/alert/feed/", "KZ"),
        ("https://uk.usembassy.gov/category/alert/feed/", "GB"),
        ("http://www.ng.usembassy.gov/feed", "NG"),
        ("https://example.org/feed", None),
        ("/tmp/saved-feed.xml", None),
    ],
)
def test_country_from_embassy_host(url: str, code: str | None) -> None:
    assert country_from_url(url) == code


def test_country_argument_wins_and_unknown_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    [bound] = parse(EmbassyItem("Alert", KAZAKHSTAN_ALERT), url="/tmp/x.xml", country="Mali")
    assert bound.country == "ML"
    with caplog.at_level(logging.WARNING):
        [unbound] = parse(
            EmbassyItem("Alert for nobody", KAZAKHSTAN_ALERT, link="https://example.org/a"),
            url="/tmp/x.xml",
        )
    assert unbound.country is None
    assert "Alert for nobody" in caplog.text


def test_sections_with_labels_on_their_own_lines() -> None:
    text = "Intro line\nLocation:\nShymkent\nEvents: Rally.\nMore.\nActions to take:\n• Avoid"
    assert split_sections(text) == {
        "Location": "Shymkent",
        "Event": "Rally.\nMore.",
        "Actions to Take": "• Avoid",
    }
