"""When Telegram refuses a paid broadcast: the message goes again at once at the free rate
(no back-off, no waiting for the clock), and the admins are told, on the first refusal,
for how many minutes urgent messages now go at the free rate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot import dispatcher
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db.models import DeliveryKind, Priority, Role
from tests.harness import MutableClock, RunningBot, queue, running_bot


class StoppedClock(MutableClock):
    """The bot's clock standing still (unless a test moves it): a message put off for
    any time at all is never due again."""

    def __init__(self) -> None:
        super().__init__()
        self.start = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.start + self.offset


@pytest.fixture
async def paying(
    settings: BotSettings, engine: Engine, fake: FakeTelegram
) -> AsyncIterator[RunningBot]:
    paid = settings.model_copy(update={"paid_broadcast": True})
    async with running_bot(paid, engine=engine, fake=fake, clock=StoppedClock()) as running:
        yield running


async def test_a_refused_paid_message_goes_again_at_once_and_the_admins_hear_for_how_long(
    paying: RunningBot,
) -> None:
    ada = paying.enrol("Ada", role=Role.ADMIN)
    sam = paying.enrol("Sam")
    paying.fake.star_balance = 0  # not enough for a single paid message
    queue(
        paying,
        [sam],
        "Are you safe?",
        key="question",
        priority=Priority.CRITICAL,
        kind=DeliveryKind.ROLLCALL_QUESTION,
    )
    # The clock does not move: only a retry due at once can reach Sam.
    await paying.fake.await_for(
        lambda f: bool(f.messages_to(sam.chat_id)) and bool(f.messages_to(ada.chat_id))
    )
    (question,) = paying.fake.messages_to(sam.chat_id)
    assert question.text == "Are you safe?" and not question.paid
    (notice,) = paying.fake.messages_to(ada.chat_id)
    assert "Telegram refused a paid broadcast" in notice.text
    minutes = round(dispatcher.PAID_REFUSED_SECONDS / 60)
    assert f"for {minutes} minutes" in notice.text
    assert paying.fake.stars_spent == 0
