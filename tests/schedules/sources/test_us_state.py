"""The State Department feed: countries, levels, quirks of titles, tags and dates."""

from __future__ import annotations

import logging
from datetime import date, time

import pycountry
import pytest

from schedules.curfew_text import find_curfews
from schedules.sources.base import AlertKind, FeedItem, SourceKind
from schedules.sources.parse import parse_feed
from schedules.sources.us_state import TitleParts, country_for, parse_title
from tests.schedules.sources.samples import (
    FETCHED_AT,
    STATE_PAGE,
    STATE_URL,
    StateItem,
    state_feed,
)


def parse(*items: StateItem, old_layout: bool = False) -> list[FeedItem]:
    body = state_feed(*items, old_layout=old_layout)
    return parse_feed(SourceKind.US_STATE, body, url=STATE_URL, fetched_at=FETCHED_AT)


INCREASED = "Exercise Increased Caution"
NORMAL = "Exercise Normal Precautions"
CHINA = "Mainland China, Hong Kong & Macau"


@pytest.mark.parametrize(
    ("title", "name", "level", "label"),
    [
        (f"Maldives - Level 2: {INCREASED}", "Maldives", 2, INCREASED),
        (f"Kenya  - Level 2: {INCREASED}", "Kenya", 2, INCREASED),
        (f"Mexico Travel Advisory - Level 2: {INCREASED}", "Mexico", 2, INCREASED),
        ("Haiti – Level 4: Do Not Travel", "Haiti", 4, "Do Not Travel"),
        ("Chad — Level 3: reconsider travel", "Chad", 3, "Reconsider Travel"),
        ("Guinea-Bissau - Level 3: Reconsider Travel", "Guinea-Bissau", 3, "Reconsider Travel"),
        (f"{CHINA} - See Summaries - Level 3: Reconsider Travel", CHINA, 3, "Reconsider Travel"),
        ("Iceland - level 1: exercise normal precautions", "Iceland", 1, NORMAL),
    ],
)
def test_title_variants(title: str, name: str, level: int, label: str) -> None:
    assert parse_title(title) == TitleParts(name, level, label)


def test_level_from_threat_level_when_the_title_has_none() -> None:
    parts = parse_title("Somewhere", threat_level="Level 3: Reconsider Travel")
    assert (parts.name, parts.level, parts.level_label) == ("Somewhere", 3, "Reconsider Travel")
    caution = parse_title("Worldwide Caution - Caution", threat_level="Caution")
    assert (caution.name, caution.level, caution.level_label) == (
        "Worldwide Caution",
        None,
        "Caution",
    )


@pytest.mark.parametrize(
    ("name", "tags", "code"),
    [
        ("Sao Tome and Principe", ["TP"], "ST"),
        ("Equatorial Guinea", ["EK"], "GQ"),
        ("United Kingdom", ["UK"], "GB"),
        ("Azerbaijan", ["AJ"], "AZ"),
        ("Cote d Ivoire", ["IV"], "CI"),
        ("Senegal", ["SG"], "SN"),  # SG is Singapore in ISO
        ("Hong Kong", [], "HK"),  # no tag at all
        ("Burma (Myanmar)", ["BM"], "MM"),
        ("Mainland China, Hong Kong & Macau", ["CH"], "CN"),
        ("Israel, The West Bank and Gaza", ["IS"], "IL"),
        ("Curaçao", ["UC"], "CW"),
        ("Bonaire", ["A1"], "BQ"),
        # A wrong tag loses to the name; an unreadable name falls back to the tag.
        ("Kazakhstan", ["AS"], "KZ"),
        ("Republic of Nowhere", ["EK"], "GQ"),
        ("Republic of Nowhere", ["ZZ"], None),
        ("French West Indies", ["A3"], None),
    ],
)
def test_country_by_name_then_gec_tag(name: str, tags: list[str], code: str | None) -> None:
    assert country_for(name, tags) == code


# The Country-Tag is the State Department's GEC code, never ISO: read as ISO, SG would send
# Senegal's advisory to the staff in Singapore.
GEC_TAGS = [
    ("SG", "Senegal", "Senegall", "SN"),
    ("SN", "Singapore", "Singapour", "SG"),
    ("GM", "Germany", "Germnay", "DE"),
    ("UK", "United Kingdom", "Untied Kingdom", "GB"),
    ("KZ", "Kazakhstan", "Kazakstan", "KZ"),  # here the codes agree
    ("AS", "Australia", "Austrailia", "AU"),  # American Samoa in ISO
]


@pytest.mark.parametrize(("tag", "name", "misspelt", "code"), GEC_TAGS)
def test_gec_tag_maps_an_unreadable_title_to_the_right_country(
    tag: str, name: str, misspelt: str, code: str
) -> None:
    readable, unreadable, lower_tag = parse(
        StateItem(f"{name} - Level 2: {INCREASED}", tag=tag, slug="a"),
        StateItem(f"{misspelt} - Level 2: {INCREASED}", tag=tag, slug="b"),
        StateItem(f"Level 2: {INCREASED}", tag=tag.lower(), slug="c"),
    )
    assert (readable.country, unreadable.country, lower_tag.country) == (code, code, code)


@pytest.mark.parametrize(("tag", "name", "misspelt", "code"), GEC_TAGS)
def test_country_for_reads_gec_tags_not_iso(tag: str, name: str, misspelt: str, code: str) -> None:
    assert country_for(name, [tag]) == code
    assert country_for(misspelt, [tag]) == code
    assert country_for(misspelt, ["ZZ", tag]) == code  # the first tag that means something
    assert country_for(misspelt, []) is None


def test_items_carry_country_level_label_and_text() -> None:
    [item] = parse(
        StateItem(
            "Sao Tome and Principe - Level 2: Exercise Increased Caution",
            description=(
                "<p><b><i>Reissued with&nbsp;updates.</i></b></p>\n"
                "<p>Exercise increased caution in Sao Tome&#8217;s capital due to "
                "<b>crime</b>.</p><ul><li>Enroll in&nbsp;STEP.</li></ul>"
            ),
            tag="TP",
            slug="sao-tome-and-principe",
        )
    )
    assert item.key == "ST"
    assert item.country == "ST"
    assert (item.level, item.level_label) == (2, "Exercise Increased Caution")
    assert item.kind is AlertKind.ADVISORY and not item.departure
    assert item.summary == (
        "Reissued with updates.\n"
        "Exercise increased caution in Sao Tome’s capital due to crime.\n"
        "• Enroll in STEP."
    )
    assert item.url.endswith("/sao-tome-and-principe-travel-advisory.html")
    assert item.curfew_text is None


def test_pub_date_is_never_trusted() -> None:
    items = parse(
        StateItem(f"Iceland - Level 1: {NORMAL}", tag="IC", pub_date="Thu, 01 Jan 1970"),
        StateItem("Chad - Level 3: Reconsider Travel", tag="CD", pub_date="Mon, 06 Oct 2025"),
    )
    assert [item.published for item in items] == [None, None]


def test_departure_prose_and_level_four_are_departures() -> None:
    staff = StateItem(
        "Burma (Myanmar) - Level 3: Reconsider Travel",
        description="<p>On February 14, the Department authorized the voluntary departure of "
        "non-emergency U.S.&nbsp;government employees.</p>",
        tag="BM",
    )
    lifted = StateItem(
        "Iraq - Level 3: Reconsider Travel",
        description="<p><b><i>Updated to reflect the lifting of ordered departure of "
        "non-emergency U.S. government personnel.</i></b></p>",
        tag="IZ",
    )
    level4 = StateItem("Syria - Level 4: Do Not Travel", tag="SY")
    burma, iraq, syria = parse(staff, lifted, level4)
    assert (burma.kind, burma.departure) == (AlertKind.DEPARTURE, True)
    assert (iraq.kind, iraq.departure) == (AlertKind.ADVISORY, False)
    assert (syria.kind, syria.departure) == (AlertKind.DEPARTURE, True)


def test_an_alert_with_a_curfew_keeps_its_whole_text_for_the_curfew_reader() -> None:
    [item] = parse(
        StateItem(
            "Nepal - Level 3: Reconsider Travel",
            description="<p>Protests continue.&nbsp;Local authorities have declared curfews in "
            "Kathmandu and Pokhara.</p><ul><li>Obey all curfews.</li></ul>",
            tag="NP",
        )
    )
    assert item.kind is AlertKind.CURFEW
    # The places, times and dates of a curfew are often in the sentences around it.
    assert item.curfew_text == (
        "Protests continue. Local authorities have declared curfews in Kathmandu and Pokhara.\n"
        "• Obey all curfews."
    )


def test_fingerprint_survives_link_scheme_layout_and_spacing_changes() -> None:
    description = "<p>Reconsider travel&nbsp;to Chad due to <b>crime</b>.</p>"
    respaced = "\n<p>Reconsider travel to  Chad due to <b>crime</b>.</p>\n"
    [new] = parse(StateItem("Chad - Level 3: Reconsider Travel", description, tag="CD"))
    [old] = parse(
        StateItem(
            "Chad  - Level 3: reconsider travel",
            respaced,
            tag="CD",
            scheme="http",
            pub_date="Thu, 01 Jan 1970",
        ),
        old_layout=True,
    )
    assert old.url.startswith("http://") and new.url.startswith("https://")
    assert (old.key, old.fingerprint) == (new.key, new.fingerprint)


def test_fingerprint_changes_with_the_text_or_the_level() -> None:
    base = StateItem("Chad - Level 3: Reconsider Travel", "<p>Crime.</p>", tag="CD")
    [original] = parse(base)
    [reworded] = parse(StateItem(base.title, "<p>Crime and terrorism.</p>", tag="CD"))
    [raised] = parse(StateItem("Chad - Level 4: Do Not Travel", "<p>Crime.</p>", tag="CD"))
    assert len({original.fingerprint, reworded.fingerprint, raised.fingerprint}) == 3


def test_unknown_country_is_kept_without_a_guess_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        [item] = parse(
            StateItem("French West Indies - Level 1: Exercise Normal Precautions", tag="A3")
        )
    assert item.country is None
    assert item.key == "french west indies"
    assert "French West Indies" in caplog.text


def test_advisories_sharing_a_country_get_keys_of_their_own() -> None:
    items = parse(
        StateItem("Bonaire - Level 1: Exercise Normal Precautions", tag="A1", slug="bonaire"),
        StateItem("Saba - Level 1: Exercise Normal Precautions", tag="A1", slug="saba"),
        StateItem("Kazakhstan - Level 1: Exercise Normal Precautions", tag="KZ"),
    )
    assert [item.key for item in items] == ["BQ:bonaire", "BQ:saba", "KZ"]
    assert [item.country for item in items] == ["BQ", "BQ", "KZ"]


def test_same_name_twice_falls_back_to_the_link() -> None:
    items = parse(
        StateItem("Kazakhstan - Level 1: x", tag="KZ", slug="kazakhstan"),
        StateItem("Kazakhstan - Level 2: y", tag="KZ", scheme="http", slug="kazakhstan-north"),
    )
    assert [item.key for item in items] == [
        f"KZ:kazakhstan:{STATE_PAGE}/kazakhstan-travel-advisory.html",
        f"KZ:kazakhstan:{STATE_PAGE}/kazakhstan-north-travel-advisory.html",
    ]


def test_a_whole_feed_of_countries_parses_with_unique_keys() -> None:
    names = [country.name for country in list(pycountry.countries)[:200]]
    items = [
        StateItem(f"{name} - Level {n % 4 + 1}: x", f"<p>{n}</p>") for n, name in enumerate(names)
    ]
    parsed = parse(*items)
    assert len(parsed) == 200
    assert len({item.key for item in parsed}) == 200
    assert [item.country for item in parsed] == [
        country.alpha_2 for country in list(pycountry.countries)[:200]
    ]


def test_a_title_without_level_or_threat_level_has_no_label() -> None:
    assert parse_title("Worldwide Caution - Caution") == TitleParts("Worldwide Caution", None, None)
    [item] = parse(StateItem("Worldwide Caution - Caution", tag=None))
    assert (item.level, item.level_label) == (None, None)


def test_the_threat_level_category_gives_the_level_a_title_lacks() -> None:
    [item] = parse(
        StateItem("Kazakhstan", tag="KZ", threat_level="Level 3: Reconsider Travel"),
        old_layout=True,
    )
    assert (item.key, item.level, item.level_label) == ("KZ", 3, "Reconsider Travel")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Mainland China, Hong Kong & Macau", "CN"),
        ("Israel, The West Bank and Gaza", "IL"),
        ("Sint Eustatius", "BQ"),
        ("Saint Barthelemy", "BL"),
        ("Burma (Myanmar)", "MM"),
        ("Georgia (the country)", "GE"),
    ],
)
def test_state_department_names_resolve_without_a_tag(name: str, code: str) -> None:
    assert country_for(name, []) == code


def test_no_country_is_logged_with_the_title_and_tags(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parse(StateItem(f"French West Indies - Level 1: {NORMAL}", tag="A3"))
    assert caplog.messages == [
        f"no country for State Department advisory 'French West Indies - Level 1: {NORMAL}' "
        "(tags ['A3'])"
    ]


def test_an_advisory_without_a_name_is_keyed_by_its_link() -> None:
    [item] = parse(StateItem(f"- Level 2: {INCREASED}", slug="unnamed"))
    assert (item.country, item.key) == (None, f"{STATE_PAGE}/unnamed-travel-advisory.html")


def test_an_advisory_without_a_link_points_at_its_guid() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Advisories</title>'
        b"<item><title>Chad - Level 3: Reconsider Travel</title>"
        b'<guid isPermaLink="false">chad-advisory-2025</guid>'
        b"<description>Crime.</description></item></channel></rss>"
    )
    [item] = parse_feed(SourceKind.US_STATE, body, url=STATE_URL, fetched_at=FETCHED_AT)
    assert (item.key, item.url) == ("TD", "chad-advisory-2025")


def test_an_advisory_links_to_its_page_not_its_guid() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Kazakhstan - Level 2: Exercise Increased Caution</title>"
        b"<link>https://travel.state.gov/kazakhstan-advisory.html</link>"
        b'<guid isPermaLink="false">advisory-kz-2025</guid>'
        b"<description>&lt;p&gt;Exercise increased caution.&lt;/p&gt;</description>"
        b"</item></channel></rss>"
    )
    (item,) = parse_feed(SourceKind.US_STATE, body, url=STATE_URL, fetched_at=FETCHED_AT)
    assert (item.country, item.url) == ("KZ", "https://travel.state.gov/kazakhstan-advisory.html")


def test_a_curfew_whose_times_and_place_follow_in_other_sentences_is_read_from_the_alert() -> None:
    [item] = parse(
        StateItem(
            "Kazakhstan - Level 4: Do Not Travel",
            description="<p>The government declared a state of emergency and a curfew on "
            "January 5.</p><p>It applies in Almaty from 11:00 p.m. to 7:00 a.m. local time "
            "and will remain in place until January 19.</p>",
            tag="KZ",
        )
    )
    assert item.curfew_text is not None
    [found] = find_curfews(item.curfew_text, reference=date(2022, 1, 6), country="KZ")
    assert (found.window.start, found.window.end) == (time(23, 0), time(7, 0))
    assert found.until == date(2022, 1, 19)
    assert found.area is not None and "Almaty" in found.area
