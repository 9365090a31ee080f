"""Feed text: HTML to plain text, sentences, content fingerprints and curfew sentences.

Feeds send HTML inside CDATA with numeric entities, `&nbsp;` and other Unicode spaces.
Everything downstream (classification, fingerprints, Telegram messages) works on the
plain text made here, so a change of markup or spacing is never mistaken for news.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

SUMMARY_LIMIT = 1500

# Tags whose start or end begins a new line of text.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
# Zero-width characters that str.split() does not treat as spaces but that break words;
# removed by a regular expression, which is many times faster than str.translate.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._chunks: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_TAGS:
            self._dropping += 1
        elif tag in _BLOCK_TAGS:
            self._chunks.append("\n• " if tag == "li" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCK_TAGS:
            self._chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self._chunks.append(data)

    def text(self) -> str:
        return "".join(self._chunks)


def html_to_text(html: str) -> str:
    """Plain text of feed HTML: one line per block, single spaces, entities decoded."""
    simple = _simple_html_text(html)
    if simple is not None:
        return normalise_lines(simple)
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return normalise_lines(extractor.text())


# Feeds' HTML is mostly plain tags with quoted attributes; html.parser takes most of a
# feed's parsing time to read it. Such HTML is read here by regular expressions, to the
# same text; anything else (comments, unquoted attributes, a stray "<", script or style)
# goes to html.parser.
_SIMPLE_TAG = re.compile(
    r"<(?:(?P<name>[a-zA-Z][a-zA-Z0-9]*)"
    r"(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'))?)*"
    r"\s*(?P<closed>/?)"
    r"|/(?P<end>[a-zA-Z][a-zA-Z0-9]*)\s*)>"
)
# Elements whose content html.parser reads as raw text, and those whose text is dropped.
_NOT_SIMPLE = _DROPPED_TAGS | {
    "script", "style", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext",
}  # fmt: skip


def _simple_html_text(html: str) -> str | None:
    """The text `_TextExtractor` makes of `html`, when it is simple; else None."""
    chunks: list[str] = []
    at = 0
    for match in _SIMPLE_TAG.finditer(html):
        if html.find("<", at, match.start()) != -1:
            return None  # a "<" that is not a simple tag
        chunks.append(unescape(html[at : match.start()]))
        at = match.end()
        name = (match["name"] or match["end"]).lower()
        if name in _NOT_SIMPLE:
            return None
        if name in _BLOCK_TAGS:
            opening = match["name"] is not None and not match["closed"]
            chunks.append("\n• " if opening and name == "li" else "\n")
    if html.find("<", at) != -1:
        return None
    chunks.append(unescape(html[at:]))
    return "".join(chunks)


def normalise_lines(text: str) -> str:
    """Collapse every kind of space inside lines and drop empty lines and bullets."""
    lines = []
    for raw in _INVISIBLE.sub("", text).splitlines():
        line = " ".join(raw.split())
        if line and line != "•":
            lines.append(line)
    return "\n".join(lines)


def fingerprint(*parts: str) -> str:
    """SHA-256 of the parts with spacing and compatibility characters folded away."""
    digest = hashlib.sha256()
    for part in parts:
        folded = " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFKC", part)).split())
        digest.update(folded.encode("utf-8"))
        # A separator that text cannot contain, so ("ab", "c") differs from ("a", "bc").
        digest.update(b"\x00")
    return digest.hexdigest()


def truncate(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary > limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(" \n,;:-–") + "…"


# Abbreviations that end in a full stop without ending the sentence ("U.S. Embassy").
_ABBREVIATIONS = frozenset(
    {
        "u.s.", "u.k.", "u.n.", "e.u.", "a.m.", "p.m.", "mr.", "mrs.", "ms.", "dr.", "st.",
        "no.", "nos.", "e.g.", "i.e.", "etc.", "approx.", "vs.", "jan.", "feb.", "mar.",
        "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.", "gov.",
    }
)  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text; every line (a paragraph or list item) ends one."""
    sentences: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _SENTENCE_END.finditer(line):
            words = line[start : match.start() + 1].split()
            if words and words[-1].casefold() in _ABBREVIATIONS:
                continue
            sentences.append(line[start : match.end()].strip())
            start = match.end()
        rest = line[start:].strip().lstrip("• ").strip()
        if rest:
            sentences.append(rest)
    return [sentence.lstrip("• ") for sentence in sentences if sentence.strip("• ")]


_CURFEW = re.compile(r"\bcurfews?\b", re.IGNORECASE)
# "No curfew is in place", "not under a curfew": the word is there, the curfew is not.
_CURFEW_DENIED = re.compile(
    r"\b(?:no|not\s+(?:under|subject\s+to))\s+(?:\w+\s+){0,2}curfews?\b", re.IGNORECASE
)
# A curfew that is over: "lifted the curfew", "the curfew in place since May was lifted".
_CURFEW_ENDED = re.compile(
    r"\b(?:lift(?:ed|s|ing)?|end(?:ed|s|ing)?|rescind\w*|revok\w*|cancell?(?:ed|s|ing)?)\s+"
    r"(?:(?:the|a|all|its|their)\s+)?(?:\w+\s+){0,2}curfews?\b"
    r"|\bcurfews?\b(?:\s+\w+){0,6}?\s+(?:(?:was|were|has\s+been|have\s+been|is|are)\s+"
    r"(?:now\s+)?(?:lifted|ended|rescinded|revoked|cancell?ed|over)|no\s+longer)\b"
    r"|\bend\s+(?:of|to)\s+(?:the\s+)?curfews?\b",
    re.IGNORECASE,
)
# A curfew that exists now, whatever modal verb the sentence also has ("they must observe
# a curfew", "curfews may be extended").
_CURFEW_IN_FORCE = re.compile(
    r"\b(?:in\s+(?:effect|place|force)|declared|imposed|announced|extended|"
    r"(?:is|are|remain|remains|be)\s+under|subject\s+to|observe|respect)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(r"\b(?:may|might|could|can)\b", re.IGNORECASE)
# Standing advice found in every advisory ("obey all curfews"), not news of a curfew.
_CURFEW_BOILERPLATE = re.compile(
    r"\b(?:obey|follow|respect|observe|comply\s+with)\s+(?:all|any)\s+(?:\w+\s+)?curfews?\b",
    re.IGNORECASE,
)


def is_curfew_statement(sentence: str) -> bool:
    """Whether a sentence says a curfew applies, rather than denies, ends or imagines one."""
    if not _CURFEW.search(sentence):
        return False
    if any(p.search(sentence) for p in (_CURFEW_DENIED, _CURFEW_ENDED, _CURFEW_BOILERPLATE)):
        return False
    return bool(_CURFEW_IN_FORCE.search(sentence)) or not _HYPOTHETICAL.search(sentence)


def extract_curfew_text(text: str) -> str | None:
    """The sentences that say a curfew applies, joined; None when there are none.

    A list item that mentions a curfew is judged with the line that introduces it, so
    "Authorities can:" followed by "• Set curfews" reads as the possibility it is.
    """
    if not _CURFEW.search(text):
        return None  # the word is in no sentence, so in none that says a curfew applies
    found: list[str] = []
    lead_in = ""
    for line in text.splitlines():
        is_item = line.startswith("•")
        for sentence in split_sentences(line):
            context = f"{lead_in} {sentence}" if is_item and lead_in else sentence
            if _CURFEW.search(sentence) and is_curfew_statement(context):
                found.append(sentence)
        if not is_item:
            lead_in = line if line.rstrip().endswith(":") else ""
    return " ".join(found) if found else None


def curfew_alert_text(text: str) -> str | None:
    """The whole alert, when it says a curfew applies or was lifted; None otherwise.

    The curfew reader (schedules.curfew_text) reads a curfew's place, times, stated UTC
    and end date from the sentences around the statement, so it gets all of them, not
    only the sentence that names the curfew; a lift lets the leads end the curfew.
    """
    if not _CURFEW.search(text):
        return None  # neither a curfew nor its lifting without the word
    lifted = any(_CURFEW_ENDED.search(s) for s in split_sentences(text))
    if extract_curfew_text(text) is None and not lifted:
        return None
    return normalise_lines(text).strip()
