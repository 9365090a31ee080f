"""The curfew reader's clock times, each rule on its own.

The corpus (test_curfew_corpus.py) asks for most alerts to be read right; these pin how
one clock time is read out of a text: its value, the words it spans, and whether the text
says it is local, UTC or some other place's time.
"""

from __future__ import annotations

import pytest

from schedules.curfew_text import clock


def _read(text: str) -> list[tuple[str, str]]:
    """Each clock time in `text` as the words it spans and its value, "HH:MM"."""
    return [
        (text[token.start : token.end], token.value.strftime("%H:%M"))
        for token in clock.clock_tokens(text)
    ]


def _kinds(text: str) -> list[tuple[str, str]]:
    """Each clock time in `text` as the words it spans and what the text says it is."""
    return [(text[token.start : token.end], token.kind) for token in clock.clock_tokens(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # Noon and midnight in words, in English, French and Spanish, in any case.
        ("Curfew from midnight to noon", [("midnight", "00:00"), ("noon", "12:00")]),
        ("between 12 noon and 12 midnight", [("12 noon", "12:00"), ("12 midnight", "00:00")]),
        ("MARKETS CLOSE AT NOON", [("NOON", "12:00")]),
        ("Movement is restricted until midday", [("midday", "12:00")]),
        ("Couvre-feu de minuit à midi", [("minuit", "00:00"), ("midi", "12:00")]),
        (
            "Toque de queda desde la medianoche hasta el mediodía",
            [("medianoche", "00:00"), ("mediodía", "12:00")],
        ),
        ("hasta el mediodia", [("mediodia", "12:00")]),
        ("HASTA EL MEDIODÍA", [("MEDIODÍA", "12:00")]),
    ],
)
def test_noon_and_midnight(text: str, found: list[tuple[str, str]]) -> None:
    assert _read(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # Hours in words, with the words that say evening or morning.
        (
            "from ten in the evening to six in the morning",
            [("ten in the evening", "22:00"), ("six in the morning", "06:00")],
        ),
        (
            "de las diez de la noche a las cinco de la mañana",
            [("diez de la noche", "22:00"), ("cinco de la mañana", "05:00")],
        ),
        ("eleven at night", [("eleven at night", "23:00")]),
        ("11 at night", [("11 at night", "23:00")]),
        ("a partir de las 10 de la noche", [("10 de la noche", "22:00")]),
        # Twelve at night is midnight, not noon; twelve in the afternoon is noon.
        ("until twelve at night", [("twelve at night", "00:00")]),
        ("hasta las doce de la noche", [("doce de la noche", "00:00")]),
        ("until 12 at night", [("12 at night", "00:00")]),
        ("until twelve in the afternoon", [("twelve in the afternoon", "12:00")]),
    ],
)
def test_evening_and_morning_words(text: str, found: list[tuple[str, str]]) -> None:
    assert _read(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("from 11 p.m. to 1 a.m.", [("11 p.m.", "23:00"), ("1 a.m.", "01:00")]),
        ("curfew lifts at 1am", [("1am", "01:00")]),
        ("until 1 p.m.", [("1 p.m.", "13:00")]),
        # "12 am" is midnight and "12 pm" is noon.
        ("from 12 am", [("12 am", "00:00")]),
        ("until 12 pm", [("12 pm", "12:00")]),
        # A 24-hour time with evening words is already a 24-hour time.
        ("a las 13h00 de la tarde", [("13h00 de la tarde", "13:00")]),
        ("from 22:00 tonight", [("22:00 tonight", "22:00")]),
        # ... but a 24-hour hour with a.m. or p.m. written out is no time at all.
        ("from 23:00 PM", []),
        ("from 23:00 pm", []),
        ("from 13:00 p.m.", []),
    ],
)
def test_twelve_hour_clock(text: str, found: list[tuple[str, str]]) -> None:
    assert _read(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("from 2300 to 2359", [("2300", "23:00"), ("2359", "23:59")]),
        ("until 23:59", [("23:59", "23:59")]),
        # 24:00 is midnight; any later is not a time.
        ("from 2400 to 0600", [("2400", "00:00"), ("0600", "06:00")]),
        ("until 24:00", [("24:00", "00:00")]),
        ("until 24:30", []),
        ("until 2430", []),
        # Sixty minutes is not a time.
        ("from 23:60", []),
    ],
)
def test_twenty_four_hour_clock(text: str, found: list[tuple[str, str]]) -> None:
    assert _read(text) == found


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # "Local time" in the bracket is local, whatever its case.
        (
            "Curfew is in force nightly (23:00 to 05:00 Local time)",
            [("23:00", "local"), ("05:00", "local")],
        ),
        # UTC or GMT in the bracket, in any case.
        ("Curfew hours (2000 to 0200 gmt)", [("2000", "utc"), ("0200", "utc")]),
        # Another place's time in the bracket.
        (
            "Curfew hours (23:00 to 05:00 Moscow time)",
            [("23:00", "foreign"), ("05:00", "foreign")],
        ),
        # "summer time" is no place's name: the times are local.
        (
            "Curfew hours (23:00 to 05:00 summer time)",
            [("23:00", "local"), ("05:00", "local")],
        ),
    ],
)
def test_what_a_bracket_says(text: str, kinds: list[tuple[str, str]]) -> None:
    assert _kinds(text) == kinds


@pytest.mark.parametrize(
    ("text", "times"),
    [
        # "remain" holds "mai" (French for May), "general" holds "ene" (Spanish for
        # January): neither is a month.
        ("The curfew hours remain 2300 to 0500.", ["23:00", "05:00"]),
        ("Toque de queda general 2300 a 0500", ["23:00", "05:00"]),
        ("Curfew in force since 5 January 2022 from 2300 to 0700.", ["23:00", "07:00"]),
    ],
)
def test_only_a_month_s_name_makes_the_number_after_it_a_year(text: str, times: list[str]) -> None:
    assert [value for _, value in _read(text)] == times
