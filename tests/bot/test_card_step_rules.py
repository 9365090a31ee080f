"""Each step a country card takes through the outbox, at its edges: which pinned message an
unfollow takes down, an old copy the person deleted, a person who blocked the bot or whose
chat is gone, a card Telegram refuses, a passing failure, and what each step costs of the
flood budget."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.ratelimit import Pacer, SendBudget
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import cards
from db.engine import session_scope
from db.models import CountryCard, Delivery, Role, Staff
from tests.harness import MutableClock, PacerTime, RunningBot, running_bot, until_recorded

NOT_FOLLOWED = "You no longer follow this country."


def _show(
    bot: RunningBot,
    person: Staff,
    text: str,
    *,
    country: str = "KZ",
    following: bool = True,
    fresh: bool = False,
) -> None:
    """Make the person's card of `country` say `text`, as a change to it does."""
    with session_scope(bot.engine) as session:
        cards.show(
            session,
            staff_id=person.id or 0,
            chat_id=person.chat_id,
            country=country,
            text=text,
            now=bot.clock(),
            following=following,
            fresh=fresh,
        )
    bot.services.wake_dispatcher()


async def _pinned(bot: RunningBot, person: Staff, text: str) -> int:
    """Wait until the card saying `text` is the one message pinned in the chat; its id."""
    await bot.fake.await_for(lambda f: f.pinned_texts(person.chat_id) == [text])
    return bot.fake.pinned(person.chat_id)[0]


def _card_rows(engine: Engine, person: Staff) -> list[tuple[str, str | None]]:
    """(status, error) of each outbox row of the person's cards, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery.status, Delivery.last_error)
            .where(Delivery.staff_id == person.id, col(Delivery.card_id).is_not(None))
            .order_by(col(Delivery.id))
        ).all()
    return [(status, error) for status, error in rows]


def _reachable(engine: Engine, person: Staff) -> bool:
    with session_scope(engine) as session:
        found = session.get(Staff, person.id)
        assert found is not None
        return found.reachable


async def test_unfollowing_unpins_that_countrys_card_and_leaves_the_others(
    bot: RunningBot,
) -> None:
    kim = bot.enrol("Kim")
    _show(bot, kim, "Kazakhstan card")
    kazakhstan = await _pinned(bot, kim, "Kazakhstan card")
    _show(bot, kim, "Kyrgyzstan card", country="KG")
    await bot.fake.await_for(lambda f: len(f.pinned(kim.chat_id)) == 2)
    kyrgyzstan = bot.fake.pinned(kim.chat_id)[0]  # pinned last: on top
    _show(bot, kim, NOT_FOLLOWED, following=False)
    await bot.fake.await_for(lambda f: f.current_text(kim.chat_id, kazakhstan) == NOT_FOLLOWED)
    await until_recorded(bot.engine)
    assert bot.fake.pinned(kim.chat_id) == [kyrgyzstan]
    unpins = [p.message_id for p in bot.fake.pins if p.chat_id == kim.chat_id and not p.pinned]
    assert unpins == [kazakhstan]


async def test_an_old_copy_the_person_deleted_is_not_unpinned_again_and_again(
    bot: RunningBot,
) -> None:
    """Telegram says "message to unpin not found": the old copy is gone, and so is its pin."""
    kim = bot.enrol("Kim")
    _show(bot, kim, "Kazakhstan card")
    first = await _pinned(bot, kim, "Kazakhstan card")
    await until_recorded(bot.engine)
    bot.fake.delete_message(kim.chat_id, first)
    _show(bot, kim, "Kazakhstan card, fresh", fresh=True)
    second = await _pinned(bot, kim, "Kazakhstan card, fresh")
    await until_recorded(bot.engine)
    assert second != first
    assert _card_rows(bot.engine, kim) == [("sent", None), ("sent", None)]
    unpins = [
        params
        for method, params in bot.fake.calls
        if method == "unpinChatMessage" and str(params.get("chat_id")) == str(kim.chat_id)
    ]
    assert [int(p["message_id"]) for p in unpins] == [first]  # tried once, then done
    with session_scope(bot.engine) as session:
        card = session.exec(select(CountryCard).where(CountryCard.staff_id == kim.id)).one()
        assert (card.message_id, card.pinned, card.stale_message_id) == (second, True, None)


async def test_a_card_to_someone_who_blocked_the_bot_tells_their_lead(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    _show(bot, kim, "Kazakhstan card")
    await _pinned(bot, kim, "Kazakhstan card")
    await until_recorded(bot.engine)
    bot.fake.block(kim.chat_id)
    _show(bot, kim, "Kazakhstan card, with a curfew")
    await bot.fake.await_for(lambda f: bool(f.messages_to(lena.chat_id)))
    (notice,) = bot.fake.messages_to(lena.chat_id)
    assert "Kim" in notice.text
    assert "Telegram said: Forbidden: bot was blocked by the user" in notice.text
    assert not _reachable(bot.engine, kim)


async def test_a_card_to_a_chat_that_is_gone_tells_their_lead_once(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    bot.fake.forget_chat(kim.chat_id)
    _show(bot, kim, "Kazakhstan card")
    await bot.fake.await_for(lambda f: bool(f.messages_to(lena.chat_id)))
    await until_recorded(bot.engine)
    (notice,) = bot.fake.messages_to(lena.chat_id)
    assert "Kim" in notice.text and "chat not found" in notice.text.lower()
    assert not _reachable(bot.engine, kim)
    tried = [
        method
        for method, params in bot.fake.calls
        if str(params.get("chat_id")) == str(kim.chat_id)
    ]
    assert tried == ["sendMessage"]  # one try: a chat that is gone is not sent to again


async def test_a_card_telegram_refuses_is_given_up_and_the_person_stays_reachable(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim", countries=("KZ",))
    bot.fake.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: can't parse entities: unsupported start tag",
        chat_id=kim.chat_id,
    )
    _show(bot, kim, "Kazakhstan card")
    await until_recorded(bot.engine)
    ((status, error),) = _card_rows(bot.engine, kim)
    assert status == "failed"
    assert error is not None and "can't parse entities" in error.lower()
    assert _reachable(bot.engine, kim)
    assert bot.fake.messages_to(lena.chat_id) == []
    assert bot.fake.messages_to(kim.chat_id) == []


async def test_a_card_edit_that_keeps_failing_is_given_up_with_what_went_wrong(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    one_try = settings.model_copy(update={"send_max_attempts": 1})
    async with running_bot(one_try, engine=engine, fake=fake, clock=clock) as bot:
        kim = bot.enrol("Kim")
        _show(bot, kim, "Kazakhstan card")
        card_id = await _pinned(bot, kim, "Kazakhstan card")
        await until_recorded(engine)
        fake.fail_next("editMessageText", status=502, description="Bad Gateway")
        _show(bot, kim, "Kazakhstan card, with a curfew")
        await until_recorded(engine)
        assert _card_rows(engine, kim)[-1] == ("failed", "NetworkError: Bad Gateway")
        assert fake.current_text(kim.chat_id, card_id) == "Kazakhstan card"


async def test_a_passing_failure_of_a_card_step_is_tried_again(bot: RunningBot) -> None:
    kim = bot.enrol("Kim")
    bot.fake.fail_next("pinChatMessage", status=502, description="Bad Gateway")
    _show(bot, kim, "Kazakhstan card")
    await _pinned(bot, kim, "Kazakhstan card")
    await until_recorded(bot.engine)
    assert [status for status, _error in _card_rows(bot.engine, kim)] == ["sent"]


async def test_each_card_step_spends_one_slot_of_the_flood_budget(bot: RunningBot) -> None:
    """Sending, pinning, editing and unpinning a card are one request to Telegram each,
    and each takes one slot of the budget, not two: cards brought up to date for many
    followers keep to the rate, not half of it."""
    budget_clock = PacerTime()
    budget = SendBudget.of(bot.application.bot)
    pacer = Pacer(budget.pacer.rate, clock=budget_clock, sleep=budget_clock.sleep)
    budget.pacer = pacer
    dispatcher = bot.services.dispatcher
    assert dispatcher is not None
    dispatcher.pacer = pacer
    kim, sam = bot.enrol("Kim"), bot.enrol("Sam")
    for person in (kim, sam):
        _show(bot, person, "Kazakhstan card")
    for person in (kim, sam):
        await _pinned(bot, person, "Kazakhstan card")
    await until_recorded(bot.engine)
    for person in (kim, sam):
        _show(bot, person, NOT_FOLLOWED, following=False)
    await bot.fake.await_for(lambda f: f.pinned(kim.chat_id) == f.pinned(sam.chat_id) == [])
    await until_recorded(bot.engine)
    requests = [
        method
        for method, _params in bot.fake.calls
        if method in ("sendMessage", "editMessageText", "pinChatMessage", "unpinChatMessage")
    ]
    assert sorted(set(requests)) == [
        "editMessageText",
        "pinChatMessage",
        "sendMessage",
        "unpinChatMessage",
    ]
    # Slots are evenly spaced from the first, given at once.
    interval = (1.0 + pacer.margin) / pacer.rate
    assert round((budget_clock.now - 1000.0) / interval) + 1 == len(requests) == 8
