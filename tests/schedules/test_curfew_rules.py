"""Rules of the curfew reader and report, each pinned by an alert sentence (texts written
here): which window, in which zone and place, until when, with which stated UTC times."""

from __future__ import annotations

from datetime import date, time

import pytest

from schedules.curfew_text import reading, report
from schedules.curfew_text.reading import FoundCurfew
from schedules.curfew_times import Window

JAN_2022 = date(2022, 1, 6)
NIGHT = Window(time(23, 0), time(7, 0))


def _found(area: str | None, zone: str | None = None) -> FoundCurfew:
    return FoundCurfew(window=NIGHT, until=None, stated_utc=None, area=area, sentence="", zone=zone)


# --- report: zones, stated UTC times ----------------------------------------------------


def test_one_stated_utc_end_is_reported_and_checked() -> None:
    # Almaty was UTC+6 in January 2022: 23:00 local is 17:00 UTC, as the text says.
    text = "The curfew runs from 2300 (1700 UTC) to 0700 in Almaty."
    [found] = reading.find_curfews(text, reference=JAN_2022, country="KZ")
    assert (found.stated_start, found.stated_end, found.stated_utc) == (time(17), None, None)
    assert report.utc_check(found, "Asia/Almaty", JAN_2022) is True
    assert report.utc_check(found, "Asia/Aqtobe", JAN_2022) is False
    assert report.parse_report(text, country="KZ", day=JAN_2022) == [
        {
            "start": "23:00",
            "end": "07:00",
            "zone": "Asia/Almaty",
            "start_utc": "17:00",
            "end_utc": "01:00",
            "until": None,
            "from": None,
            "stated_utc": {"start": "17:00", "end": None},
            "utc_matches": True,
            "place": "Almaty",
            "days": None,
            "zones": ["Asia/Almaty"],
        }
    ]


def test_a_zone_the_text_excludes_is_not_offered() -> None:
    # Madrid and Ceuta are UTC+1 in January; the Canary Islands (UTC+0) are left out.
    text = "A curfew from 23:00 to 06:00 applies in all of Spain except the Canary Islands."
    assert report.parse_report(text, country="ES", day=JAN_2022) == [
        {
            "start": "23:00",
            "end": "06:00",
            "zone": "Europe/Madrid",
            "start_utc": "22:00",
            "end_utc": "05:00",
            "until": None,
            "from": None,
            "stated_utc": None,
            "utc_matches": None,
            "place": None,
            "days": None,
            "zones": ["Europe/Madrid", "Africa/Ceuta"],
        }
    ]


def test_the_offset_agreeing_with_the_stated_utc_window_comes_first() -> None:
    # 23:00-07:00 is 18:00-02:00 UTC only at UTC+5 (western Kazakhstan in 2022).
    text = "A nationwide curfew runs 2300-0700 local time (1800-0200 UTC)."
    rows = report.parse_report(text, country="KZ", day=JAN_2022)
    assert [(r["zone"], r["start_utc"], r["end_utc"], r["utc_matches"]) for r in rows] == [
        ("Asia/Qyzylorda", "18:00", "02:00", True),
        ("Asia/Almaty", "17:00", "01:00", False),
    ]
    assert rows[0]["zones"] == [
        "Asia/Qyzylorda",
        "Asia/Aqtobe",
        "Asia/Aqtau",
        "Asia/Atyrau",
        "Asia/Oral",
    ]
    assert rows[1]["zones"] == ["Asia/Almaty", "Asia/Qostanay"]


def test_without_a_stated_utc_window_the_capitals_offset_comes_first() -> None:
    # Moscow (UTC+3) first, though Kaliningrad (UTC+2) is listed before it.
    rows = report.parse_report("A nationwide curfew runs 2300-0600.", country="RU", day=JAN_2022)
    assert (rows[0]["zone"], rows[0]["start_utc"], rows[0]["end_utc"]) == (
        "Europe/Moscow",
        "20:00",
        "03:00",
    )
    assert rows[0]["zones"] == ["Europe/Moscow", "Europe/Kirov", "Europe/Volgograd"]
    assert len(rows) == 11


@pytest.mark.parametrize(
    ("code", "area", "zone"),
    [
        ("KZ", "Almaty", "Asia/Almaty"),
        ("EC", "Galapagos", "Pacific/Galapagos"),
        ("PG", "Bougainville", "Pacific/Bougainville"),
    ],
)
def test_an_area_the_zone_table_knows_decides_the_zone(code: str, area: str, zone: str) -> None:
    assert report.placements(_found(area), code, JAN_2022) == [[zone]]


# --- reading: place, zone, exclusions, days, dates --------------------------------------


def _read(text: str, country: str | None = "KZ") -> list[tuple[object, ...]]:
    return [
        (f.window, f.until, f.area, f.zone, f.days, f.excluded)
        for f in reading.find_curfews(text, reference=JAN_2022, country=country)
    ]


ALMATY_NIGHT = (NIGHT, None, "Almaty", "Asia/Almaty", None, ())
SPAIN = Window(time(23), time(6))


@pytest.mark.parametrize(
    ("country", "text", "found"),
    [
        (
            "KZ",
            "A curfew from 23:00 to 07:00 is in force in Almaty.",
            [ALMATY_NIGHT],
        ),
        # A place in an earlier clause of the sentence still names the window.
        (
            "KZ",
            "In Almaty the police were deployed; a curfew runs from 23:00 to 07:00.",
            [ALMATY_NIGHT],
        ),
        # A list of places is named by its first.
        (
            "KZ",
            "A curfew from 23:00 to 07:00 is in force in Almaty and Nur-Sultan until 19 January.",
            [(NIGHT, date(2022, 1, 19), "Almaty", "Asia/Almaty", None, ())],
        ),
        # Places in another clause are not part of the window's list (Shymkent: UTC+6).
        (
            "KZ",
            "Clashes were reported in Almaty and Taraz; in Shymkent a curfew runs from 23:00 "
            "to 07:00.",
            [(NIGHT, None, "Shymkent", "Asia/Almaty", None, ())],
        ),
        # Dates in another paragraph, or three sentences away, are not the curfew's.
        (
            "KZ",
            "A curfew from 23:00 to 07:00 is in force in Almaty.\n\nSchools are closed until "
            "19 January.",
            [ALMATY_NIGHT],
        ),
        (
            "KZ",
            "A curfew from 23:00 to 07:00 is in force in Almaty. Roads are open. Shops are "
            "open. Schools are closed until 19 January.",
            [ALMATY_NIGHT],
        ),
        (
            "KZ",
            "Schools are closed until 19 January. Shops are open. A curfew from 23:00 to 07:00 "
            "is in force in Almaty.",
            [ALMATY_NIGHT],
        ),
        # The zone a text leaves out, in the window's sentence or the curfew statement.
        (
            "ES",
            "Except the Canary Islands, all of Spain is under a curfew from 23:00 to 06:00.",
            [(SPAIN, None, None, None, None, ("Atlantic/Canary",))],
        ),
        (
            "ES",
            "A curfew has been declared. Movement is banned from 23:00 to 06:00 in all of "
            "Spain except the Canary Islands.",
            [(SPAIN, None, None, None, None, ("Atlantic/Canary",))],
        ),
        (
            "ES",
            "All of Spain except the Canary Islands is affected. A curfew applies from 23:00 "
            "to 06:00.",
            [(SPAIN, None, None, None, None, ("Atlantic/Canary",))],
        ),
        # Days written before each window in its own clause.
        (
            None,
            "On weekdays the curfew runs from 22:00 to 05:00, and on Saturdays and Sundays "
            "from 20:00 to 06:00.",
            [
                (Window(time(22), time(5)), None, None, None, (0, 1, 2, 3, 4), ()),
                (Window(time(20), time(6)), None, None, None, (5, 6), ()),
            ],
        ),
        (
            None,
            "Saturdays and Sundays: the curfew runs from 20:00 to 06:00, and on weekdays from "
            "22:00 to 05:00.",
            [
                (Window(time(20), time(6)), None, None, None, (5, 6), ()),
                (Window(time(22), time(5)), None, None, None, (0, 1, 2, 3, 4), ()),
            ],
        ),
        # A curfew said to remain is not ended by another one's lift.
        (
            None,
            "The curfew remains in force from 23:00 to 05:00. The separate weekend curfew "
            "has been lifted.",
            [(Window(time(23), time(5)), None, None, None, None, ())],
        ),
        # Hours when people may go out: the curfew is the rest of the day.
        (
            None,
            "Relaxation hours are from 7 am to 8 pm under the curfew.",
            [(Window(time(20), time(7)), None, None, None, None, ())],
        ),
        # A start and an end told in two sentences make one window.
        (
            None,
            "The curfew starts at 11 pm tonight. It will end at 5 am.",
            [(Window(time(23), time(5)), None, None, None, None, ())],
        ),
    ],
)
def test_reading_rules(country: str | None, text: str, found: list[tuple[object, ...]]) -> None:
    assert _read(text, country) == found
