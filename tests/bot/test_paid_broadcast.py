"""Paid broadcasts (PAID_BROADCAST): the most urgent messages go past the free rate,
everything else keeps to it, each paid one is recorded, and a refusal loses nothing."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.render import delivery_report
from bot.settings import BotSettings
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db import deliveries
from db.deliveries import Counts, Recipient
from db.engine import session_scope
from db.models import Delivery, DeliveryKind, DeliveryStatus, Priority, Role, Staff
from db.senders import Share
from db.types import utcnow
from tests.harness import MutableClock, RunningBot, queue, running_bot, until_recorded

# The free rate, low enough that a loaded machine sends paid messages well past it.
FREE_RATE = 5.0


@pytest.fixture
async def paying(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> AsyncIterator[RunningBot]:
    paid = settings.model_copy(update={"paid_broadcast": True, "send_rate_per_second": FREE_RATE})
    # Telegram's limits: the free rate for ordinary messages, 1,000 a second for paid ones.
    fake.rate_limits = RateLimits(global_per_second=FREE_RATE, per_chat_per_second=20)
    async with running_bot(paid, engine=engine, fake=fake, clock=clock) as running:
        yield running


def _queue(bot: RunningBot, people: list[Staff], text: str, *, priority: Priority) -> None:
    kind = (
        DeliveryKind.ROLLCALL_QUESTION if priority is Priority.CRITICAL else DeliveryKind.BROADCAST
    )
    queue(bot, people, text, key=text, priority=priority, kind=kind)


def _busiest_second(messages: list[SentMessage]) -> int:
    """The most of `messages` Telegram took within any one second."""
    times = sorted(m.at for m in messages)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def _rows(engine: Engine) -> list[Delivery]:
    with session_scope(engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


async def test_a_roll_call_goes_past_the_free_rate_as_paid_and_the_rest_keeps_to_it(
    paying: RunningBot,
) -> None:
    people = [paying.enrol(f"P{n}") for n in range(60)]
    _queue(paying, people[:12], "Routine notice", priority=Priority.ROUTINE)
    _queue(paying, people, "Are you safe?", priority=Priority.CRITICAL)
    await paying.fake.await_for(lambda f: len(f.sent) == 72)
    asked = [m for m in paying.fake.sent if m.text == "Are you safe?"]
    routine = [m for m in paying.fake.sent if m.text == "Routine notice"]
    assert len(asked) == 60 and all(m.paid for m in asked)
    assert len(routine) == 12 and not any(m.paid for m in routine)
    # Past the free rate, and without a single 429: paid messages are counted apart.
    assert _busiest_second(asked) > FREE_RATE * 2
    # (one more at most: the network's jitter between the bot's clock and Telegram's)
    assert _busiest_second(routine) <= FREE_RATE + 1
    assert paying.fake.too_many_requests == 0
    assert paying.fake.stars_spent == pytest.approx(60 * FakeTelegram.PAID_BROADCAST_STARS)

    await until_recorded(paying.engine)
    rows = _rows(paying.engine)
    assert {(r.text, r.paid) for r in rows} == {("Are you safe?", True), ("Routine notice", False)}
    assert paying.services.dispatcher is not None
    assert paying.services.dispatcher.paid_count == 60


async def test_without_paid_broadcasts_nothing_is_paid(bot: RunningBot) -> None:
    people = [bot.enrol(f"P{n}") for n in range(3)]
    _queue(bot, people, "Are you safe?", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: len(f.sent) == 3)
    assert not any(m.paid for m in bot.fake.sent)
    assert bot.fake.stars_spent == 0
    await until_recorded(bot.engine)
    assert not any(r.paid for r in _rows(bot.engine))


async def test_when_the_stars_run_out_every_message_still_goes_and_the_admins_hear_once(
    paying: RunningBot,
) -> None:
    admin = paying.enrol("Ada", role=Role.ADMIN)
    people = [paying.enrol(f"P{n}") for n in range(8)]
    # Enough for three paid messages.
    paying.fake.star_balance = 3 * FakeTelegram.PAID_BROADCAST_STARS
    _queue(paying, people, "Are you safe?", priority=Priority.CRITICAL)
    await paying.fake.await_for(
        lambda f: (
            all(f.messages_to(p.chat_id) for p in people) and bool(f.messages_to(admin.chat_id))
        )
    )
    asked = [m for m in paying.fake.sent if m.text == "Are you safe?"]
    assert len(asked) == 8
    assert sorted(m.chat_id for m in asked) == sorted(p.chat_id for p in people)
    assert sum(m.paid for m in asked) == 3
    (notice,) = paying.fake.messages_to(admin.chat_id)
    assert "Telegram refused a paid broadcast" in notice.text
    assert "balance_too_low" in notice.text.lower()

    await until_recorded(paying.engine)
    questions = [r for r in _rows(paying.engine) if r.text == "Are you safe?"]
    assert {r.status for r in questions} == {DeliveryStatus.SENT.value}
    assert sum(r.paid for r in questions) == 3
    # Going again at the free rate is not a failed attempt.
    assert max(r.attempts for r in questions) == 1


def test_the_delivery_report_counts_paid_broadcasts_only_when_there_are_some() -> None:
    some = delivery_report(country="KZ", counts=Counts(sent=4, paid=3), finished=True)
    assert "⭐ sent as paid broadcasts: 3" in some
    assert "paid" not in delivery_report(country="KZ", counts=Counts(sent=4), finished=True)


async def test_the_live_roll_counts_who_was_asked_by_paid_broadcast(paying: RunningBot) -> None:
    lena = paying.enrol("Lena", role=Role.LEAD, answers_for=("KZ",))
    people = [paying.enrol(f"P{n}", countries=("KZ",)) for n in range(6)]
    roll = await paying.say(lena.telegram_user_id, "/checkin KZ Are you safe?")
    assert "Roll call" in roll
    (live,) = paying.fake.messages_to(lena.chat_id)
    await paying.fake.await_for(
        lambda f: "⭐ asked by paid broadcast: 6" in f.current_text(lena.chat_id, live.message_id)
    )
    questions = [m for p in people for m in paying.fake.messages_to(p.chat_id)]
    assert len(questions) == 6 and all(m.paid for m in questions)


async def _held_by_another_process(bot: RunningBot, share: Share) -> list[SentMessage]:
    """A critical and a routine message queued while another process's 429 (`share`, as
    a heartbeat reads it) holds: both as Telegram took them, in the order it did."""
    seat = bot.services.seat
    assert seat is not None
    kim, lee = bot.enrol("Kim"), bot.enrol("Lee")
    seat._apply(share)
    _queue(bot, [kim], "Are you safe?", priority=Priority.CRITICAL)
    _queue(bot, [lee], "Routine notice", priority=Priority.ROUTINE)
    await bot.fake.await_for(
        lambda f: bool(f.messages_to(kim.chat_id)) and bool(f.messages_to(lee.chat_id))
    )
    return sorted(
        [*bot.fake.messages_to(kim.chat_id), *bot.fake.messages_to(lee.chat_id)], key=lambda m: m.at
    )


async def test_while_paid_broadcasts_must_wait_critical_messages_go_first_at_the_free_rate(
    paying: RunningBot,
) -> None:
    # Another process's paid broadcast was answered 429: Telegram counts those apart, so
    # the free rate is open, and a critical message goes by it rather than wait.
    pause = 5.0
    asked = time.monotonic()
    until = utcnow() + timedelta(seconds=pause)
    first, second = await _held_by_another_process(
        paying, Share(index=0, count=1, paid_flooded_until=until)
    )
    assert [first.text, second.text] == ["Are you safe?", "Routine notice"]
    assert not first.paid and first.at - asked < pause
    dispatcher = paying.services.dispatcher
    assert dispatcher is not None and dispatcher.budget.paid_pacer is not None
    assert dispatcher.budget.paid_pacer.paused_for() > 0  # still held, and kept


async def test_a_free_rate_429_another_process_got_holds_only_the_free_rate(
    paying: RunningBot,
) -> None:
    asked = time.monotonic()
    until = utcnow() + timedelta(seconds=1.5)
    first, second = await _held_by_another_process(
        paying, Share(index=0, count=1, flooded_until=until)
    )
    assert [first.text, second.text] == ["Are you safe?", "Routine notice"]
    assert first.paid
    assert second.at - asked >= 1.2  # every wait Telegram asks for is kept


def _tried(fake: FakeTelegram) -> bool:
    """Whether a message was sent, or refused."""
    return any(method == "sendMessage" for method, _ in fake.calls)


def _sent_to(bot: RunningBot, person: Staff) -> SentMessage:
    (message,) = bot.fake.messages_to(person.chat_id)
    return message


def _refuse_with_429(bot: RunningBot, person: Staff, pause: int) -> float:
    """Telegram answers the next message to `person` with a 429 for `pause` seconds;
    returns the time it was armed."""
    bot.fake.fail_next(
        "sendMessage",
        status=429,
        description=f"Too Many Requests: retry after {pause}",
        retry_after=pause,
        chat_id=person.chat_id,
    )
    return time.monotonic()


async def test_a_429_to_a_paid_broadcast_holds_paid_sends_alone(paying: RunningBot) -> None:
    # Telegram counts paid broadcasts apart: while it asks them to wait, the free rate is
    # open, and a critical message goes by it rather than wait.
    pause = 5
    ada, ben, cy = (paying.enrol(n) for n in ("Ada", "Ben", "Cy"))
    asked = _refuse_with_429(paying, ada, pause)
    _queue(paying, [ada], "Leave now", priority=Priority.CRITICAL)
    await paying.fake.await_for(_tried)
    _queue(paying, [ben], "Are you safe?", priority=Priority.CRITICAL)
    _queue(paying, [cy], "Routine notice", priority=Priority.NORMAL)
    await paying.fake.await_for(lambda f: all(f.messages_to(p.chat_id) for p in (ben, cy)))
    ben_got, cy_got = _sent_to(paying, ben), _sent_to(paying, cy)
    assert not ben_got.paid and ben_got.at - asked < pause
    assert cy_got.at - asked < pause
    # Ada's goes once the wait is over, paid again.
    await paying.fake.await_for(lambda f: bool(f.messages_to(ada.chat_id)))
    ada_got = _sent_to(paying, ada)
    assert ada_got.paid and ada_got.at - asked >= pause - 0.2


async def test_a_429_at_the_free_rate_holds_free_sends_alone(paying: RunningBot) -> None:
    pause = 3
    dee, eve, fay = (paying.enrol(n) for n in ("Dee", "Eve", "Fay"))
    asked = _refuse_with_429(paying, dee, pause)
    _queue(paying, [dee], "Routine notice", priority=Priority.NORMAL)
    await paying.fake.await_for(_tried)
    _queue(paying, [eve], "Another notice", priority=Priority.NORMAL)
    _queue(paying, [fay], "Are you safe?", priority=Priority.CRITICAL)
    await paying.fake.await_for(lambda f: all(f.messages_to(p.chat_id) for p in (dee, eve, fay)))
    fay_got = _sent_to(paying, fay)
    assert fay_got.paid and fay_got.at - asked < pause
    # Every free message waits as long as Telegram asked.
    assert all(_sent_to(paying, p).at - asked >= pause - 0.2 for p in (dee, eve))


async def test_what_goes_keeps_its_buttons_and_formatting_and_a_photo_goes_as_a_copy(
    paying: RunningBot,
) -> None:
    """A call for help's photo reaches every lead as a copy of hers, captioned and with
    the call's buttons, as a paid broadcast past the free rate; a routine message keeps
    its formatting and buttons too, at the free rate."""
    nina = paying.enrol("Nina")
    leads = [paying.enrol(f"Lead {n}", role=Role.LEAD) for n in range(12)]
    update = paying.fake.inject_message(nina.telegram_user_id, "", media="photo")
    photo_id = int(update["message"]["message_id"])
    buttons = {"inline_keyboard": [[{"text": "Reply", "callback_data": "hc:reply:1"}]]}
    caption = "📷 <b>Nina</b> sent a photo (call #1)"
    with session_scope(paying.engine) as session:
        for kind, key, text, priority, copy_from in (
            (DeliveryKind.HELP_MESSAGE, "photo", caption, Priority.CRITICAL, photo_id),
            (DeliveryKind.BROADCAST, "notice", "<i>Stay indoors</i>", Priority.NORMAL, None),
        ):
            deliveries.enqueue(
                session,
                kind=kind,
                dedupe_key=key,
                recipients=[Recipient(lead.id or 0, lead.chat_id) for lead in leads],
                parts=[text],
                priority=priority,
                now=paying.clock(),
                reply_markup=buttons,
                copy_from=(nina.chat_id, copy_from) if copy_from is not None else None,
            )
    paying.services.wake_dispatcher()
    await paying.fake.await_for(lambda f: all(len(f.messages_to(p.chat_id)) == 2 for p in leads))
    copies = [m for m in paying.fake.sent if m.method == "copyMessage"]
    notices = [m for m in paying.fake.sent if m.text == "<i>Stay indoors</i>"]
    assert {(m.chat_id, m.copy_of, m.text, m.parse_mode, m.paid) for m in copies} == {
        (lead.chat_id, (nina.chat_id, photo_id), caption, "HTML", True) for lead in leads
    }
    assert {(m.chat_id, m.method, m.parse_mode, m.paid) for m in notices} == {
        (lead.chat_id, "sendMessage", "HTML", False) for lead in leads
    }
    assert all(m.reply_markup == buttons for m in copies + notices)
    assert _busiest_second(copies) > FREE_RATE * 2


async def test_paid_broadcasts_have_more_requests_under_way_than_the_free_rate_allows(
    paying: RunningBot,
) -> None:
    # At 1,000 a second, a few requests waiting on Telegram's answers must not hold the rest.
    paying.services.settings.send_max_in_flight = 2
    people = [paying.enrol(f"P{n}") for n in range(6)]
    paying.fake.slow("sendMessage", 0.5, count=6)
    _queue(paying, people, "Are you safe?", priority=Priority.CRITICAL)
    await paying.fake.await_for(lambda f: len(f.sent) == 6)
    assert all(m.paid for m in paying.fake.sent)
    arrived = [
        t
        for (method, _), t in zip(paying.fake.calls, paying.fake.call_times, strict=True)
        if method == "sendMessage"
    ]
    events = sorted([(t, 1) for t in arrived] + [(m.at, -1) for m in paying.fake.sent])
    assert max(itertools.accumulate(step for _, step in events)) > 2
