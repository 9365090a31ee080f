"""SMS texts counted as the networks count them (GSM-7 septets, UCS-2 code units,
concatenation headers), cut to whole segments with the answer kept; the bot's HTML made
plain; SMS answers read in English, Russian and French; Twilio's signature."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.contacts import parse_email, parse_mobile
from bot.fallback import texts
from bot.fallback.inbound import read_answer, twilio_signature
from db.checkins import Answer
from db.refusal import Refusal


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),  # 153 a segment once split
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("ж" * 70, 1),  # one Cyrillic letter makes it UCS-2
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 code units each
        ("😀" * 36, 2),
    ],
)
def test_segments_are_counted_as_networks_count_them(text: str, count: int) -> None:
    assert texts.segments(text) == count


def test_gsm7_is_told_from_ucs2() -> None:
    assert texts.is_gsm7("Reply SAFE RC12 or HELP RC12. 16:09 UTC {ok}")
    assert not texts.is_gsm7("Ответьте SAFE")
    assert not texts.is_gsm7("“quoted”")


@given(st.text(min_size=0, max_size=2000), st.text(max_size=60))
def test_a_cut_text_fits_three_segments_and_keeps_the_answer(body: str, tail: str) -> None:
    fitted = texts.fit(body, tail=tail)
    if texts.segments(tail + "...") <= texts.MAX_SEGMENTS:
        assert texts.segments(fitted) <= texts.MAX_SEGMENTS
        assert fitted.endswith(tail)


def test_a_long_russian_question_is_cut_to_three_ucs2_segments() -> None:
    fitted = texts.fit("Вы в безопасности? " * 30, tail=" Ответьте SAFE RC7.")
    assert texts.segments(fitted) == 3 and fitted.endswith("... Ответьте SAFE RC7.")
    assert len(fitted) <= 3 * texts.UCS2_PART


def test_html_is_made_plain_and_gsm_friendly() -> None:
    html = (
        '🚨 <b>DEPARTURE ADVISORY</b> — <a href="tg://user?id=5">Lena</a> said: '
        '“leave now” &amp; <a href="https://travel.state.gov/kz">see this</a>\n\n\n• go'
    )
    plain = texts.plain(html)
    assert plain == (
        'DEPARTURE ADVISORY - Lena said: "leave now" & see this '
        "(https://travel.state.gov/kz)\n\n- go"
    )
    assert texts.is_gsm7(plain)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("SAFE", Answer.SAFE),
        ("safe RC12", Answer.SAFE),
        ("RC12 ok", Answer.SAFE),
        ("Ok!", Answer.SAFE),
        ("ОК", Answer.SAFE),
        ("я в безопасности", Answer.SAFE),
        ("Je suis en sécurité.", Answer.SAFE),
        ("HELP #12", Answer.HELP),
        ("помогите", Answer.HELP),
        ("Au secours", Answer.HELP),
        ("SOS", Answer.HELP),
        ("safe but the road is blocked", None),
        ("where are you?", None),
        ("", None),
    ],
)
def test_sms_answers_are_read_in_three_languages(body: str, answer: Answer | None) -> None:
    assert read_answer(body) is answer


def test_the_signature_is_twilios() -> None:
    # The worked example of Twilio's webhook security guide.
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+12349013030"],
        "Digits": ["1234"],
        "From": ["+12349013030"],
        "To": ["+18005551212"],
    }
    signature = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@given(st.text(max_size=60))
def test_any_text_given_as_a_mobile_is_e164_or_a_clear_refusal(raw: str) -> None:
    try:
        mobile = parse_mobile(raw)
    except Refusal as refusal:
        assert "Usage: /contact sms" in refusal.text
    else:
        assert re.fullmatch(r"\+[1-9]\d{6,14}", mobile)


@given(st.text(max_size=80))
def test_any_text_given_as_an_email_is_an_address_or_a_clear_refusal(raw: str) -> None:
    try:
        address = parse_email(raw)
    except Refusal as refusal:
        assert "Usage: /contact email" in refusal.text
    else:
        assert "@" in address and len(address) <= 254
