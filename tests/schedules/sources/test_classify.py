"""Departure and curfew detection, and the near misses that must not trigger them."""

from __future__ import annotations

import pytest

from schedules.sources.base import AlertKind, SourceKind
from schedules.sources.classify import classify, mentions_departure

DEPARTURES = [
    "On April 22, 2023, the Department of State ordered the departure of U.S. direct hire "
    "employees and eligible family members from Embassy Khartoum.",
    "On February 14, the Department authorized the voluntary departure of non-emergency "
    "U.S. government employees and family members.",
    "The Foreign Office has authorised departure of dependants of staff.",
    "In July 2023, the Department of State ordered nonemergency U.S. government employees "
    "and their family members to leave the country due to security risks.",
    "U.S. citizens in Russia should leave immediately.",
    "U.S. citizens in Belarus should leave the country immediately and contact an embassy.",
    "Leave Lebanon now while commercial flights remain available.",
    "U.S. citizens should try to leave the country as soon as safely possible.",
    "The Embassy urges U.S. citizens to leave Haiti by commercial means.",
]

NOT_DEPARTURES = [
    "Travelers must pay the departure tax in cash.",
    "Arrive early: the departure lounge closes 30 minutes before boarding.",
    "Make backup plans to leave the country.",
    "Have departure plans that do not rely on U.S. government assistance.",
    "Carry a copy of your passport and leave originals in your hotel safe.",
    "Leave DNA samples with your medical provider.",
    "Updated to reflect the lifting of ordered departure of non-emergency U.S. government "
    "personnel.",
    "The Department of State has lifted the ordered departure of family members.",
    "Updated to reflect the end of ordered departure of eligible family members and "
    "authorized departure for non-emergency employees.",
    "The Department has not ordered the departure of staff.",
    "The military regime may prevent departure of people eligible for conscription.",
    "Reissued with updates to the security situation and post departure status.",
]


@pytest.mark.parametrize("text", DEPARTURES)
def test_departure_prose_is_a_departure(text: str) -> None:
    assert mentions_departure(text) is True


@pytest.mark.parametrize("text", NOT_DEPARTURES)
def test_near_misses_are_not_departures(text: str) -> None:
    assert mentions_departure(text) is False


def test_a_later_lift_cancels_the_history_of_an_order() -> None:
    history = (
        "On March 25, 2020, the Department of State ordered the departure of designated U.S. "
        "government employees. On June 15, 2020, the Department of State ended its ordered "
        "departure of non-emergency U.S. government employees."
    )
    assert not mentions_departure(history)
    assert classify(history, level=3, source_kind=SourceKind.US_STATE) == (
        AlertKind.ADVISORY,
        False,
    )


def test_level_four_is_a_departure_whatever_the_text() -> None:
    assert classify("Do not travel.", level=4, source_kind=SourceKind.US_STATE) == (
        AlertKind.DEPARTURE,
        True,
    )
    assert classify("Reconsider travel.", level=3, source_kind=SourceKind.US_STATE) == (
        AlertKind.ADVISORY,
        False,
    )


def test_fcdo_whole_country_warning_is_a_departure_and_parts_are_not() -> None:
    whole = classify(
        "Updated.",
        level=None,
        alert_status=["avoid_all_travel_to_whole_country"],
        source_kind=SourceKind.FCDO,
    )
    parts = classify(
        "Updated.",
        level=None,
        alert_status=["avoid_all_travel_to_parts", "avoid_all_but_essential_travel_to_parts"],
        source_kind=SourceKind.FCDO,
    )
    assert whole == (AlertKind.DEPARTURE, True)
    assert parts == (AlertKind.ADVISORY, False)


def test_fcdo_prose_about_the_whole_country_is_a_departure() -> None:
    text = "The FCDO now advises against all travel to the whole of Sudan."
    essential = "The FCDO now advises against all but essential travel to the whole of Sudan."
    assert classify(text, level=None, source_kind=SourceKind.FCDO)[1]
    for whole in (
        "We advise against all travel to all parts of Haiti.",
        "The FCDO advises against all travel to all areas of Yemen.",
        "FCDO advises against all travel to the whole country.",
    ):
        assert classify(whole, level=None, source_kind=SourceKind.FCDO) == (
            AlertKind.DEPARTURE,
            True,
        ), whole
    assert not classify(essential, level=None, source_kind=SourceKind.FCDO)[1]
    assert not classify(
        "The FCDO advises against all travel to the City of Almaty.",
        level=None,
        source_kind=SourceKind.FCDO,
    )[1]


def test_curfew_outranks_security_and_advisory() -> None:
    text = "A state of emergency has been declared with a curfew in place from 11pm to 7am."
    assert classify(text, level=None, source_kind=SourceKind.US_EMBASSY) == (
        AlertKind.CURFEW,
        False,
    )
    assert classify(text, level=2, source_kind=SourceKind.US_STATE) == (AlertKind.CURFEW, False)


def test_departure_outranks_curfew() -> None:
    text = "A curfew is in effect. The Department ordered the departure of U.S. staff."
    assert classify(text, level=None, source_kind=SourceKind.US_EMBASSY) == (
        AlertKind.DEPARTURE,
        True,
    )


def test_alerts_default_to_security_and_advisories_to_advisory() -> None:
    text = "Demonstration Alert: a protest is planned near the Embassy."
    no_curfew = "No curfew is in place."
    assert classify(text, level=None, source_kind=SourceKind.US_EMBASSY)[0] is AlertKind.SECURITY
    assert classify(text, level=None, source_kind=SourceKind.RSS)[0] is AlertKind.SECURITY
    assert classify(text, level=1, source_kind=SourceKind.US_STATE)[0] is AlertKind.ADVISORY
    assert classify(no_curfew, level=None, source_kind=SourceKind.FCDO)[0] is AlertKind.ADVISORY
