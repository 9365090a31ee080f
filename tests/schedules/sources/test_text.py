"""Feed HTML to plain text, sentences, fingerprints and curfew sentences."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.sources.text import (
    extract_curfew_text,
    fingerprint,
    html_to_text,
    split_sentences,
    truncate,
)


def test_blocks_become_lines_and_entities_are_decoded() -> None:
    html = (
        "<p><b>Reissued</b> with&nbsp;updates.</p>\n<p>Whether you&#8217;re a first"
        "&#x2d;time traveller &amp; more</p><ul><li>Avoid crowds</li><li>Stay alert</li></ul>"
        "Line one<br>Line two<br/>Line three"
    )
    assert html_to_text(html).splitlines() == [
        "Reissued with updates.",
        "Whether you’re a first-time traveller & more",
        "• Avoid crowds",
        "• Stay alert",
        "Line one",
        "Line two",
        "Line three",
    ]


def test_unicode_spaces_collapse_and_invisible_characters_go() -> None:
    html = "<p>Do\u00a0not\u2009\u2009travel\u202fto\u200b X.\t\t</p>"
    assert html_to_text(html) == "Do not travel to X."


def test_script_style_and_empty_blocks_are_dropped() -> None:
    html = (
        "<style>p {color: red}</style><script>alert('x')</script>"
        "<p></p><p>&nbsp;</p><li></li><p>Kept <b></b>text</p>"
    )
    assert html_to_text(html) == "Kept text"


def test_inline_tags_do_not_split_words_or_lines() -> None:
    assert html_to_text('<p>Visit <a href="https://x">the <i>page</i></a>.</p>') == (
        "Visit the page."
    )


@settings(database=None)
@given(st.text())
def test_html_to_text_accepts_anything(html: str) -> None:
    text = html_to_text(html)
    assert "\n\n" not in text and "  " not in text


def test_fingerprint_ignores_spacing_and_nbsp() -> None:
    assert fingerprint("Read\u00a0the  advice.\n") == fingerprint("Read the advice.")
    assert fingerprint("a", "b") != fingerprint("a b")
    assert fingerprint("Level 2 advice.") != fingerprint("Level 3 advice.")
    assert len(fingerprint("x")) == 64


def test_truncate_cuts_at_a_word_with_an_ellipsis() -> None:
    text = "word " * 400
    cut = truncate(text, 100)
    assert len(cut) <= 100
    assert cut.endswith("word…")
    assert truncate("short", 100) == "short"


def test_sentences_survive_abbreviations_and_lines() -> None:
    text = (
        "The U.S. Embassy is open. Staff observe a curfew from 10 p.m. to 6 a.m. daily.\n"
        "• Avoid crowds\nSee www.state.gov. Then enrol"
    )
    assert split_sentences(text) == [
        "The U.S. Embassy is open.",
        "Staff observe a curfew from 10 p.m. to 6 a.m. daily.",
        "Avoid crowds",
        "See www.state.gov.",
        "Then enrol",
    ]


def test_curfew_text_is_the_sentences_about_a_curfew() -> None:
    text = (
        "Protests continue. A nationwide curfew from 11pm to 7am is in place. "
        "Shops are closed.\nThe U.S. government personnel are under a strict curfew."
    )
    assert extract_curfew_text(text) == (
        "A nationwide curfew from 11pm to 7am is in place. "
        "The U.S. government personnel are under a strict curfew."
    )


def test_no_curfew_text_without_a_curfew() -> None:
    assert extract_curfew_text("Protests continue. Avoid crowds.") is None


def test_denied_lifted_and_hypothetical_curfews_are_not_curfews() -> None:
    for sentence in (
        "No curfew is in place.",
        "There is no longer a curfew in Almaty.",
        "The authorities lifted the curfew on Monday.",
        "The curfew in place since May was lifted.",
        "Authorities may impose curfews and travel restrictions on short notice.",
        "Additional protests and curfews could happen with little warning.",
        "Follow the instructions of local authorities and obey all curfews.",
    ):
        assert extract_curfew_text(sentence) is None, sentence


def test_modal_verbs_do_not_hide_a_curfew_in_force() -> None:
    for sentence in (
        "Curfews may be extended at short notice.",
        "Staff may not travel at night and must observe a curfew between midnight and 6 a.m.",
        "Gabon has lifted daytime stay-at-home orders, but an evening curfew remains in place.",
    ):
        assert extract_curfew_text(sentence) == sentence


def test_a_list_item_is_read_with_its_lead_in() -> None:
    possible = "Under martial law, authorities can:\n• Set curfews\n• Seize property"
    assert extract_curfew_text(possible) is None
    actual = "If you decide to travel to Gabon:\n• Respect the curfew.\n• Carry ID."
    assert extract_curfew_text(actual) == "Respect the curfew."
