"""Messages built from feed content and people's words keep to Telegram's HTML rules.

Every message part is parsed with the validator the fake Bot API applies to what the bot
sends (Telegram's HTML subset, its entities, 4096 UTF-16 units), whatever the content:
markup, broken entities, control characters, bidi marks, emoji, or text far too long.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot import render
from bot.curfews.texts import describe, proposal_text
from bot.rollcall import texts
from bot.rollcall.parsing import MAX_MESSAGE
from bot.sim.telegram.validation import check_message_text
from db import checkins as db_checkins
from db.checkins import RollCall
from db.deliveries import Counts
from db.models import Curfew, CurfewStatus, Staff
from schedules.curfew_text import find_curfews
from schedules.rollcall import RollEntry
from tests.strategies import any_text, hostile_text, long_text

AT = datetime(2025, 10, 8, 12, 0, tzinfo=UTC)
_PART_PREFIX = re.compile(r"^\(\d+/\d+\)\n")

countries = st.sampled_from(["KZ", "US", "GB", "CD", "XK", "ZZ", "kz", ""])
# Hypothesis takes naive bounds and adds the zone itself.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def accepted(parts: list[str]) -> list[str]:
    """Each part as Telegram would show it; fails the test where Telegram would refuse."""
    assert parts, "no message at all"
    shown = []
    for part in parts:
        try:
            shown.append(check_message_text(part))
        except ValueError as error:
            raise AssertionError(f"Telegram would refuse {part[:300]!r}…: {error}") from None
    return shown


def words(text: str) -> str:
    """Text without any whitespace, to compare what was kept across cuts."""
    return "".join(text.split())


@settings(max_examples=150)
@given(
    header=st.sampled_from(["", "<b>Title</b>", "📢 <b>" + "x" * 300 + "</b>"]),
    body=any_text(12_000),
    limit=st.sampled_from([render.MESSAGE_LIMIT, 1000, 400]),
)
def test_split_html_parts_are_valid_and_lose_nothing(header: str, body: str, limit: int) -> None:
    # Callers always have something to say, and a header that fits.
    assume(header or body.strip())
    parts = render.split_html(header, body, limit=limit)
    shown = accepted(parts)
    for text in shown:
        assert len(text.encode("utf-16-le")) // 2 <= limit
    # The body comes back whole, in order, bar the whitespace at the cuts.
    plain_header = check_message_text(header) if header.strip() else ""
    rebuilt = "".join(_PART_PREFIX.sub("", text) for text in shown)
    assert words(rebuilt) == words(plain_header + body)


@settings(max_examples=150)
@given(
    kind=st.sampled_from(["departure", "curfew", "security", "advisory", "<b>", "x&y"]),
    country=st.none() | countries,
    title=any_text(500),  # what an alert holds (Alert.title)
    summary=any_text(8000),
    link=st.none()
    | st.sampled_from(["https://x.example/a?b=1&c=2", 'https://x/"><b>', "javascript:x", ""])
    | hostile_text.map(lambda t: "https://" + t),
    level_change=st.none() | hostile_text,
    published=st.none() | instants,
    alert_id=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
)
def test_feed_alert_messages_are_valid(
    kind: str,
    country: str | None,
    title: str,
    summary: str,
    link: str | None,
    level_change: str | None,
    published: datetime | None,
    alert_id: int | None,
) -> None:
    parts = render.feed_alert_message(
        kind=kind,
        country=country,
        title=title,
        summary=summary,
        link=link,
        level_change=level_change,
        detected_at=AT,
        published_at=published,
        alert_id=alert_id,
    )
    shown = accepted(parts)
    assert words(summary) in words("".join(_PART_PREFIX.sub("", text) for text in shown))


@settings(max_examples=100)
@given(
    country=countries,
    text=any_text(6000),
    author=any_text(300),
    recipients=st.integers(min_value=0, max_value=10**6),
)
def test_broadcast_message_and_preview_are_valid(
    country: str, text: str, author: str, recipients: int
) -> None:
    parts = render.broadcast_message(country=country, text=text, author=author, at=AT)
    accepted(parts)
    preview = render.broadcast_preview(parts=parts, recipients=recipients, unreachable=recipients)
    accepted([preview])


@settings(max_examples=50)
@given(
    name=any_text(300),
    telegram_id=st.integers(1, 2**63 - 1),
    username=st.none() | hostile_text,
    reason=any_text(1000),
)
def test_unreachable_notice_is_valid(
    name: str, telegram_id: int, username: str | None, reason: str
) -> None:
    notice = render.unreachable_notice(
        name=name, telegram_id=telegram_id, username=username, reason=reason
    )
    accepted([notice])
    assert f'<a href="tg://user?id={telegram_id}">' in notice


@settings(max_examples=30)
@given(country=countries, numbers=st.lists(st.integers(0, 10**9), min_size=4, max_size=4))
def test_delivery_report_is_valid(country: str, numbers: list[int]) -> None:
    counts = Counts(*numbers)
    for finished in (False, True):
        accepted([render.delivery_report(country=country, counts=counts, finished=finished)])


# -- roll calls and calls for help -----------------------------------------------------------
people = st.builds(
    lambda name, username: Staff(
        telegram_user_id=1, chat_id=1, display_name=name[:200], username=username
    ),
    any_text(300),
    st.none() | hostile_text.map(lambda t: t[:64]),
)
entries = st.lists(
    st.builds(
        RollEntry,
        member_id=st.integers(1, 10**6),
        staff_id=st.integers(1, 10**6),
        name=any_text(200),
        username=st.none() | hostile_text,
        answer=st.sampled_from([None, "safe", "help"]),
        answered_at=st.none() | instants,
        late=st.booleans(),
        note=st.none() | any_text(3000),
        location=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
        delivery=st.sampled_from([None, "pending", "sent", "failed", "unreachable"]),
        reachable=st.booleans(),
        telegram_id=st.none() | st.integers(1, 2**63 - 1),
    ),
    max_size=40,
)


def _round(country: str, message: str, status: str = "open") -> RollCall:
    return RollCall(
        id=7, country=country, message=message, status=status, started_at=AT, deadline_at=AT
    )


@settings(max_examples=60)
@given(
    person=people,
    note=st.none() | any_text(500),
    located=st.booleans(),
    followed=st.lists(countries, max_size=5),
    source=any_text(300),
)
def test_help_alert_is_valid(
    person: Staff, note: str | None, located: bool, followed: list[str], source: str
) -> None:
    location = db_checkins.Location(latitude=43.2, longitude=76.9, at=AT) if located else None
    text = texts.help_alert_text(
        person=person, note=note, location=location, countries=followed, source=source, at=AT
    )
    accepted([text])


@settings(max_examples=60)
@given(
    country=countries.filter(bool),
    message=any_text(1000),
    asked_by=st.none() | any_text(200),
    advisory=st.none() | any_text(2000),
    answer=st.sampled_from(list(db_checkins.Answer)),
    late=st.booleans(),
)
def test_roll_call_question_reminder_and_answer_are_valid(
    country: str,
    message: str,
    asked_by: str | None,
    advisory: str | None,
    answer: db_checkins.Answer,
    late: bool,
) -> None:
    rollcall = _round(country, message[:MAX_MESSAGE])
    question = texts.question_text(rollcall, asked_by=asked_by, advisory=advisory)
    accepted([question])
    accepted([texts.answered_text(question, country=country, answer=answer, at=AT, late=late)])
    accepted([texts.reminder_text(rollcall)])


@settings(max_examples=60)
@given(
    country=countries.filter(bool),
    status=st.sampled_from(["open", "past_deadline", "closed"]),
    roll=entries,
)
def test_rolls_and_deadline_reports_are_valid(
    country: str, status: str, roll: list[RollEntry]
) -> None:
    rollcall = _round(country, "", status)
    accepted(texts.roll_details(rollcall, roll))
    accepted(texts.deadline_report(rollcall, roll))


# -- curfews -------------------------------------------------------------------------------
@settings(max_examples=80)
@given(
    prefix=hostile_text,
    area=st.none() | any_text(300),
    suffix=any_text(3000),
    alert_id=st.none() | st.integers(1, 10**9),
)
def test_curfew_proposals_found_in_hostile_text_are_valid(
    prefix: str, area: str | None, suffix: str, alert_id: int | None
) -> None:
    place = f" in {area}" if area is not None else ""
    text = f"{prefix} A curfew is in place{place} from 23:00 to 07:00 until 9 May. {suffix}"
    found = find_curfews(text, reference=date(2025, 10, 8))
    for item in found:
        curfew = Curfew(
            id=3,
            country="KZ",
            area=item.area,
            zone="Asia/Almaty",
            start=f"{item.window.start:%H:%M}",
            end=f"{item.window.end:%H:%M}",
            first_day=date(2025, 10, 8),
            last_day=item.until,
            status=CurfewStatus.PROPOSED.value,
            alert_id=alert_id,
        )
        accepted([proposal_text(curfew, item, date(2025, 10, 8))])
        accepted(render.split_html("", describe(curfew, now=AT)))


@settings(max_examples=20)
@given(text=long_text(20_000))
def test_long_text_splits_into_valid_parts(text: str) -> None:
    accepted(render.split_html("<b>Header</b>", text))
