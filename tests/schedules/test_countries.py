"""Countries: what staff type and what feeds write, turned into ISO alpha-2 codes."""

from __future__ import annotations

import pytest

from schedules.countries import (
    Country,
    countries_named_in,
    country,
    country_name,
    leading_country,
    normalise_name,
    resolve_country,
    suggest_country,
)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Côte d’Ivoire", "cote divoire"),
        ("Cote d'Ivoire", "cote divoire"),
        ("São Tomé and Príncipe", "sao tome and principe"),
        ("Bosnia & Herzegovina", "bosnia and herzegovina"),
        ("  KAZAKHSTAN!!  ", "kazakhstan"),
        ("Guinea-Bissau", "guinea bissau"),
        ("Korea (South)", "korea south"),
        ("The Gambia", "gambia"),
        ("the", "the"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_spellings_fold_to_one_form(text: str, normalised: str) -> None:
    assert normalise_name(text) == normalised


@pytest.mark.parametrize(
    ("typed", "code", "name"),
    [
        ("kz", "KZ", "Kazakhstan"),
        (" KZ ", "KZ", "Kazakhstan"),
        ("kaz", "KZ", "Kazakhstan"),
        ("KAZ", "KZ", "Kazakhstan"),
        ("kazakhstan", "KZ", "Kazakhstan"),
        ("Republic of Kazakhstan", "KZ", "Kazakhstan"),  # the official name
        ("IN", "IN", "India"),
        ("CAN", "CA", "Canada"),
        ("uk", "GB", "United Kingdom"),
        ("Great Britain", "GB", "United Kingdom"),
        ("USA", "US", "United States"),
        ("Burma", "MM", "Myanmar"),
        ("Ivory Coast", "CI", "Côte d'Ivoire"),
        ("Côte d’Ivoire", "CI", "Côte d'Ivoire"),
        ("Russia", "RU", "Russia"),
        ("Russian Federation", "RU", "Russia"),
        ("Korea (South)", "KR", "South Korea"),  # only pytz spells it so
        ("Bolivia", "BO", "Bolivia"),
        ("Taiwan", "TW", "Taiwan"),
        ("DR Congo", "CD", "DR Congo"),  # the display name is a name too
        ("Democratic Republic of the Congo", "CD", "DR Congo"),
        ("Republic of the Congo", "CG", "Congo"),
        ("Kosovo", "XK", "Kosovo"),
        ("xk", "XK", "Kosovo"),
        ("The Gambia", "GM", "Gambia"),
    ],
)
def test_staff_and_feed_spellings_resolve(typed: str, code: str, name: str) -> None:
    assert resolve_country(typed) == Country(code=code, name=name)


@pytest.mark.parametrize("typed", ["", "   ", "Atlantis", "ZZ", "ZZZ", "Kazakstan", "K", "Z1"])
def test_anything_else_resolves_to_nothing(typed: str) -> None:
    assert resolve_country(typed) is None


def test_text_longer_than_a_hundred_characters_is_refused() -> None:
    longest = "Kazakhstan" + "!" * 90
    assert resolve_country(longest) == Country("KZ", "Kazakhstan")
    assert resolve_country(longest + "!") is None


def test_a_known_code_gives_its_country_and_label() -> None:
    assert country("kz") == Country("KZ", "Kazakhstan")
    assert country("RU").label() == "Russia (RU)"
    assert country("XK").label() == "Kosovo (XK)"
    with pytest.raises(KeyError):
        country("ZZ")


def test_display_names_fall_back_to_the_code() -> None:
    assert country_name("md") == "Moldova"
    assert country_name("TZ") == "Tanzania"
    assert country_name("KP") == "North Korea"
    assert country_name("PS") == "Palestinian Territories"
    assert country_name("zz") == "ZZ"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Kazakstan", "KZ"),
        ("germny", "DE"),
        ("Cha", "TD"),  # three letters are enough to guess from
        ("  Kyrgystan ", "KG"),
    ],
)
def test_a_near_miss_is_offered_as_a_suggestion(typed: str, code: str) -> None:
    suggestion = suggest_country(typed)
    assert suggestion == country(code)


@pytest.mark.parametrize("typed", ["us", "uk", "", "Xqzwv", "Atlantis"])
def test_no_suggestion_for_short_or_distant_text(typed: str) -> None:
    assert suggest_country(typed) is None


def test_a_suggestion_reads_only_the_first_hundred_characters() -> None:
    assert suggest_country("Kazakhstan" + " " * 90 + "and a long tail of other words") == (
        country("KZ")
    )
    # The hundred characters end inside "Germny": "germ" is too far from any name.
    assert suggest_country("." * 96 + "Germny") is None


def test_countries_named_in_prose_in_order_of_first_mention() -> None:
    text = (
        "Curfew declared in Kyrgyzstan and Kazakhstan; in Kazakhstan it runs from 11pm. "
        "Travel to Chad and Oman is unaffected."
    )
    assert countries_named_in(text) == [country(c) for c in ("KG", "KZ", "TD", "OM")]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("A curfew in South Sudan from 9pm to 6am.", ["SS"]),
        ("Curfew in Papua New Guinea tonight.", ["PG"]),
        ("Equatorial Guinea: curfew.", ["GQ"]),
        ("Democratic Republic of the Congo: curfew from 8pm.", ["CD"]),
        ("Republic of the Congo: curfew from 8pm.", ["CG"]),
        ("Guinea Bissau and Guinea", ["GW", "GN"]),
        ("Guinea-Bissau: curfew", ["GW"]),
        ("Niger and Nigeria", ["NE", "NG"]),
        ("Bosnia and Herzegovina", ["BA"]),
        ("United Kingdom of Great Britain and Northern Ireland", ["GB"]),
    ],
)
def test_the_longest_name_wins_and_its_words_name_nothing_else(text: str, codes: list[str]) -> None:
    assert [found.code for found in countries_named_in(text)] == codes


def test_codes_and_lower_case_words_are_not_names_in_prose() -> None:
    assert countries_named_in("CAN YOU STAY IN? Curfew at the UK embassy in kazakhstan.") == []


def test_only_the_first_five_thousand_characters_are_read() -> None:
    assert countries_named_in("x " * 2500 + "Kazakhstan") == []
    assert countries_named_in("x " * 2496 + "Kazakhstan") == []  # cut to "Kazakhst"
    assert countries_named_in("x " * 2498 + "Chad") == [country("TD")]
    assert countries_named_in("x " * 2498 + " Peru") == []  # cut to "Per"


@pytest.mark.parametrize(
    ("text", "code", "rest"),
    [
        ("KZ Stay indoors tonight", "KZ", "Stay indoors tonight"),
        ("  kaz   Stay  indoors", "KZ", "Stay  indoors"),
        ("United Kingdom London 22:30-05:00", "GB", "London 22:30-05:00"),
        ("Bosnia and Herzegovina Sarajevo", "BA", "Sarajevo"),
        # The longest names, as a lead types them in a crisis.
        ("Democratic Republic of the Congo Goma curfew", "CD", "Goma curfew"),
        ("Saint Vincent and the Grenadines: storm", "VC", "storm"),
        # Only the first line is read for a name, however many lines follow.
        ("Guinea\nBissau border closed\nStay home", "GN", "Bissau border closed\nStay home"),
        ("South Korea\nLine two\nLine three", "KR", "Line two\nLine three"),
        ("Georgia", "GE", ""),
    ],
)
def test_the_country_a_command_starts_with_and_the_rest_as_written(
    text: str, code: str, rest: str
) -> None:
    found, after = leading_country(text)
    assert (found.code, after) == (code, rest)


def test_a_command_that_starts_with_no_country_says_which_word_and_suggests_one() -> None:
    with pytest.raises(ValueError) as error:
        leading_country("Kazakstan Almaty 23:00-07:00")
    assert str(error.value) == "I don't know the country “Kazakstan”. Did you mean Kazakhstan (KZ)?"
    with pytest.raises(ValueError) as error:
        leading_country("Atlantis is calm")
    assert str(error.value) == "I don't know the country “Atlantis”."
    # A name never runs onto the next line, and a caller may take fewer words.
    with pytest.raises(ValueError, match="“United”"):
        leading_country("United\nKingdom")
    with pytest.raises(ValueError, match="“Bosnia”"):
        leading_country("Bosnia and Herzegovina", max_words=2)
    # Nothing at all is no country either, said the same way.
    for empty in ("", "  \n "):
        with pytest.raises(ValueError) as error:
            leading_country(empty)
        assert str(error.value) == "I don't know the country “”."
