"""Message rendering: Telegram's HTML subset, escaped input, and the 4096-character limit.

Everything that comes from people or feeds is escaped here and nowhere else; only the
few tags written in this module reach Telegram.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from db.deliveries import Counts
from schedules.countries import country_name
from schedules.zones import as_utc, local_and_utc, one_offset, zones_for_country

MESSAGE_LIMIT = 4096


def plural(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun agreeing: "1 person", "3 people", "0 minutes"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def profile_link(name: str, telegram_id: int | None, username: str | None = None) -> str:
    """A person's name linking to their Telegram profile, so that a lead reaches them in
    one tap with or without a username, and their @username when they have one."""
    shown = esc(name)
    if telegram_id is not None:
        shown = f'<a href="tg://user?id={int(telegram_id)}">{shown}</a>'
    return f"{shown} (@{esc(username)})" if username else shown


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _visible_len(fragment: str) -> int:
    """Telegram counts the text after entity parsing, in UTF-16 code units."""
    return _utf16_len(html.unescape(fragment))


def split_html(header: str, body: str, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a message whose `header` is trusted HTML and `body` is plain text.

    The body is escaped here and cut at paragraph, line or word boundaries so that
    no escape sequence is broken and every part fits the limit.
    """
    if not body:
        return [header]
    first_room = limit - _utf16_len(header) - 2 if header else limit
    parts: list[str] = []
    remaining = body
    room = first_room
    while remaining:
        chunk = _take(remaining, room)
        parts.append(esc(chunk.strip("\n")))
        remaining = remaining[len(chunk) :].lstrip("\n ")
        room = limit - 16  # leaves space for the "(2/3)" prefix added below
    if header:
        parts[0] = f"{header}\n\n{parts[0]}" if parts[0] else header
    if len(parts) > 1:
        total = len(parts)
        parts = [
            part if index == 0 else f"({index + 1}/{total})\n{part}"
            for index, part in enumerate(parts)
        ]
    return parts


_TAG = re.compile(r"<[^>]*>")


def split_lines(header: str, lines: Sequence[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a message whose header and lines are all trusted HTML, between lines.

    Each line must close the tags it opens and fit a message on its own; what Telegram
    counts is the text without tags.
    """
    parts: list[str] = []
    current = header
    for line in lines:
        joined = f"{current}\n{line}" if current else line
        if current and _visible_len(_TAG.sub("", joined)) > limit - 16:
            parts.append(current)
            joined = line
        current = joined
    parts.append(current)
    if len(parts) > 1:
        total = len(parts)
        parts = [
            part if index == 0 else f"({index + 1}/{total})\n{part}"
            for index, part in enumerate(parts)
        ]
    return parts


def _take(text: str, room: int) -> str:
    """The longest prefix of `text` whose escaped form fits in `room`, cut at a boundary."""
    if _visible_len(esc(text)) <= room:
        return text
    # Escaping only makes text longer in the source, never in what Telegram counts, so
    # measuring the plain prefix is exact; bisect for the longest prefix that fits.
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if _utf16_len(text[:mid]) <= room:
            low = mid
        else:
            high = mid - 1
    prefix = text[:low]
    for boundary in ("\n\n", "\n", ". ", " "):
        cut = prefix.rfind(boundary)
        if cut > low // 2:
            return prefix[: cut + len(boundary)]
    return prefix


def _cut_html(part: str, room: int) -> str:
    """The start of a part made by `split_html`, at most `room` UTF-16 units (what Telegram
    counts), never ending inside an escape ("&am"): its tags are all in the header, and
    the body has no bare "&"."""
    cut = part.encode("utf-16-le")[: 2 * room].decode("utf-16-le", "ignore")
    amp = cut.rfind("&", max(0, len(cut) - 5))
    return cut[:amp] if amp >= 0 and ";" not in cut[amp:] else cut


def utc_stamp(instant: datetime) -> str:
    return instant.strftime("%d %b %Y %H:%M UTC")


def time_in(countries: str | Iterable[str] | None, at: datetime, *, date_too: bool = True) -> str:
    """`at` as people in a country read it, and in UTC: "06 Jan 21:09 Almaty (06 Jan 16:09
    UTC)", or "21:09 Almaty (16:09 UTC)" without the date.

    The local time is that of the country's most populous zone, named by its city, so
    it is never ambiguous where a country's zones differ (Kazakhstan in 2022, Russia).
    With several countries, the first in their order whose zones all keep one offset
    then is preferred (pass sets sorted); with no known country, UTC alone.
    """
    codes = [countries] if isinstance(countries, str) else list(countries or ())
    known = [(code, zones) for code in codes if (zones := zones_for_country(code))]
    lo, hi = as_utc(at) - timedelta(hours=12), as_utc(at) + timedelta(hours=12)
    single = [zones for _, zones in known if one_offset(zones, lo, hi)]
    if single or known:
        zone = (single or [known[0][1]])[0][0]
        return local_and_utc(zone, at, date_too=date_too)
    return utc_stamp(at) if date_too else f"{as_utc(at):%H:%M} UTC"


def broadcast_message(*, country: str, text: str, author: str, at: datetime) -> list[str]:
    header = (
        f"📢 <b>Security team message: {esc(country_name(country))}</b>\n"
        f"<i>From {esc(author)}, {esc(time_in(country, at))}</i>"
    )
    return split_html(header, text)


def broadcast_preview(
    *, parts: list[str], recipients: int, unreachable: int, present: int = 0
) -> str:
    """What the lead sees before Send: exactly the staff message, then who will get it
    (`present`: of them, people there now who do not follow the country)."""
    shown = parts[0] if len(parts) == 1 else _cut_html(parts[0], MESSAGE_LIMIT - 400) + "…"
    note = f" ({unreachable} of them currently unreachable)" if unreachable else ""
    people = "person" if recipients == 1 else "people"
    extra = f"\nIt will arrive in {len(parts)} messages." if len(parts) > 1 else ""
    who = (
        f": {recipients - present} following the country, {present} there now on a trip "
        "or by their location"
        if present
        else ""
    )
    return (
        f"<b>Preview</b>: staff will see this message:\n\n{shown}\n\n"
        f"———\nIt goes to <b>{recipients}</b> {people}{who}{note}.{extra} Send it?"
    )


def delivery_report(*, country: str, counts: Counts, finished: bool) -> str:
    state = "Delivered" if finished else "Sending"
    lines = [
        f"<b>{state}: broadcast to {esc(country_name(country))}</b>",
        f"✅ delivered: {counts.sent}",
        f"⏳ waiting: {counts.pending}",
        f"❌ failed: {counts.failed}",
        f"🚫 unreachable: {counts.unreachable}",
        f"of {counts.total}",
    ]
    if counts.by_sms:
        lines.append(f"📱 reached by SMS: {counts.by_sms}")
    if counts.by_email:
        lines.append(f"✉️ reached by e-mail: {counts.by_email}")
    if counts.paid:
        lines.append(f"⭐ sent as paid broadcasts: {counts.paid}")
    return "\n".join(lines)


def paid_refused_notice(*, reason: str, minutes: float) -> str:
    return (
        "⚠️ <b>Telegram refused a paid broadcast.</b>\n"
        f"It said: {esc(reason)}\n"
        "Roll calls, calls for help and departure advisories now go at the free rate "
        f"(about 30 a second) for {minutes:.0f} minutes; nothing is lost. Check the bot's "
        "Telegram Stars balance."
    )


def unreachable_notice(*, name: str, telegram_id: int, username: str | None, reason: str) -> str:
    who = profile_link(name, telegram_id, username)
    return (
        f"⚠️ <b>{who} can no longer be reached on Telegram.</b>\n"
        f"{esc(reason)}\nMessages to them are stopped until they write to the bot again; "
        "please reach them another way."
    )


_KIND_LABELS = {
    "departure": "🚨 <b>DEPARTURE ADVISORY</b>",
    "curfew": "🌙 <b>Curfew</b>",
    "security": "⚠️ <b>Security alert</b>",
    "advisory": "ℹ️ <b>Travel advisory</b>",
}


def feed_alert_message(
    *,
    kind: str,
    country: str | None,
    title: str,
    summary: str,
    link: str | None,
    level_change: str | None,
    detected_at: datetime,
    published_at: datetime | None,
    alert_id: int | None = None,
) -> list[str]:
    """A feed alert as staff see it: label, country, title, level change, summary, link, time.

    The alert number lets leads ask `/acks <number>`.
    """
    place = esc(country_name(country)) if country else "Country not recognised"
    lines = [f"{_KIND_LABELS.get(kind, esc(kind))}: {place}", f"<b>{esc(title)}</b>"]
    if level_change:
        lines.append(f"<b>{esc(level_change)}</b>")
    when = f"Published {time_in(country, published_at)}; " if published_at else ""
    footer = f"{when}detected {time_in(country, detected_at)}"
    if alert_id is not None:
        footer += f" · alert {alert_id}"
    if link and link.startswith(("https://", "http://")):
        footer = f'<a href="{html.escape(link, quote=True)}">Source</a> · {footer}'
    header = "\n".join(lines)
    parts = split_html(header, summary, limit=MESSAGE_LIMIT - len(footer) - 2)
    parts[-1] = f"{parts[-1]}\n\n{footer}"
    return parts


def acknowledged(text_html: str, at: datetime, country: str | None) -> str:
    return f"{text_html}\n\n✅ <b>Acknowledged</b> {time_in(country, at)}"
