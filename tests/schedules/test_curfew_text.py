"""Tests for schedules.curfew_text: curfews found in advisory prose (texts written here)."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.curfew_text import find_curfews, parse_report, read_alert, utc_check
from schedules.curfew_times import Window

EARLY_JAN_2022 = date(2022, 1, 6)
NIGHT = Window(time(23, 0), time(7, 0))


def windows(text: str, reference: date = EARLY_JAN_2022) -> list[Window]:
    return [found.window for found in find_curfews(text, reference=reference)]


@pytest.mark.parametrize(
    "text",
    [
        "A curfew is in force from 2300 to 0700 each night.",
        "The curfew runs 23:00 to 07:00.",
        "Curfew hours: 23.00-07.00.",
        "A curfew applies from 2300 hrs to 0700 hrs.",
        "Residents must observe a curfew from 11pm to 7am.",
        "There is a curfew between the hours of 11 p.m. and 7 a.m. daily.",
        "The governor declared a curfew from 11pm until 7am.",
        "Curfew: 23:00–07:00 local time.",
        "A night-time curfew (2300hrs-0700hrs) remains.",
        "CURFEW IN FORCE 2300-0700 UNTIL FURTHER NOTICE.",
        "Curfews\nare enforced from 23:00\nto 07:00 in the city centre.",
    ],
)
def test_finds_one_window_in_many_phrasings(text: str) -> None:
    assert windows(text) == [NIGHT]


def test_twelve_hour_times_with_minutes() -> None:
    assert windows("A curfew is in place from 11:30pm to 5:15 a.m.") == [
        Window(time(23, 30), time(5, 15))
    ]


def test_two_windows_in_one_text_with_their_own_areas_and_dates() -> None:
    text = (
        "Officials have set a curfew from 22:00 to 06:00 in Northport until 14 January, "
        "and from 21:00 to 05:00 in Eastbridge until 20 January. Roads may close."
    )
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.until, f.area) for f in found] == [
        (Window(time(22, 0), time(6, 0)), date(2022, 1, 14), "Northport"),
        (Window(time(21, 0), time(5, 0)), date(2022, 1, 20), "Eastbridge"),
    ]


def test_windows_in_separate_sentences_and_clauses() -> None:
    text = (
        "In Northport, a curfew runs from 2200 to 0500; in Eastbridge the curfew is from "
        "2100 to 0600. A separate curfew from midnight to 4am covers the port area."
    )
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.area) for f in found] == [
        (Window(time(22, 0), time(5, 0)), "Northport"),
        (Window(time(21, 0), time(6, 0)), "Eastbridge"),
        (Window(time(0, 0), time(4, 0)), None),
    ]
    assert found[2].sentence == "A separate curfew from midnight to 4am covers the port area."


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("Curfew from 2300 to 0700 (1700-0100 UTC).", Window(time(17), time(1))),
        ("Curfew 23:00–07:00 local (17:00–01:00 UTC).", Window(time(17), time(1))),
        ("Curfew 23:00-07:00 [UTC: 17:00-01:00].", Window(time(17), time(1))),
        ("Curfew 23:00-07:00 local time, 17:00-01:00 GMT.", Window(time(17), time(1))),
        ("Curfew from 11pm to 7am (1700 UTC to 0100 UTC).", Window(time(17), time(1))),
        ("Curfew from 2300 to 0700.", None),
    ],
)
def test_stated_utc_window(text: str, stated: Window | None) -> None:
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc) for f in found] == [(NIGHT, stated)]


def test_utc_first_with_local_in_brackets() -> None:
    found = find_curfews("Curfew 1700-0100 UTC (2300-0700 local).", reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc) for f in found] == [(NIGHT, Window(time(17), time(1)))]


def test_window_given_only_in_utc_is_left_out() -> None:
    assert windows("A curfew applies from 1700 to 0100 UTC.") == []


@pytest.mark.parametrize(
    ("text", "reference", "until"),
    [
        ("Curfew 2300-0700 until at least January 19.", date(2022, 1, 3), date(2022, 1, 19)),
        ("Curfew 2300-0700 until at least January 19.", date(2022, 1, 19), date(2022, 1, 19)),
        ("Curfew 2300-0700 until at least January 19.", date(2022, 1, 20), date(2023, 1, 19)),
        ("Curfew 2300-0700 until 19 January.", date(2021, 12, 30), date(2022, 1, 19)),
        ("Curfew 2300-0700 until 19 January 2022.", date(2025, 6, 1), date(2022, 1, 19)),
        ("Curfew 2300-0700 until January 19th, 2022.", date(2025, 6, 1), date(2022, 1, 19)),
        ("Curfew 2300-0700 until Wednesday 19 Jan.", date(2022, 1, 3), date(2022, 1, 19)),
        ("Curfew 2300-0700 until 2022-01-19.", date(2025, 6, 1), date(2022, 1, 19)),
        (
            "Until 19 January, a curfew applies from 2300 to 0700.",
            EARLY_JAN_2022,
            date(2022, 1, 19),
        ),
        ("Curfew 2300-0700 until 29 February.", date(2022, 1, 3), date(2024, 2, 29)),
        ("Curfew 2300-0700 until further notice.", EARLY_JAN_2022, None),
        ("Curfew 2300-0700 until 31 February.", EARLY_JAN_2022, None),
    ],
)
def test_end_date_resolved_against_reference(
    text: str, reference: date, until: date | None
) -> None:
    found = find_curfews(text, reference=reference)
    assert [f.until for f in found] == [until]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The situation in the capital is calm. Shops open from 09:00 to 17:00.",
        "Flights leave between 2300 and 0700 hrs.",  # times, but no curfew
        "A curfew has been announced; times will follow.",  # curfew, but no times
        "The curfew was announced at 14:00 on Monday.",  # one time is not a window
        "The curfew, in place from 2020-2021, was lifted.",  # years, not 20:20 to 20:21
        "Curfew from 25:00 to 07:00.",  # impossible time
        "Curfew from 10 to 19 January.",  # dates, not times
    ],
)
def test_no_curfew_window(text: str) -> None:
    assert find_curfews(text, reference=EARLY_JAN_2022) == []


def test_curfew_window_only_in_curfew_sentences() -> None:
    text = (
        "Offices are open 09:00-17:00. A curfew from 2300 to 0700 is in force. "
        "Taxis run 06:00-22:00."
    )
    assert windows(text) == [NIGHT]


def test_exact_repeats_are_reported_once() -> None:
    text = "CURFEW 2300-0700.\n\nA curfew is in force from 2300 to 0700."
    assert windows(text) == [NIGHT]


def test_country_is_not_taken_for_the_area() -> None:
    text = "Authorities in Kazakhstan set a curfew in Almaty from 2300 to 0700."
    assert [f.area for f in find_curfews(text, reference=EARLY_JAN_2022)] == ["Almaty"]


@given(text=st.text(max_size=400), reference=st.dates())
def test_find_curfews_never_raises_on_any_text(text: str, reference: date) -> None:
    for found in find_curfews(text, reference=reference):
        # Only a sentence that mentions a curfew is read, and it is quoted from the text.
        assert "curfew" in found.sentence.lower()
        assert found.window.start != found.window.end


_PIECES = st.sampled_from(
    [
        "curfew ",
        "2300",
        "23:00",
        "-",
        " to ",
        "11pm",
        " a.m.",
        "(",
        ")",
        " UTC",
        " until ",
        "at least ",
        "29 February",
        "January 19",
        " 9999",
        " in Almaty",
        ". ",
        "\n\n",
        ", and ",
        "24:00",
        "between ",
        " and ",
    ]
)


@given(pieces=st.lists(_PIECES, max_size=25), reference=st.dates())
def test_find_curfews_never_raises_on_curfew_like_text(pieces: list[str], reference: date) -> None:
    for found in find_curfews("".join(pieces), reference=reference):
        assert found.window.start != found.window.end


# --- utc_check and parse_report ------------------------------------------------------

ALMATY_TEXT = (
    "Authorities have declared a curfew in Almaty from 2300 hrs to 0700 hrs "
    "(1700-0100 UTC) until at least January 19."
)


def test_utc_check() -> None:
    [found] = find_curfews(ALMATY_TEXT, reference=EARLY_JAN_2022)
    assert utc_check(found, "Asia/Almaty", date(2022, 1, 6)) is True
    # The same text copied into a 2025 advisory is wrong: Almaty is UTC+5 now.
    assert utc_check(found, "Asia/Almaty", date(2025, 1, 6)) is False
    [plain] = find_curfews("A curfew from 2300 to 0700.", reference=EARLY_JAN_2022)
    assert utc_check(plain, "Asia/Almaty", date(2022, 1, 6)) is None


@pytest.mark.parametrize(
    ("stated", "matches"),
    [
        ("1700-0100 UTC", True),  # both right for UTC+6
        ("1700-0200 UTC", False),  # only the end is wrong
        ("1600-0100 UTC", False),  # only the start is wrong
        ("1800-0200 UTC", False),  # both wrong: last year's UTC+5 reading
    ],
)
def test_utc_check_compares_both_ends_of_the_stated_window(stated: str, matches: bool) -> None:
    # Almaty on 6 January 2022 was UTC+6: 23:00-07:00 local is 17:00-01:00 UTC.
    text = f"A curfew is in force in Almaty 2300-0700 local time ({stated})."
    [found] = find_curfews(text, reference=EARLY_JAN_2022)
    assert found.window == NIGHT
    assert utc_check(found, "Asia/Almaty", EARLY_JAN_2022) is matches


@pytest.mark.parametrize(
    ("text", "stated", "matches"),
    [
        (
            "Curfew in Almaty 23:00-07:00 (17:00-01:00 UTC).",
            {"start": "17:00", "end": "01:00"},
            True,
        ),
        (
            "Curfew in Almaty 23:00-07:00 (17:00-02:00 UTC).",
            {"start": "17:00", "end": "02:00"},
            False,
        ),
        (
            "Curfew in Almaty 23:00-07:00 (16:00-01:00 UTC).",
            {"start": "16:00", "end": "01:00"},
            False,
        ),
    ],
)
def test_parse_report_flags_a_stated_utc_window_wrong_at_either_end(
    text: str, stated: dict[str, str], matches: bool
) -> None:
    assert parse_report(text, country="KZ", day=EARLY_JAN_2022) == [
        {
            "start": "23:00",
            "end": "07:00",
            "zone": "Asia/Almaty",
            "start_utc": "17:00",
            "end_utc": "01:00",
            "until": None,
            "from": None,
            "stated_utc": stated,
            "utc_matches": matches,
            "place": "Almaty",
            "days": None,
            "zones": ["Asia/Almaty"],
        }
    ]


def test_parse_report_exact_output() -> None:
    report = parse_report(ALMATY_TEXT, country="KZ", day=date(2022, 1, 6))
    assert report == [
        {
            "start": "23:00",
            "end": "07:00",
            "zone": "Asia/Almaty",
            "start_utc": "17:00",
            "end_utc": "01:00",
            "until": "2022-01-19",
            "from": None,
            "stated_utc": {"start": "17:00", "end": "01:00"},
            "utc_matches": True,
            "place": "Almaty",
            "days": None,
            "zones": ["Asia/Almaty"],
        }
    ]


def test_parse_report_flags_a_wrong_stated_utc_window() -> None:
    text = "A curfew in Almaty from 23:00 to 07:00 (17:00–01:00 UTC) until 19 January."
    [row] = parse_report(text, country="Kazakhstan", day=date(2025, 1, 6))
    assert (row["start_utc"], row["end_utc"]) == ("18:00", "02:00")
    assert row["stated_utc"] == {"start": "17:00", "end": "01:00"}
    assert row["utc_matches"] is False
    assert row["until"] == "2025-01-19"


def test_parse_report_zone_from_area_named_anywhere_in_sentence() -> None:
    text = "Oral and its suburbs are under curfew from 2200 to 0600."
    [row] = parse_report(text, country="KZ", day=date(2025, 1, 6))
    assert row["zone"] == "Asia/Oral"


def test_parse_report_zone_argument_wins() -> None:
    [row] = parse_report(ALMATY_TEXT, country="KZ", day=date(2022, 1, 6), zone="Asia/Oral")
    assert row["zone"] == "Asia/Oral"
    assert (row["start_utc"], row["utc_matches"]) == ("18:00", False)


def test_parse_report_single_zone_country_needs_no_area() -> None:
    [row] = parse_report("Curfew 2300-0700 nationwide.", country="Kenya", day=date(2025, 1, 6))
    assert (row["zone"], row["start_utc"], row["end_utc"]) == ("Africa/Nairobi", "20:00", "04:00")


def test_parse_report_a_place_the_gazetteer_knows_decides_the_zone() -> None:
    # Astana has no zone of its own; GeoNames puts it in Asia/Almaty.
    [row] = parse_report(
        "A curfew from 2300 to 0700 in Astana.", country="KZ", day=date(2022, 1, 6)
    )
    assert (row["zone"], row["place"], row["zones"]) == ("Asia/Almaty", "Astana", ["Asia/Almaty"])


def test_parse_report_nationwide_with_different_offsets_gives_one_window_per_offset() -> None:
    # On 6 January 2022 Kazakhstan had UTC+6 (Almaty, Qostanay) and UTC+5 (the west).
    rows = parse_report("A nationwide curfew runs 2300-0700.", country="KZ", day=EARLY_JAN_2022)
    assert [(r["zone"], r["start_utc"], r["zones"]) for r in rows] == [
        ("Asia/Almaty", "17:00", ["Asia/Almaty", "Asia/Qostanay"]),
        (
            "Asia/Qyzylorda",
            "18:00",
            ["Asia/Qyzylorda", "Asia/Aqtobe", "Asia/Aqtau", "Asia/Atyrau", "Asia/Oral"],
        ),
    ]
    # Since March 2024 the whole country is UTC+5: one window, no question.
    [row] = parse_report("A nationwide curfew runs 2300-0700.", country="KZ", day=date(2025, 1, 6))
    assert isinstance(row["zones"], list)
    assert (row["zone"], row["start_utc"], len(row["zones"])) == ("Asia/Almaty", "18:00", 7)


def test_parse_report_rejects_unknown_country_and_zone() -> None:
    with pytest.raises(ValueError, match="unknown country"):
        parse_report(ALMATY_TEXT, country="Atlantis", day=date(2025, 1, 6))
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_report(ALMATY_TEXT, country="KZ", day=date(2025, 1, 6), zone="Asia/Atlantis")


def test_parse_report_no_curfew_is_empty() -> None:
    assert parse_report("All calm.", country="KZ", day=date(2025, 1, 6)) == []


# --- years, end dates and their limits ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The curfew of 2030-2040 is planned.", []),  # ten years apart: a span of years
        ("The curfew of 1930-1940 is history.", []),
        ("The curfew of 2019-2020 ended.", []),
        ("Curfew 2030-2041.", [Window(time(20, 30), time(20, 41))]),  # eleven apart: times
        ("Curfew 2100-2105.", [Window(time(21, 0), time(21, 5))]),  # no year starts with 21
        ("Curfew 1830-1835.", [Window(time(18, 30), time(18, 35))]),
        ("Curfew 2040-2030.", [Window(time(20, 40), time(20, 30))]),  # backwards: times
        ("Curfew 20pm-10am.", []),  # four characters, not digits: not years, and no time
        ("The curfew, in place since 2020-2021, runs 2300-0700.", [NIGHT]),
        ("Curfew 2030-20:40.", [Window(time(20, 30), time(20, 40))]),
        ("Curfew 20:30-2040.", [Window(time(20, 30), time(20, 40))]),
    ],
)
def test_a_span_of_years_is_not_a_window(text: str, found: list[Window]) -> None:
    assert windows(text) == found


@pytest.mark.parametrize(
    ("text", "reference", "until"),
    [
        ("Curfew 23:00-07:00 until 19 January 2032.", EARLY_JAN_2022, date(2032, 1, 19)),
        ("Curfew 23:00-07:00 until 19 January 2033.", EARLY_JAN_2022, None),
        ("Curfew 23:00-07:00 until 19 January 2012.", EARLY_JAN_2022, date(2012, 1, 19)),
        ("Curfew 23:00-07:00 until 19 January 2011.", EARLY_JAN_2022, None),
        ("Curfew 23:00-07:00 until 19 January 0000.", EARLY_JAN_2022, None),
        ("Curfew 23:00-07:00 until 2022-02-30.", EARLY_JAN_2022, None),
        # 2100 is not a leap year: the next 29 February after March 2096 is in 2104.
        ("Curfew 23:00-07:00 until 29 February.", date(2096, 3, 1), date(2104, 2, 29)),
        ("Curfew 23:00-07:00 until 19 January.", date(9999, 6, 1), None),
    ],
)
def test_end_dates_far_from_the_text_date_are_dropped(
    text: str, reference: date, until: date | None
) -> None:
    found = find_curfews(text, reference=reference)
    assert [(f.window, f.until) for f in found] == [(NIGHT, until)]


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("Curfew 2300-0700 local time (1700-0100 UTC).", Window(time(17), time(1))),
        ("Curfew 1700Z-0100Z / 2300-0700 local.", Window(time(17), time(1))),
        ("Curfew 2300-0700 (1700-0100 Zulu).", Window(time(17), time(1))),
        ("Curfew 2300-0700 hrs (i.e. 1700-0100 UTC).", Window(time(17), time(1))),
        ("Curfew 1700-0100 GMT, 2300-0700 local.", Window(time(17), time(1))),
        ("Curfew [see map] 2300-0700 (1700-0100 UTC).", Window(time(17), time(1))),
        ("Curfew (nightly) 2300-0700 local time (UTC: 1700-0100).", Window(time(17), time(1))),
        ("Curfew [nightly] 2300-0700 local time [UTC: 1700-0100].", Window(time(17), time(1))),
        ("Curfew (UTC times) 23:00-07:00 local.", None),
    ],
)
def test_embassy_phrasings_of_a_stated_utc_window(text: str, stated: Window | None) -> None:
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc) for f in found] == [(NIGHT, stated)]


def test_a_local_window_in_brackets_is_a_second_curfew_not_a_utc_twin() -> None:
    found = find_curfews("Curfew 2300-0700 (2200-0600 in Oral).", reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc, f.area) for f in found] == [
        (NIGHT, None, None),
        (Window(time(22), time(6)), None, "Oral"),
    ]


def test_each_window_keeps_its_own_utc_twin_area_and_end_date() -> None:
    text = (
        "Curfew 2300-0700 local time (1700-0100 UTC) in Almaty until 19 January; "
        "curfew 2200-0600 in Oral until 20 January."
    )
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc, f.area, f.until) for f in found] == [
        (NIGHT, Window(time(17), time(1)), "Almaty", date(2022, 1, 19)),
        (Window(time(22), time(6)), None, "Oral", date(2022, 1, 20)),
    ]
    assert {f.sentence for f in found} == {text}


@pytest.mark.parametrize(
    ("text", "areas"),
    [
        ("The curfew in the city of Almaty runs 2300-0700.", ["Almaty"]),
        ("The curfew across the Almaty Region runs 2300-0700.", ["Almaty Region"]),
        ("The curfew in January in Almaty runs 2300-0700.", ["Almaty"]),
        ("A curfew runs 2300-0700 in Almaty, and 2200-0600 in Oral.", ["Almaty", "Oral"]),
        ("A curfew runs 2300-0700, but 2200-0600 in Oral.", [None, "Oral"]),
        ("A curfew in Almaty runs 2300-0700 and 2200-0600.", ["Almaty", "Almaty"]),
        ("Curfew 2300-0700 in Kazakhstan.", [None]),
        # A capitalised time after "in" is the window itself, not a place.
        ("The curfew is in Midnight to 5am.", [None]),
        ("The curfew runs 2300-0700 and in Midnight to 0500.", [None, None]),
    ],
)
def test_area_belongs_to_the_window_next_to_it(text: str, areas: list[str | None]) -> None:
    assert [f.area for f in find_curfews(text, reference=EARLY_JAN_2022)] == areas


def test_a_sentence_is_split_after_its_full_stop() -> None:
    text = "Shops close early. Dr. Smith said a curfew runs 2300-0700. Stay in."
    [found] = find_curfews(text, reference=EARLY_JAN_2022)
    assert found.sentence == "Smith said a curfew runs 2300-0700."


@pytest.mark.parametrize(
    ("text", "zones"),
    [
        (
            "A curfew in Oral runs 2300-0700; in Almaty, a curfew from 2200 to 0600.",
            ["Asia/Oral", "Asia/Almaty"],
        ),
        (
            "A curfew in Almaty runs 2300-0700; in Oral, a curfew from 2200 to 0600.",
            ["Asia/Almaty", "Asia/Oral"],
        ),
    ],
)
def test_parse_report_zone_of_each_window_is_that_of_its_own_area(
    text: str, zones: list[str]
) -> None:
    report = parse_report(text, country="KZ", day=date(2025, 1, 6))
    assert [row["zone"] for row in report] == zones


def test_parse_report_refusals_are_exact() -> None:
    with pytest.raises(ValueError) as raised:
        parse_report("Curfew 2300-0700 nationwide.", country="Kosovo", day=date(2025, 1, 6))
    assert str(raised.value) == "no time zone is known for Kosovo (XK)"
    # The tz database has no zone for Kosovo, but the gazetteer knows its capital's.
    [row] = parse_report("Curfew 2300-0700 in Pristina.", country="Kosovo", day=date(2025, 1, 6))
    assert row["zone"] == "Europe/Belgrade"
    with pytest.raises(ValueError) as raised:
        parse_report(ALMATY_TEXT, country="Atlantis", day=date(2025, 1, 6))
    assert str(raised.value) == "unknown country: 'Atlantis'"
    with pytest.raises(ValueError) as raised:
        parse_report(ALMATY_TEXT, country="KZ", day=date(2025, 1, 6), zone="Asia/Atlantis")
    assert str(raised.value) == "unknown time zone: 'Asia/Atlantis'"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # "UTC" elsewhere in the sentence does not make an unbracketed window UTC.
        ("The curfew, 2300-0700, was announced at 0900 UTC.", [NIGHT]),
        # A bracket that says UTC holds a UTC window; what follows the bracket is local.
        ("Curfew (UTC: 1700-0100) 2300-0700 local time.", [NIGHT]),
        ("Curfew [UTC: 1700-0100) 2300-0700 local time.", [NIGHT]),
        # A bracket saying both UTC and local is not read as UTC.
        ("Curfew (UTC) 1700-0100 [local time 2300-0700].", [Window(time(17), time(1)), NIGHT]),
        ("Curfew (UTC: 1700-0100) 2300-0700 local time (see map).", [NIGHT]),
        ("Curfew [UTC: 1700-0100] 2300-0700 local time [see map].", [NIGHT]),
        # The bracket may open the text.
        ("[UTC: 1700-0100] curfew 2300-0700 local.", [NIGHT]),
        ("(UTC: 1700-0100) curfew 2300-0700 local.", [NIGHT]),
        # Closed brackets earlier in the sentence do not put a window inside one.
        ("The curfew (nightly) (see map) runs 2300-0700, as announced at 0900 UTC.", [NIGHT]),
        ("The curfew [nightly] [see map] runs 2300-0700, as announced at 0900 UTC.", [NIGHT]),
    ],
)
def test_utc_windows_are_told_apart_by_their_own_bracket(text: str, found: list[Window]) -> None:
    assert windows(text) == found


@pytest.mark.parametrize(
    ("text", "until", "area"),
    [
        ("Curfew 11 p.m.-7 a.m.until 19 January.", date(2022, 1, 19), None),
        ("Curfew 11 p.m.-7 a.m.in Almaty.", None, "Almaty"),
    ],
)
def test_end_date_or_area_written_right_after_the_window(
    text: str, until: date | None, area: str | None
) -> None:
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.until, f.area) for f in found] == [(NIGHT, until, area)]


# One hundred characters: the longest area kept (db.models.Curfew.area).
LONGEST_AREA = "Abcdefghij" + " Abcdefghi" * 9


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("The curfew in UTC Almaty runs 2300-0700.", "Almaty"),
        ("The curfew in This Almaty runs 2300-0700.", "Almaty"),
        ("A curfew of 2300-0700 applies in Sector X.", "Sector X"),
        ("A curfew of 2300-0700 applies in Almaty- and nearby.", "Almaty"),
        (f"Curfew 2300-0700 in {LONGEST_AREA}.", LONGEST_AREA),
        (f"Curfew 2300-0700 in {LONGEST_AREA}x.", None),
    ],
)
def test_area_name_is_trimmed_and_bounded(text: str, area: str | None) -> None:
    assert [f.area for f in find_curfews(text, reference=EARLY_JAN_2022)] == [area]


def test_a_utc_twin_after_several_windows_pairs_with_the_last() -> None:
    text = (
        "A curfew runs 2300-0700 in Almaty, 2200-0600 in Oral "
        "and 2100-0500 (1600-0000 UTC) in Aqtau."
    )
    found = find_curfews(text, reference=EARLY_JAN_2022)
    assert [(f.window, f.stated_utc, f.area) for f in found] == [
        (NIGHT, None, "Almaty"),
        (Window(time(22), time(6)), None, "Oral"),
        (Window(time(21), time(5)), Window(time(16), time(0)), "Aqtau"),
    ]


# --- the whole alert -------------------------------------------------------------------


def test_times_in_the_sentence_after_the_curfew_are_its_window() -> None:
    text = "A curfew has been declared in Bishkek. Movement is limited from 20.00 to 07.00."
    [row] = parse_report(text, country="KG", day=date(2020, 3, 24))
    assert (row["start"], row["end"], row["place"]) == ("20:00", "07:00", "Bishkek")


@pytest.mark.parametrize(
    "text",
    [
        "The curfew will begin at 2100 (1900 GMT) tonight and last until 0600 (0400 GMT).",
        "The curfew runs from 21:00 local time on Friday 16 May to 06:00.",
        "Curfew from 21H00 tonight (16) until 06H00.",
    ],
)
def test_words_between_the_two_times_do_not_break_the_window(text: str) -> None:
    assert windows(text) == [Window(time(21), time(6))]


def test_each_stated_utc_end_is_checked_on_its_own() -> None:
    text = "In Almaty the curfew begins at 2300 (1700 GMT) and lasts until 0700 (0200 GMT)."
    [row] = parse_report(text, country="KZ", day=EARLY_JAN_2022)
    assert row["stated_utc"] == {"start": "17:00", "end": "02:00"}
    assert row["utc_matches"] is False


@pytest.mark.parametrize(
    "text",
    [
        "The curfew in Almaty was lifted on Monday.",
        "Authorities suspended the nightly 23:00-07:00 curfew in Almaty.",
        "A curfew is not ruled out.",
        "There is no curfew in Almaty.",
    ],
)
def test_lifted_curfews_and_mere_mentions_give_no_window(text: str) -> None:
    assert parse_report(text, country="KZ", day=EARLY_JAN_2022) == []


def test_a_lift_is_read_with_its_place() -> None:
    reading = read_alert("The curfew in Almaty was lifted.", reference=EARLY_JAN_2022, country="KZ")
    assert [(lift.area, lift.zone) for lift in reading.lifts] == [("Almaty", "Asia/Almaty")]


def test_relaxation_hours_become_the_curfew_that_is_left() -> None:
    text = "The curfew in Dhaka will be relaxed from 7 am to 8 pm daily."
    assert windows(text) == [Window(time(20), time(7))]


@pytest.mark.parametrize(
    "text",
    [
        "The curfew will start at 12 am, instead of 11 pm, and end at 5 am, instead of 6 am.",
        "The curfew was changed from 10pm-5am to 12am-5am.",
        "The curfew now runs from midnight to 5 am. It had been in force from 10 pm to 5 am.",
    ],
)
def test_the_new_window_wins(text: str) -> None:
    assert windows(text) == [Window(time(0), time(5))]


def test_weekday_and_weekend_windows_the_one_in_force_first() -> None:
    text = (
        "The curfew runs from 9 pm to 5 am Monday to Friday, and from 7 pm to 5 am on "
        "Saturdays and Sundays."
    )
    saturday = parse_report(text, country="DO", day=date(2020, 12, 5))
    assert [(r["start"], r["days"]) for r in saturday] == [
        ("19:00", ["Sat", "Sun"]),
        ("21:00", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ]
    monday = parse_report(text, country="DO", day=date(2020, 12, 7))
    assert [r["start"] for r in monday] == ["21:00", "19:00"]


def test_another_countrys_curfew_is_left_out() -> None:
    text = (
        "Kenya: a curfew from 22:00 to 04:00 applies in Lamu.\n\n"
        "Uganda: a curfew from 19:00 to 06:30 applies nationwide."
    )
    assert [r["start"] for r in parse_report(text, country="KE", day=EARLY_JAN_2022)] == ["22:00"]


def test_a_foreign_capitals_time_is_not_a_second_curfew() -> None:
    assert windows("Curfew 2300-0700 local time (0000-0800 Moscow time).") == [NIGHT]


@pytest.mark.parametrize(
    ("text", "until"),
    [
        (
            "A curfew runs from 23:00 to 07:00. It will stay in force until 19 January.",
            "2022-01-19",
        ),
        ("Curfew 23:00-07:00 through 19/01/2022.", "2022-01-19"),
        ("Curfew 23:00-07:00, extended to 30 January.", "2022-01-30"),
        ("Le couvre-feu de 23h à 7h est prolongé jusqu'au 19 janvier.", "2022-01-19"),
        ("El toque de queda de 23:00 a 07:00 rige hasta el 19 de enero.", "2022-01-19"),
    ],
)
def test_end_dates_near_the_statement(text: str, until: str) -> None:
    [row] = parse_report(text, country="KE", day=EARLY_JAN_2022)
    assert row["until"] == until


def test_a_state_decides_the_zone_in_a_multi_zone_country() -> None:
    [row] = parse_report(
        "A curfew from 8 pm to 6 am is in force in Oregon.", country="US", day=EARLY_JAN_2022
    )
    assert (row["zone"], row["place"]) == ("America/Los_Angeles", "Oregon")
