"""Feed HTML to plain text, sentences, fingerprints and curfew sentences."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.sources.text import (
    _simple_html_text,
    _TextExtractor,
    extract_curfew_text,
    fingerprint,
    html_to_text,
    normalise_lines,
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


# Pieces of the HTML feeds send, and of HTML they should not: the quick reading of simple
# HTML must give the text html.parser gives, and leave the rest to it.
_TAG_NAMES = st.sampled_from(["p", "P", "li", "LI", "ul", "br", "a", "b", "i", "div", "h2",
                              "span", "script", "style", "title", "td", "x-y", "ol"])  # fmt: skip
_ATTRIBUTES = st.sampled_from(
    ["", ' href="https://x/?a=1&amp;b=2"', " class='c>d'", " hidden", " a=b", ' a="1"b="2"',
     ' a = "x"', " A='B' c", ' title="x\ny"', " /", ' a=="x"']
)  # fmt: skip
_TAGS = st.builds(
    lambda close, name, attributes, closed: (
        f"</{name}>" if close else f"<{name}{attributes}{'/' if closed else ''}>"
    ),
    st.booleans(),
    _TAG_NAMES,
    _ATTRIBUTES,
    st.booleans(),
)
_TEXTS = st.sampled_from(
    ["Stay", " indoors ", "&amp;", "&nbsp;", "&#8217;", "&#x2d;", "AT&T", "&amp", "a < b",
     "x > y", "<!-- note -->", "<!DOCTYPE html>", "\n", "\u200b", "&lt;p&gt;", "<", "•",
     "</ p>", "<?x?>", "<p", "&"]
) | st.text(max_size=5)  # fmt: skip


def _by_html_parser(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return normalise_lines(extractor.text())


@settings(database=None, max_examples=500)
@given(st.lists(_TAGS | _TEXTS, max_size=30).map("".join))
def test_simple_html_is_read_to_the_same_text_as_html_parser_reads_it(html: str) -> None:
    assert html_to_text(html) == _by_html_parser(html)


def test_a_feed_items_html_is_read_the_quick_way() -> None:
    html = (
        '<p>Reissued with updates.</p>\n<p><b>Do not travel</b> to <a href="https://x/y">'
        "the area</a>.</p><ul><li>Avoid crowds</li><li>Stay alert&#8217;</li></ul><br/>"
    )
    assert _simple_html_text(html) is not None
    assert html_to_text(html) == _by_html_parser(html)
    for not_simple in ("<!-- c --><p>x</p>", "<p a=b>x</p>", "a < b", "<script>x</script>"):
        assert _simple_html_text(not_simple) is None


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
