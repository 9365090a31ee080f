"""Every command, and the parsers behind them, under hostile arguments.

The pure parsers are checked directly. Then each command is driven end to end through
the real bot against the fake Bot API, one running bot per test with the examples sent
one after another: whatever follows the command (any Unicode, markup, control
characters, very long text, numbers no database holds), the bot answers with a message
Telegram accepts, never with the error handler's apology, logs no error, and queues
only messages Telegram would accept.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, col, select

from bot.access import STRANGER_TEXT
from bot.app import COMMANDS
from bot.broadcasts import MAX_TEXT, parse_broadcast
from bot.countries import understand_country
from bot.curfews.parsing import parse_curfew_request, parse_until
from bot.curfews.texts import describe
from bot.feeds import parse_source_args
from bot.rollcall.parsing import MAX_MESSAGE, parse_checkin
from bot.sim.telegram.state import SentMessage
from bot.sim.telegram.validation import check_message_text
from db import curfews, leads
from db.engine import session_scope
from db.models import (
    AuditEntry,
    Curfew,
    CurfewStatus,
    Delivery,
    Role,
    Sender,
    Staff,
    Subscription,
)
from db.refusal import Refusal
from schedules.curfew_times import format_window
from schedules.zones import is_valid_zone
from tests.harness import ADMIN_ID, RunningBot
from tests.strategies import any_text, hostile_text

TODAY = date(2025, 10, 8)
SORRY = "Sorry, something went wrong"
MAX_AREA = 100  # db.models.Curfew.area


# What can follow a command in one Telegram message (4096 UTF-16 units in all).
def _fits(text: str) -> str:
    return text.encode("utf-16-le")[: 2 * 3900].decode("utf-16-le", "ignore")


arguments = any_text(5000).map(_fits)
countries = st.sampled_from(["KZ", "kz", "KAZ", "Kazakhstan", "South Korea", "Kazakstan", "ZZ"])
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["²", "١٢", "٣", "#3", "#", "0", "00", "-1", "1e3", "3.0", "9" * 40]),
)
windows = st.one_of(
    st.sampled_from(["23:00-07:00", "2300-0700", "11pm to 7am", "midnight-5am"]),
    st.sampled_from(["25:00-07:00", "7-7", "23:00-23:00"]) | hostile_text,
)
untils = st.one_of(
    st.sampled_from(["", " until 19 January", " until 29 February", " until 1 January 2020"]),
    st.sampled_from(
        [" until 31 December 9999", " until 9999-12-31", " until 0001-01-01", " until",
         " until 1 January 2200"]
    ),
    hostile_text.map(lambda t: " until " + t),
)  # fmt: skip
# Area names: Almaty (which picks Kazakhstan's zone) in a run of other capitalised words.
capitalised = st.one_of(
    st.lists(
        st.sampled_from(["Almaty", "New", "York", "Région", "X", "Of", "UTC"]), max_size=60
    ).map(" ".join),
    st.builds(
        lambda word, n: " ".join([word] * n[0] + ["Almaty"] + [word] * n[1]),
        st.sampled_from(["Région", "X", "New", "Oblast"]),
        st.tuples(st.integers(0, 20), st.integers(0, 20)),
    ),
)


# -- the pure parsers ----------------------------------------------------------------------
def clear(message: str) -> None:
    """A refusal fit to show a person: something to read, bounded whatever the input."""
    assert message.strip() and len(message) <= 1500, message[:200]
    assert SORRY not in message


@settings(max_examples=80)
@given(raw=st.one_of(arguments, st.builds(lambda c, t: f"{c} {t}", countries, arguments)))
def test_parse_broadcast(raw: str) -> None:
    try:
        request = parse_broadcast(raw)
    except Refusal as refusal:
        clear(refusal.text)
        return
    assert 0 < len(request.text) <= MAX_TEXT and len(request.country.code) == 2


@settings(max_examples=80)
@given(
    raw=st.one_of(
        arguments,
        st.builds(
            lambda c, a, w, u: f"{c} {a} {w}{u}",
            countries | st.sampled_from(["US", "RU", "United States"]),
            st.one_of(st.just(""), capitalised, hostile_text),
            windows,
            untils,
        ),
        st.builds(lambda a, w, u: f"KZ {a} {w}{u}", capitalised, windows, untils),
    ),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
@example(raw="KZ Almaty 23:00-07:00 until 31 December 9999", today=TODAY)
@example(raw="KZ Almaty 23:00-07:00 until 29 February", today=TODAY)
@example(raw="KZ " + "Oblast " * 20 + "Almaty 23:00-07:00", today=TODAY)
def test_parse_curfew_request(raw: str, today: date) -> None:
    try:
        request = parse_curfew_request(raw, today=today)
    except Refusal as refusal:
        clear(refusal.text)
        return
    assert request.area is None or 0 < len(request.area) <= MAX_AREA
    assert is_valid_zone(request.zone)
    # What the bot then shows and computes works for every date it accepted.
    curfew = Curfew(
        id=1,
        country=request.country,
        area=request.area,
        zone=request.zone,
        start=f"{request.window.start:%H:%M}",
        end=f"{request.window.end:%H:%M}",
        first_day=today,
        last_day=request.until,
    )
    describe(curfew, now=datetime.combine(today, time(12), tzinfo=UTC))
    for day in (today, request.until or today):
        format_window(request.zone, request.window, day)


@settings(max_examples=100)
@given(text=st.one_of(arguments, untils), today=st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_parse_until(text: str, today: date) -> None:
    try:
        until = parse_until(text, today=today)
    except ValueError as error:
        clear(str(error))
        return
    assert until >= today


def test_29_february_is_the_next_one_there_is() -> None:
    assert parse_until("29 February", today=TODAY) == date(2028, 2, 29)
    assert parse_until("29 Feb", today=date(2028, 3, 1)) == date(2032, 2, 29)


@settings(max_examples=80)
@given(
    raw=st.one_of(
        arguments,
        st.builds(
            lambda c, a, b, d: f"{c} {a} {b} {d}",
            countries,
            st.sampled_from(["", "2h", "0m", "99999h", "١h", "90m"]),
            arguments,
            st.sampled_from(["", "2h", "1h30m", "5m", "73h", "0h0m", "²h"]),
        ),
    )
)
def test_parse_checkin(raw: str) -> None:
    try:
        request = parse_checkin(raw, default_deadline=timedelta(hours=2))
    except Refusal as refusal:
        clear(refusal.text)
        return
    assert len(request.message) <= MAX_MESSAGE
    assert timedelta(minutes=5) <= request.deadline <= timedelta(hours=72)


@settings(max_examples=100)
@given(text=st.one_of(arguments, countries))
def test_understand_country(text: str) -> None:
    try:
        understand_country(text)
    except Refusal as refusal:
        clear(refusal.text)


@settings(max_examples=80)
@given(
    args=st.one_of(
        st.lists(hostile_text.filter(str.strip).map(str.strip), max_size=5),
        st.tuples(
            st.sampled_from(["rss", "RSS", "us-embassy", "fcdo", "us-state", "atom", ""]),
            st.one_of(
                st.sampled_from(["https://x.example/feed", "http://[::1", "https://[x]/"]),
                hostile_text.map(lambda t: "https://" + "".join(t.split())),
                st.just("https://x.example/" + "a" * 1200),
            ),
            st.lists(st.one_of(countries, hostile_text), max_size=3),
        ).map(lambda t: [t[0], t[1], *t[2]]),
    )
)
def test_parse_source_args(args: list[str]) -> None:
    try:
        _kind, url, country = parse_source_args([a for a in args if a])
    except Refusal as refusal:
        clear(refusal.text)
        return
    assert url.startswith(("http://", "https://")) and len(url) <= 1000
    assert country is None or len(country) == 2


# -- end to end ----------------------------------------------------------------------------
# One running bot per test; Hypothesis sends its examples to it one after another.
E2E = settings(
    max_examples=20,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Checked:
    """Sends commands and checks what came back, and what was logged and queued meanwhile."""

    def __init__(self, bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
        self.bot = bot
        self.caplog = caplog
        caplog.set_level(logging.WARNING)

    async def send(self, user_id: int, text: str) -> list[SentMessage]:
        bot = self.bot
        before = len(bot.fake.messages_to(user_id))
        logged = len(self.caplog.records)
        deliveries = self._delivery_count()
        await bot.say(user_id, text)
        await bot.settled()
        replies = bot.fake.messages_to(user_id)[before:]
        assert replies, f"no reply to {text[:80]!r}"
        for reply in replies:
            # The fake accepted it (it validates Telegram's HTML and length), and it is no
            # apology for an error.
            assert reply.method == "sendDocument" or reply.text.strip()
            assert SORRY not in reply.text, f"{text[:200]!r} broke the bot"
        errors = [
            f"{r.name}: {r.getMessage()}"
            for r in self.caplog.records[logged:]
            if r.levelno >= logging.ERROR
        ]
        assert not errors, errors
        self._check_outbox(since=deliveries)
        return replies

    def _delivery_count(self) -> int:
        with session_scope(self.bot.engine) as session:
            return len(session.exec(select(Delivery.id)).all())

    def _check_outbox(self, *, since: int) -> None:
        """Every message queued meanwhile is one Telegram will accept."""
        with session_scope(self.bot.engine) as session:
            texts = session.exec(select(Delivery.text).order_by(col(Delivery.id))).all()
        for text in texts[since:]:
            try:
                check_message_text(text)
            except ValueError as error:
                raise AssertionError(f"queued {text[:200]!r}: {error}") from None


def reply_text(replies: list[SentMessage]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
def checked(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> Checked:
    return Checked(bot, caplog)


def _person(bot: RunningBot, name: str, role: Role) -> Staff:
    """Someone who follows Kazakhstan (and, as a lead, leads it)."""
    if name not in bot.people:
        person = bot.enrol(name, role=role, countries=("KZ",))
        if role is Role.LEAD:
            with session_scope(bot.engine) as session:
                leads.lead(session, staff_id=person.id or 0, country="KZ")
    return bot.people[name]


def _user_for(bot: RunningBot, role: Role) -> int:
    if role is Role.ADMIN:
        return ADMIN_ID
    return _person(bot, f"Fuzz {role.value}", role).telegram_user_id


@E2E
@given(
    command=st.sampled_from([c.name for c in COMMANDS] + ["nosuchcommand"]),
    separator=st.sampled_from([" ", "\n", "  "]),
    argument=arguments,
)
async def test_every_command_answers_any_argument(
    checked: Checked, command: str, separator: str, argument: str
) -> None:
    role = next((c.role for c in COMMANDS if c.name == command), None) or Role.STAFF
    await checked.send(_user_for(checked.bot, role), f"/{command}{separator}{argument}")


def people(session: Session) -> list[Staff]:
    return list(session.exec(select(Staff)).all())


def _state(bot: RunningBot) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the audit log and the senders' heartbeats, and people
    without the details each message refreshes (their name, username and when they last
    wrote)."""
    with session_scope(bot.engine) as session:
        state = {}
        for table in SQLModel.metadata.sorted_tables:
            if table.name in (AuditEntry.__tablename__, Sender.__tablename__):
                continue
            rows = [tuple(r) for r in session.connection().execute(table.select()).all()]
            if table.name == Staff.__tablename__:
                rows = [(p.id, p.telegram_user_id, p.role, p.reachable) for p in people(session)]
            state[table.name] = sorted(rows, key=repr)
        return state


def _audit(bot: RunningBot) -> list[AuditEntry]:
    with session_scope(bot.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all())


STRANGER = 4_000_000_001


@E2E
@given(
    command=st.sampled_from([c.name for c in COMMANDS if c.role not in (None, Role.STAFF)]),
    argument=hostile_text,
)
async def test_staff_and_strangers_are_refused_politely(
    checked: Checked, command: str, argument: str
) -> None:
    """Below the role, or not enrolled at all: one polite line, whatever the argument;
    nothing changes but one audit entry of the refusal."""
    role = next(c.role for c in COMMANDS if c.name == command)
    staff = _person(checked.bot, "Fuzz staff", Role.STAFF)
    who = "admins" if role is Role.ADMIN else "security leads"
    refusals = {
        staff.telegram_user_id: f"Sorry, only {who} can do that.",
        STRANGER: STRANGER_TEXT,
    }
    checked.bot.clock.advance(minutes=1)  # a stranger is answered once a minute at most
    for user_id, refusal in refusals.items():
        before, audited = _state(checked.bot), len(_audit(checked.bot))
        replies = await checked.send(user_id, f"/{command} {argument}")
        assert [r.text for r in replies] == [refusal]
        assert _state(checked.bot) == before
        (entry,) = _audit(checked.bot)[audited:]
        assert (entry.actor_telegram_id, entry.outcome) == (user_id, "refused")
        assert entry.actor_staff_id == (staff.id if user_id != STRANGER else None)


@E2E
@given(command=st.sampled_from([c.name for c in COMMANDS if c.listed]), argument=hostile_text)
async def test_strangers_get_one_line_that_reveals_nothing(
    checked: Checked, command: str, argument: str
) -> None:
    """Any command, even one every staff member may use: a stranger is not enrolled by it."""
    _person(checked.bot, "Fuzz staff", Role.STAFF)
    checked.bot.clock.advance(minutes=1)  # a stranger is answered once a minute at most
    before = _state(checked.bot)
    replies = await checked.send(STRANGER, f"/{command} {argument}")
    assert [r.text for r in replies] == [STRANGER_TEXT]
    assert _state(checked.bot) == before


@E2E
@given(
    command=st.sampled_from(
        ["acks", "curfew_end", "source_remove", "roll", "roll_csv", "checkin_end", "remind",
         "promote", "demote"]
    ),
    number=numbers,
    extra=st.sampled_from(["", " lead", " admin", " ²"]),
)  # fmt: skip
async def test_numbers_no_database_holds_are_refused(
    checked: Checked, command: str, number: str, extra: str
) -> None:
    replies = await checked.send(ADMIN_ID, f"/{command} {number}{extra}")
    if command in ("acks", "curfew_end", "source_remove"):
        text = reply_text(replies)
        assert re.match(r"Usage|There is no", text), text


@E2E
@given(
    country=st.sampled_from(["KZ", "Kazakhstan"]) | countries,
    area=st.one_of(st.just("Almaty"), capitalised, hostile_text),
    window=windows,
    until=untils,
)
@example(country="KZ", area="Almaty", window="23:00-07:00", until=" until 19 January")
@example(country="KZ", area="Almaty", window="2300-0700", until=" until 31 December 9999")
async def test_curfew_set_reads_or_refuses(
    checked: Checked, country: str, area: str, window: str, until: str
) -> None:
    lead = _user_for(checked.bot, Role.LEAD)
    replies = await checked.send(lead, f"/curfew_set {country} {area} {window}{until}")
    text = reply_text(replies)
    event(text[:24])
    if text.startswith("Please check"):
        # The draft is stored (an area fits its column) and can be confirmed.
        with session_scope(checked.bot.engine) as session:
            draft = session.exec(select(Curfew).order_by(col(Curfew.id).desc())).first()
        assert draft is not None and (draft.area is None or len(draft.area) <= MAX_AREA)
        message = replies[0]
        assert message.reply_markup is not None
        before = len(checked.bot.fake.callback_answers)
        checked.bot.press(
            lead, chat_id=lead, message_id=message.message_id, data=f"cf:ok:{draft.id}"
        )
        await checked.bot.fake.await_for(lambda f: len(f.callback_answers) > before)
        await checked.bot.settled()
        # Reminders are planned from it; then it is lifted again.
        await checked.send(lead, f"/curfew_end {draft.id}")


@E2E
@given(
    country=countries,
    message=arguments,
    deadline=st.sampled_from(["", "2h", "90m", "1h30m", "4m", "73h", "٣٠m"]),
    first=st.booleans(),
)
@example(country="KZ", message="Are you <b>safe</b>? &amp; \x00 🚨", deadline="2h", first=False)
async def test_checkin_reads_or_refuses(
    checked: Checked, country: str, message: str, deadline: str, first: bool
) -> None:
    lead = _user_for(checked.bot, Role.LEAD)
    _user_for(checked.bot, Role.STAFF)  # someone to ask
    argument = f"{deadline} {message}" if first else f"{message} {deadline}"
    replies = await checked.send(lead, f"/checkin {country} {argument}"[:4000])
    event(replies[0].text[:24])
    if "Roll call #" in replies[0].text:
        await checked.send(lead, f"/checkin_end {country}")


@E2E
@given(country=countries, text=arguments, send=st.booleans())
async def test_broadcast_previews_or_refuses(
    checked: Checked, country: str, text: str, send: bool
) -> None:
    lead = _user_for(checked.bot, Role.LEAD)
    _user_for(checked.bot, Role.STAFF)
    replies = await checked.send(lead, f"/broadcast {country} {text}")
    preview = replies[0]
    event(preview.text[:24])
    if preview.reply_markup is not None and send:
        data = preview.reply_markup["inline_keyboard"][0][0]["callback_data"]
        before = len(checked.bot.fake.callback_answers)
        checked.bot.press(lead, chat_id=lead, message_id=preview.message_id, data=data)
        await checked.bot.fake.await_for(lambda f: len(f.callback_answers) > before)
        await checked.bot.settled()
        checked._check_outbox(since=0)


@E2E
@given(note=arguments, command=st.sampled_from(["safe", "help_me"]))
async def test_notes_reach_the_leads_intact(checked: Checked, note: str, command: str) -> None:
    staff = _user_for(checked.bot, Role.STAFF)
    await checked.send(staff, f"/{command} {note}")


@E2E
@given(
    text=st.one_of(
        arguments,
        st.builds(
            lambda a, place, b: (
                f"Kazakhstan: {a} A curfew is in place in {place} from "
                f"23:00 to 07:00 until 9 May. {b}"
            ),
            hostile_text,
            st.one_of(capitalised, hostile_text),
            hostile_text,
        ),
    )
)
async def test_pasted_text_is_read_or_refused(checked: Checked, text: str) -> None:
    lead = _user_for(checked.bot, Role.LEAD)
    await checked.send(lead, text if text.strip() and not text.startswith("/") else f"x{text}")


@E2E
@given(name=st.one_of(countries, arguments))
async def test_subscribe_changes_nothing_when_refused(checked: Checked, name: str) -> None:
    staff = _person(checked.bot, "Fuzz staff", Role.STAFF)

    def followed() -> list[str]:
        with session_scope(checked.bot.engine) as session:
            rows = session.exec(select(Subscription).where(Subscription.staff_id == staff.id))
            return sorted(row.country for row in rows)

    before = followed()
    replies = await checked.send(staff.telegram_user_id, f"/subscribe {name}")
    text = reply_text(replies)
    if re.match(r"Which country|That is \d+ names", text):
        assert followed() == before
        return
    # Every line accounts for names read: added, already followed, a city's country, or
    # not understood; the database changed by exactly the countries said to be added.
    added: list[str] = []
    for line in text.split("\n"):
        if line.startswith("You will now get alerts for "):
            added += re.findall(r"\(([A-Z]{2})\)", line)
        elif line.startswith("You already follow "):
            assert set(re.findall(r"\(([A-Z]{2})\)", line)) <= set(before), line
        else:
            assert re.match(
                r"I don't know the country “|.+ is in .+\.$|Nothing else was changed\.$", line
            ), line
    assert not set(added) & set(before)
    assert followed() == sorted([*before, *added])


async def test_long_curfew_lists_are_split(checked: Checked) -> None:
    """Forty curfews with the longest area names: /curfews and /curfew still answer."""
    lead = _user_for(checked.bot, Role.LEAD)
    staff = _user_for(checked.bot, Role.STAFF)
    now = checked.bot.clock()
    with session_scope(checked.bot.engine) as session:
        for n in range(40):
            curfews.create(
                session,
                country="KZ",
                area=f"{n} " + "Almaty <&> " * 8,
                zone="Asia/Almaty",
                start="23:00",
                end="07:00",
                first_day=now.date(),
                last_day=None,
                status=CurfewStatus.ACTIVE,
                now=now,
            )
    for user_id, command in ((lead, "/curfews"), (staff, "/curfew"), (lead, "/curfews KZ")):
        replies = await checked.send(user_id, command)
        assert len(replies) > 1 and "39 Almaty &lt;&amp;&gt;" in reply_text(replies)
