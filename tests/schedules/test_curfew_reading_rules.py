"""Rules of the curfew reader, each pinned by alert sentences (texts written here): which
sentence holds a statement's window, which UTC times are its own, when a window is past,
changed or lifted, and which place, days and end date belong to it."""

from __future__ import annotations

from datetime import date, time

import pytest

from schedules.curfew_text import FoundCurfew, Reading, find_curfews, read_alert
from schedules.curfew_text.reading import _twin_gap
from schedules.curfew_times import Window

# A Thursday.
JAN_2022 = date(2022, 1, 6)


def _w(start: int, end: int) -> Window:
    return Window(time(start), time(end))


def found(text: str, country: str | None = None) -> list[FoundCurfew]:
    return find_curfews(text, reference=JAN_2022, country=country)


def read(text: str, country: str | None = None) -> Reading:
    return read_alert(text, reference=JAN_2022, country=country)


def windows(text: str, country: str | None = None) -> list[Window]:
    return [f.window for f in found(text, country)]


def stated(text: str) -> list[tuple[time | None, time | None]]:
    return [(f.stated_start, f.stated_end) for f in found(text)]


# --- stated UTC times: a label between a window and its UTC twin, not another matter ---


@pytest.mark.parametrize(
    "text",
    [
        "A curfew is in effect from 23:00 to 07:00 local time (that is, 17:00-01:00 UTC).",
        "A curfew is in effect from 23:00 to 07:00 local time, or 17:00-01:00 UTC.",
        "A curfew runs from 2300 to 0700 local time (in GMT terms, 1700 to 0100).",
        "A curfew is in force from 2300 to 0700 local time (Zulu equivalent: 1700-0100).",
        "Curfew 2300-0700 local time, 1700 to 0100 GMT.",
    ],
)
def test_a_short_remark_before_the_utc_window_keeps_it_the_twin(text: str) -> None:
    [curfew] = found(text)
    assert curfew.window == _w(23, 7)
    assert curfew.stated_utc == _w(17, 1)


@pytest.mark.parametrize(
    "text",
    [
        # Other matters in UTC, told after the curfew.
        "A curfew is in force from 2300 to 0700; the ferries sail 0500-0900 UTC.",
        "Curfew 2300-0700 local time; ferry departures: 0500-0900 UTC.",
        # A word that joins another window.
        "The curfew is from 2300 to 0600 local time and 0100-0400 UTC for vessels in port.",
        "Curfew from 2300 to 0600 local time, from 0100-0400 UTC for shipping.",
        "Curfew 2300-0600 local time, between 0100 UTC and 0400 UTC for shipping.",
        "Curfew 2300-0600 local time; sea curfew 0100-0400 UTC.",
        "Toque de queda de 23:00 a 06:00 y 01:00-04:00 UTC.",
        "Couvre-feu de 23h00 à 06h00 et 01h00-04h00 UTC.",
    ],
)
def test_a_utc_window_about_something_else_is_not_the_curfews_utc_time(text: str) -> None:
    [curfew] = found(text)
    assert curfew.window.end in (time(6), time(7))
    assert (curfew.stated_start, curfew.stated_end, curfew.stated_utc) == (None, None, None)


@pytest.mark.parametrize(
    ("gap", "label"),
    [
        (" local time (", True),
        (" local time, i.e. ", True),
        (" local time (that is, ", True),
        (" local time to ", False),
        (" local time until ", False),
        (" local time and ", False),
    ],
)
def test_only_a_label_stands_between_a_window_and_its_utc_twin(gap: str, label: bool) -> None:
    # "to" and "until" go on to another time; they never merely label one.
    assert _twin_gap(gap) is label


def test_a_utc_time_is_the_end_of_a_window_only_when_written_right_after_it() -> None:
    assert stated("Curfew from 2300 to 0700; last flight departs 0500 UTC.") == [(None, None)]


def test_each_end_takes_the_utc_time_after_it_whatever_the_case_of_local_time() -> None:
    text = "The curfew begins at 2300 Local Time (1700 GMT) and ends at 0700 Local Time (0100 GMT)."
    assert stated(text) == [(time(17), time(1))]


# --- which two times make a window --------------------------------------------------------


def test_a_french_window_in_spaced_hours_is_not_a_span_of_years() -> None:
    assert windows("Couvre-feu de 20 h à 06 h.") == [_w(20, 6)]


def test_two_start_times_make_no_window() -> None:
    assert found("The curfew begins at 10 pm in the capital and from 11 pm elsewhere.") == []


def test_a_time_before_the_window_does_not_take_its_start() -> None:
    text = "Following clashes at 1500 on Monday, a curfew runs from 2200 to 0500."
    assert windows(text) == [_w(22, 5)]


def test_times_far_apart_are_not_one_window() -> None:
    # Seventy-one characters between them: a closing time, not the curfew's end.
    text = (
        "The curfew begins at 2200 tonight, and stores in the old town and the main market "
        "must close by 2300."
    )
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # Seventy characters between the two times.
        "The curfew runs from 2200 until, as the governor confirmed on national television "
        "on Thursday, 0500.",
        # A remark in brackets counts as a space.
        "The curfew runs from 2200 (1900 GMT) until, as the governor confirmed on state "
        "television on Wednesday, 0500 (0200 GMT).",
        # So does an "instead of" aside.
        "The curfew runs from 2200, instead of 2100, until, as the governor confirmed on "
        "state television on Monday, 0500.",
    ],
)
def test_a_long_remark_inside_the_window_does_not_break_it(text: str) -> None:
    assert windows(text) == [_w(22, 5)]


# --- superseded windows ---------------------------------------------------------------


def test_the_time_a_sentence_starts_by_replacing_is_not_offered() -> None:
    assert windows("Rather than 10 pm-5 am, the curfew now runs 11 pm-5 am.") == [_w(23, 5)]


def test_a_change_of_window_keeps_the_other_windows_of_the_sentence() -> None:
    text = "The curfew was changed from 10pm-5am to 11pm-5am on weekdays, and 12am-5am on weekends."
    assert [(f.window, f.days) for f in found(text)] == [
        (_w(23, 5), (0, 1, 2, 3, 4)),
        (_w(0, 5), (5, 6)),
    ]


def test_a_changed_window_with_utc_times_in_brackets_is_still_the_old_one() -> None:
    text = "The curfew was changed from 10pm-5am (1900-0200 GMT) to 11pm-5am (2000-0200 GMT)."
    [curfew] = found(text)
    assert (curfew.window, curfew.stated_utc) == (_w(23, 5), Window(time(20), time(2)))


# --- a window told apart over two sentences -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Security alert.\n\nA curfew starts at 11 pm tonight. It will end at 5 am.",
        "Following a 1500 GMT announcement, a curfew starts at 11 pm tonight. It will end at 5 am.",
        "From 11 pm tonight a curfew will be in force. It will end at 5 am.",
    ],
)
def test_a_start_and_an_end_in_the_next_sentence_make_a_window(text: str) -> None:
    assert windows(text) == [_w(23, 5)]


def test_a_window_told_in_two_clauses_takes_the_place_after_its_end() -> None:
    [curfew] = found("A curfew starts at 9 pm; it ends at 5 am in Northport.")
    assert (curfew.window, curfew.area) == (_w(21, 5), "Northport")


# --- which sentence holds the statement's window ------------------------------------------


def test_a_sentence_before_the_statement_does_not_give_it_a_window() -> None:
    text = (
        "Shops close from 6 pm to 8 am. A curfew has also been declared. Movement is banned "
        "from 10 pm to 5 am."
    )
    assert windows(text) == [_w(22, 5)]


def test_a_window_is_looked_for_in_the_next_two_sentences_only() -> None:
    text = (
        "A curfew has been declared. Roads are closed. Schools are shut. Banks open from "
        "9 am to 3 pm."
    )
    assert found(text) == []


def test_a_window_after_a_colon_in_the_next_paragraph_is_the_statements() -> None:
    assert windows("A curfew is in force:\n\n- 10 pm to 5 am daily.") == [_w(22, 5)]


@pytest.mark.parametrize(
    "text",
    [
        "A curfew has been declared in the north. There is no curfew in the capital, where "
        "bars open from 6 pm to 2 am.",
        "A curfew has been declared.\n\nBanks open from 9 am to 3 pm.",
    ],
)
def test_times_of_another_matter_are_not_borrowed(text: str) -> None:
    assert found(text) == []


def test_a_sentence_about_exemptions_is_passed_over_for_the_window_after_it() -> None:
    text = (
        "A curfew has been declared. Doctors are exempt from the curfew. Movement is banned "
        "from 10 pm to 5 am."
    )
    assert windows(text) == [_w(22, 5)]


def test_the_next_sentence_goes_on_with_other_days() -> None:
    text = (
        "Security alert for Northport. A curfew runs from 10 pm to 5 am on weekdays. On "
        "weekends it runs from 8 pm to 6 am."
    )
    assert [(f.window, f.days) for f in found(text)] == [
        (_w(22, 5), (0, 1, 2, 3, 4)),
        (_w(20, 6), (5, 6)),
    ]


def test_the_days_that_go_on_reach_two_sentences_at_most() -> None:
    text = (
        "A curfew runs from 10 pm to 5 am on weekdays. On Saturdays it runs from 9 pm to 6 am. "
        "On Sundays it runs from 8 pm to 6 am. Markets open on Fridays from 9 am to 1 pm."
    )
    assert [(f.window, f.days) for f in found(text)] == [
        (_w(22, 5), (0, 1, 2, 3, 4)),
        (_w(21, 6), (5,)),
        (_w(20, 6), (6,)),
    ]


def test_other_days_in_the_next_paragraph_are_another_matter() -> None:
    text = (
        "A curfew runs from 10 pm to 5 am on weekdays.\n\n"
        "On weekends, markets open from 9 am to 1 pm."
    )
    assert windows(text) == [_w(22, 5)]


def test_other_days_listed_after_a_colon_go_on_with_the_curfew() -> None:
    text = (
        "Curfew hours are 10 pm to 5 am on weekdays, with these weekend hours:\n\n"
        "- Saturdays and Sundays from 8 pm to 6 am."
    )
    assert [(f.window, f.days) for f in found(text)] == [
        (_w(22, 5), (0, 1, 2, 3, 4)),
        (_w(20, 6), (5, 6)),
    ]


# --- statements that are not about a curfew in force ----------------------------------


def test_another_countrys_curfew_does_not_stop_the_reading_of_ours() -> None:
    text = "In Chad, a curfew runs from 2200 to 0500.\n\nIn Niger, a curfew runs from 2300 to 0600."
    assert windows(text, "NE") == [_w(23, 6)]


@pytest.mark.parametrize(
    "text",
    [
        # The statement names the other country; its paragraph names ours too.
        "Niger: clashes continue. In Chad, a curfew runs from 2200 to 0500.",
        # The statement names none; its paragraph only the other country.
        "Clashes continue in Chad. A curfew runs from 2200 to 0500.",
    ],
)
def test_a_curfew_about_another_country_is_left_out(text: str) -> None:
    assert found(text, "NE") == []


def test_a_rumoured_curfew_gives_no_window() -> None:
    assert found("Reports of a curfew from 10 pm to 5 am are rumours.") == []


def test_a_mere_mention_does_not_stop_the_reading_of_the_next_statement() -> None:
    text = "There is no curfew in Northport. In Eastbridge a curfew runs from 10 pm to 5 am."
    assert [(f.window, f.area) for f in found(text)] == [(_w(22, 5), "Eastbridge")]


# --- lifts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "curfew"),
    [
        ("The curfew has been lifted from 5 am to 10 pm daily.", _w(22, 5)),
        ("Easing measures, the governor lifted the curfew from 5 am to 9 pm.", _w(21, 5)),
    ],
)
def test_hours_the_curfew_is_lifted_for_leave_the_rest_of_the_day(
    text: str, curfew: Window
) -> None:
    reading = read(text)
    assert [f.window for f in reading.curfews] == [curfew]
    assert reading.lifts == []


def test_a_lift_names_the_gazetteer_place_it_mentions() -> None:
    reading = read("Almaty authorities have lifted the curfew.", "KZ")
    assert [(lift.area, lift.zone) for lift in reading.lifts] == [("Almaty", "Asia/Almaty")]
    assert reading.curfews == []


@pytest.mark.parametrize(
    "text", ["The curfew in Northport has been lifted.", "Curfew lifted in Northport."]
)
def test_a_lift_names_its_place_without_a_country(text: str) -> None:
    reading = read(text)
    assert [lift.area for lift in reading.lifts] == ["Northport"]
    assert reading.curfews == []


def test_a_lift_does_not_stop_the_reading_of_the_next_statement() -> None:
    reading = read(
        "The curfew in Northport has been lifted. In Eastbridge a curfew runs from 10 pm to 5 am."
    )
    assert [(f.window, f.area) for f in reading.curfews] == [(_w(22, 5), "Eastbridge")]
    assert [lift.area for lift in reading.lifts] == ["Northport"]


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("A curfew from 10 pm to 5 am will stay in force until it is lifted.", None),
        # The verb's object is something else; the curfew is mentioned too far from it.
        (
            "The government suspended flights to the city and imposed a curfew from 10 pm to 5 am.",
            None,
        ),
        (
            "A curfew from 10 pm to 5 am is in force in Northport, where the port office has, "
            "as a precaution, also suspended ferry services.",
            "Northport",
        ),
    ],
)
def test_a_curfew_near_another_measure_ending_is_not_lifted(text: str, area: str | None) -> None:
    reading = read(text)
    assert [(f.window, f.area) for f in reading.curfews] == [(_w(22, 5), area)]
    assert reading.lifts == []


@pytest.mark.parametrize(
    "text",
    [
        "A curfew runs from 10 pm to 5 am in Northport. The curfew in Northport has been lifted.",
        "A curfew runs from 10 pm to 5 am. The curfew has since been lifted.",
    ],
)
def test_a_later_lift_ends_the_window_of_its_place(text: str) -> None:
    reading = read(text)
    assert reading.curfews == []
    assert len(reading.lifts) == 1


# --- past and changed windows ------------------------------------------------------------


def test_a_past_window_is_dropped_when_a_current_one_is_there() -> None:
    text = (
        "Northport had been under a curfew from 8 pm to 6 am. A curfew runs from 10 pm to "
        "5 am in Eastbridge."
    )
    assert [(f.window, f.area) for f in found(text)] == [(_w(22, 5), "Eastbridge")]


def test_a_window_in_force_since_a_past_date_is_current() -> None:
    assert windows("Since mid-March 2021 a curfew has been in force from 10 pm to 5 am.") == [
        _w(22, 5)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "A curfew is in force from 8 pm to 6 am. From Monday the curfew is changed to "
        "10 pm to 5 am.",
        # The change is said in the window's sentence, not in the statement.
        "A curfew runs from 8 pm to 6 am. The curfew has been extended. Movement is now banned "
        "from 10 pm to 5 am.",
        # The change is said in the statement, not in the window's sentence.
        "A curfew runs from 8 pm to 6 am. The curfew hours have been changed. Movement is "
        "banned from 10 pm to 5 am.",
    ],
)
def test_a_later_change_replaces_the_earlier_window(text: str) -> None:
    assert windows(text) == [_w(22, 5)]


def test_a_change_for_another_place_leaves_the_window_of_this_one() -> None:
    text = (
        "A curfew runs from 8 pm to 6 am in Northport. In Eastbridge the curfew has been "
        "changed to 10 pm to 5 am."
    )
    assert [(f.window, f.area) for f in found(text)] == [
        (_w(20, 6), "Northport"),
        (_w(22, 5), "Eastbridge"),
    ]


# --- repeats ----------------------------------------------------------------------------


def test_a_repeat_gives_the_window_its_end_date() -> None:
    text = (
        "A curfew runs from 10 pm to 5 am.\n\n"
        "The curfew from 10 pm to 5 am remains in force until 19 January."
    )
    [curfew] = found(text)
    assert (curfew.window, curfew.until) == (_w(22, 5), date(2022, 1, 19))


def test_a_repeat_gives_the_window_its_utc_times() -> None:
    text = (
        "A curfew runs from 10 pm to 5 am.\n\n"
        "The curfew runs from 2200 to 0500 local time (1900-0200 UTC)."
    )
    [curfew] = found(text)
    assert curfew.window == _w(22, 5)
    assert (curfew.stated_start, curfew.stated_end) == (time(19), time(2))
    assert curfew.stated_utc == Window(time(19), time(2))


# --- places and excluded zones -------------------------------------------------------------


def test_a_place_excepted_at_the_start_of_the_statement_is_excluded_not_the_area() -> None:
    text = "Except in Almaty, a curfew has been declared. It runs from 2300 to 0600."
    [curfew] = found(text, "KZ")
    assert curfew.excluded == ("Asia/Almaty",)
    assert (curfew.area, curfew.zone) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        # Two sentences before the statement.
        "Flights to all cities except Almaty are suspended. Schools are closed. A curfew has "
        "been declared. It runs from 2300 to 0600.",
        # In another paragraph.
        "Flights to all cities except Almaty are suspended.\n\nA curfew runs from 2300 to 0600.",
    ],
)
def test_an_exception_to_another_measure_excludes_nothing(text: str) -> None:
    [curfew] = found(text, "KZ")
    assert curfew.excluded == ()


def test_a_place_in_another_paragraph_does_not_place_the_curfew() -> None:
    text = "Heavy snow is expected in Almaty this week.\n\nA curfew runs from 2300 to 0600."
    [curfew] = found(text, "KZ")
    assert (curfew.area, curfew.zone) == (None, None)


def test_a_place_earlier_in_the_paragraph_places_the_curfew() -> None:
    [curfew] = found("Protests broke out in Almaty. A curfew runs from 2300 to 0600.", "KZ")
    assert (curfew.area, curfew.zone) == ("Almaty", "Asia/Almaty")


def test_a_list_of_places_before_the_window_is_named_by_its_first() -> None:
    [curfew] = found("A curfew is in force in Aktobe and Almaty from 2300 to 0600.", "KZ")
    assert (curfew.area, curfew.zone) == ("Aktobe", "Asia/Aqtobe")


def test_nationwide_after_the_window_is_not_placed_by_an_earlier_city() -> None:
    text = "Protests spread from Almaty. A curfew now runs from 2300 to 0600 nationwide."
    [curfew] = found(text, "KZ")
    assert (curfew.area, curfew.zone) == (None, None)


# --- end dates and days -------------------------------------------------------------------


def test_an_end_date_in_an_earlier_clause_is_the_windows() -> None:
    text = "Until 19 January, and in all provinces, a curfew is in force from 2300 to 0600."
    [curfew] = found(text)
    assert curfew.until == date(2022, 1, 19)


def test_a_window_on_one_date_ends_that_day() -> None:
    [curfew] = found("A curfew is in force from 2200 to 0600 on 12 January.")
    assert curfew.until == date(2022, 1, 12)


def test_days_in_another_clause_are_not_taken_by_several_windows() -> None:
    text = (
        "Markets close on weekends; a curfew runs from 2200 to 0500 in Northport and from "
        "2300 to 0500 in Eastbridge."
    )
    assert [(f.window, f.days) for f in found(text)] == [(_w(22, 5), None), (_w(23, 5), None)]


def test_a_single_window_takes_the_days_of_its_sentence() -> None:
    text = "On Fridays and Saturdays, and on public holidays, a curfew runs from 2200 to 0500."
    [curfew] = found(text)
    assert curfew.days == (4, 5)


def test_every_day_of_the_week_is_no_restriction() -> None:
    [curfew] = found("A curfew runs from 2200 to 0500, Monday to Sunday.")
    assert curfew.days is None


def test_the_second_window_does_not_take_the_days_of_the_first() -> None:
    text = "On weekends the curfew runs from 2000 to 0600 and otherwise from 2200 to 0500."
    first, second = found(text)
    assert (first.window, first.days) == (_w(20, 6), (5, 6))
    assert second.window == _w(22, 5)
    assert second.days != (5, 6)
