"""Hypothesis strategies for hostile input: what people type and what feeds carry.

Arbitrary Unicode, HTML and entities (valid, broken and ones Telegram refuses), control
characters and NUL, bidirectional and zero-width characters, emoji outside the BMP
(two UTF-16 units each), and very long runs of any of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from hypothesis import strategies as st

# Pieces that have broken message builders and parsers somewhere: markup and entities,
# characters that are invisible or reorder text, and ones that count twice in UTF-16.
NASTY_PIECES: tuple[str, ...] = (
    "<", ">", "&", '"', "'", "&amp;", "&lt;", "&nbsp;", "&#0;", "&#x1F6A8;", "&bogus;",
    "<b>", "</b>", "<i>bold</i>", "<script>alert(1)</script>", '<a href="javascript:x">',
    "</a>", "<!-- c -->", "<![CDATA[x]]>", "<br/>", "<tg-spoiler>", "</pre>",
    "\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\x85", "\r", "\r\n", "\n", "\n\n", "\t",
    "\u202e", "\u2066", "\u200f", "\u200b", "\ufeff", "\u00ad", "\u2028", "\u3000",
    "🚨", "𝕏", "👩‍👩‍👧", "e\u0301", "ﷺ", "Ⅻ", "²", "١٢", "٣٠m",
    " ", "  ", ":", "-", "–", ".", "#", "@", "/", "’", "“", "”",
    "KZ", "Kazakhstan", "23:00-07:00", "11pm to 7am", "until", "curfew", "2h", "90m",
    "https://", "http://[", "Level 4: Do Not Travel", " - ", "Security Alert",
)  # fmt: skip

nasty_piece = st.sampled_from(NASTY_PIECES)

# Short hostile text: arbitrary characters mixed with the pieces above.
hostile_text = st.lists(st.one_of(nasty_piece, st.text(max_size=12)), max_size=16).map("".join)


# Long hostile text: a hostile piece repeated up to `limit` characters, with hostile
# text either side, so cuts and limits are crossed at every kind of character.
def long_text(limit: int = 6000) -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, piece, times, tail: (head + piece * times + tail)[:limit],
        hostile_text,
        st.one_of(nasty_piece, st.text(min_size=1, max_size=8)),
        st.integers(min_value=1, max_value=limit),
        hostile_text,
    )


def any_text(limit: int = 6000) -> st.SearchStrategy[str]:
    """Short or long hostile text, or arbitrary Unicode."""
    return st.one_of(hostile_text, long_text(limit), st.text(max_size=200))


class NoOffset(tzinfo):
    """A tzinfo that knows no offset: datetimes carrying it are naive all the same."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None
