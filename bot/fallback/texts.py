"""Texts for SMS and e-mail: the bot's Telegram HTML made plain, and SMS cut to fit.

An SMS segment holds 160 GSM-7 characters (153 when the message is split, the rest is
the header that joins the parts), or 70 UCS-2 code units (67) as soon as one character
is outside GSM-7. Characters of GSM-7's extension table (`{`, `€` ...) take two places.
A text is cut so it fits `max_segments`, and the end that matters (how to answer) stays.
"""

from __future__ import annotations

import html
import re
import unicodedata

# GSM 03.38 basic character set, and the extension table (escape + character).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
MAX_SEGMENTS = 3

# What plain text puts in place of typography that would turn a whole SMS into UCS-2.
_GSM_FRIENDLY = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "•": "-",
        "\u00a0": " ",
        "·": "-",
    }
)
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def _units(text: str) -> tuple[bool, int]:
    """(GSM-7?, length in septets or UTF-16 code units)."""
    if is_gsm7(text):
        return True, sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
    return False, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def segments(text: str) -> int:
    """How many SMS segments `text` is sent as."""
    gsm, units = _units(text)
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    if units <= single:
        return 1
    return -(-units // part)


def fit(body: str, *, tail: str = "", max_segments: int = MAX_SEGMENTS) -> str:
    """`body` + `tail` in at most `max_segments` segments, cutting the body's end (marked
    with "...") so that the tail, how to answer, is always there."""
    whole = body + tail
    if segments(whole) <= max_segments:
        return whole
    mark = "..."
    low, high = 0, len(body)
    # The longest cut that fits: the counts only grow with the length.
    while low < high:
        middle = (low + high + 1) // 2
        if segments(body[:middle].rstrip() + mark + tail) <= max_segments:
            low = middle
        else:
            high = middle - 1
    return body[:low].rstrip() + mark + tail


def plain(html_text: str) -> str:
    """The bot's Telegram HTML as plain text: links keep their address (a profile link
    becomes the name), entities are decoded, pictographs are dropped."""

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), _TAG.sub("", match.group(2))
        if url.startswith("tg://") or url == label:
            return label
        return f"{label} ({url})"

    text = _TAG.sub("", _LINK.sub(link, html_text))
    text = html.unescape(text).translate(_GSM_FRIENDLY)
    kept = "".join(
        ch
        for ch in text
        # Emoji and other pictographs, and what joins or varies them: they would make
        # every SMS UCS-2 (less than half the room) and say nothing the words do not.
        if unicodedata.category(ch) not in ("So", "Cs", "Co")
        and ch not in ("\u200d", "\ufe0f", "\ufe0e")
    )
    lines = [" ".join(line.split()) for line in kept.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sms_text(html_text: str, *, tail: str = "") -> str:
    """What an SMS of a Telegram message says: plain, lines joined, cut to fit."""
    body = " ".join(line for line in plain(html_text).splitlines() if line)
    return fit("Dutybot: " + body, tail=tail)


def email_html(html_text: str) -> str:
    """The bot's Telegram HTML as an e-mail body: its line breaks kept."""
    return (
        '<!doctype html><html><body><div style="white-space: pre-wrap; '
        'font-family: sans-serif">'
        f"{html_text}</div></body></html>"
    )
