"""A 429's wait is Telegram's, not the backoff's: a message that had already failed several
times goes again as soon as Telegram allows, and the wait does not count as an attempt."""

from __future__ import annotations

from sqlmodel import col, select, update

from db import deliveries
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Delivery, DeliveryKind, Priority
from tests.harness import RunningBot, until_recorded


async def test_after_a_429_a_message_that_failed_often_goes_when_telegram_allows(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam Staff")
    bot.fake.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=sam.chat_id,
    )
    with session_scope(bot.engine) as session:
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="alert:often",
            recipients=[Recipient(sam.id or 0, sam.chat_id)],
            parts=["Stay indoors tonight."],
            priority=Priority.NORMAL,
            now=bot.clock(),
        )
        # Six failed attempts already: its own backoff would now be minutes.
        session.execute(
            update(Delivery).where(col(Delivery.dedupe_key) == "alert:often").values(attempts=6)
        )
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: bool(f.messages_to(sam.chat_id)))
    await until_recorded(bot.engine)
    assert [m.text for m in bot.fake.messages_to(sam.chat_id)] == ["Stay indoors tonight."]
    with session_scope(bot.engine) as session:
        row = session.exec(select(Delivery).where(Delivery.dedupe_key == "alert:often")).one()
        assert (row.status, row.attempts) == ("sent", 7)  # the 429 was not an attempt
