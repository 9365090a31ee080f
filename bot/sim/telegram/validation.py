"""What Telegram accepts in a message: its HTML, its length and its buttons.

A message that Telegram would reject is rejected by the simulated Telegram too, with
Telegram's description, instead of passing silently; and an accepted one is stored as
Telegram stores it (plain text plus entities), so the bot reads it back as in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bot.sim.telegram.errors import ApiError, bad_request

# Telegram limits that the bot must respect.
MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64


def utf16_len(text: str) -> int:
    # Telegram measures lengths and entity offsets in UTF-16 code units, so an emoji
    # outside the BMP counts twice.
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML


_ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
# The only named entities Telegram understands; everything else (&nbsp; ...) is an error.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class _OpenTag:
    tag: str
    attrs: dict[str, str | None]
    start: int  # UTF-16 offset in the plain text
    language: str | None = None  # for <pre>: from a nested <code class="language-...">


class _TelegramHtml(HTMLParser):
    """Parses Telegram-flavoured HTML the way Telegram does.

    Raises ``ApiError`` where Telegram would reject the text, and otherwise yields
    what Telegram stores: the plain text plus message entities (UTF-16 offsets), so
    the bot sees ``message.text`` / ``text_html`` exactly as in production.

    ``convert_charrefs=False`` so entities reach us individually and a bare ``&``
    shows up in the data, which is how we can reject what Telegram rejects.
    """

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._stack: list[_OpenTag] = []
        self._plain: list[str] = []
        self._utf16 = 0  # length so far of the text Telegram would display
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]], int]:
        """Return (plain text, entities, plain length in UTF-16 units)."""
        self.feed(self._text)
        self.close()
        if self._stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1].tag}"'
            )
        # Outer entities first, like Telegram.
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._plain), entities, self._utf16

    # Errors quote UTF-8 byte offsets, like Telegram's "... at byte offset N".
    def _index(self, extra_chars: int = 0) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col + extra_chars

    def _offset(self, extra_chars: int = 0) -> int:
        return len(self._text[: self._index(extra_chars)].encode("utf-8"))

    def _fail(self, what: str) -> ApiError:
        return bad_request(f"can't parse entities: {what}")

    def _add_plain(self, text: str) -> None:
        self._plain.append(text)
        self._utf16 += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        allowed = _ALLOWED_ATTRS.get(tag)
        if allowed is None:
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        for name, _value in attrs:
            if name not in allowed:
                raise self._fail(
                    f'Unsupported attribute "{name}" of tag "{tag}" at byte offset {self._offset()}'
                )
        attr_map = dict(attrs)
        if tag == "span" and attr_map.get("class") != "tg-spoiler":
            raise self._fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            )
        self._stack.append(_OpenTag(tag, attr_map, self._utf16))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise self._fail(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        if self._stack[-1].tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self._stack[-1].tag}>", found "</{tag}>"'
            )
        opened = self._stack.pop()
        css_class = opened.attrs.get("class") or ""
        if (
            tag == "code"
            and self._stack
            and self._stack[-1].tag == "pre"
            and css_class.startswith("language-")
        ):
            # <pre><code class="language-x"> is one "pre" entity with a language.
            self._stack[-1].language = css_class.removeprefix("language-")
            return
        length = self._utf16 - opened.start
        if length == 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag],
            "offset": opened.start,
            "length": length,
        }
        if tag == "a":
            if not opened.attrs.get("href"):
                return  # a link without a target is just text
            entity["url"] = opened.attrs["href"]
        elif tag == "pre" and opened.language:
            entity["language"] = opened.language
        elif tag == "blockquote" and "expandable" in opened.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.attrs.get("emoji-id") or ""
        self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        for bad in ("&", "<"):
            pos = data.find(bad)
            if pos >= 0:
                raise self._fail(f'Unescaped "{bad}" at byte offset {self._offset(pos)}')
        self._add_plain(data)

    def handle_entityref(self, name: str) -> None:
        # html.parser also accepts "&amp" without the semicolon; Telegram does not.
        if name not in _NAMED_ENTITIES or not self._text.startswith(f"&{name};", self._index()):
            raise self._fail(
                f'Unsupported HTML entity "&{name}" at byte offset {self._offset()}; '
                "only &lt; &gt; &amp; &quot; and numeric entities are allowed"
            )
        self._add_plain(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            char = chr(code)
        except (ValueError, OverflowError):
            char = ""
        if not char or not self._text.startswith(f"&#{name};", self._index()):
            raise self._fail(f'Invalid numeric entity "&#{name}" at byte offset {self._offset()}')
        self._add_plain(char)

    def handle_comment(self, data: str) -> None:
        raise self._fail(f"Comments are not supported (byte offset {self._offset()})")

    def handle_decl(self, decl: str) -> None:
        raise self._fail(f"Declarations are not supported (byte offset {self._offset()})")

    def handle_pi(self, data: str) -> None:
        raise self._fail(f"Processing instructions are not supported ({self._offset()})")

    def unknown_decl(self, data: str) -> None:
        raise self._fail(f"Unsupported declaration at byte offset {self._offset()}")


def checked_text(
    text: str, parse_mode: str | None, *, limit: int, too_long: str, allow_empty: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Apply Telegram's text validation (entities, emptiness, length after parsing).

    Returns the plain text and entities Telegram would store for the message.
    """
    if parse_mode is not None and parse_mode.upper() == "HTML":
        plain, entities, length = _TelegramHtml(text).parse()
    else:
        # Other parse modes (MarkdownV2) are passed through unparsed.
        plain, entities, length = text, [], utf16_len(text)
    if not allow_empty and not plain.strip():
        raise bad_request("message text is empty")
    if length > limit:
        raise bad_request(too_long)
    return plain, entities


def check_message_text(text: str, parse_mode: str | None = "HTML") -> str:
    """What Telegram would show for a message text sent with `parse_mode`.

    Raises ValueError with Telegram's description where Telegram would refuse the text
    (unsupported or unbalanced HTML, a bad entity, empty, over 4096 UTF-16 units), so
    tests can check messages that are built but not sent yet.
    """
    try:
        plain, _ = checked_text(
            text,
            parse_mode,
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
    except ApiError as error:
        raise ValueError(error.description) from None
    return plain


def check_markup(markup: dict[str, Any] | None) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
