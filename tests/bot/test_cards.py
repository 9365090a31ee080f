"""Pinned country cards end to end, through the fake Bot API: a follower's card is sent
and pinned, edited in place when a curfew is set, changed and ended or a lead changes
its contacts, collapses a burst of changes into few edits, and comes back when deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import feeds
from bot.cards.rules import set_card_contacts
from bot.cards.texts import MAX_ENTRIES, card_text, parse_contacts
from bot.curfews.rules import refresh_curfew_cards
from bot.settings import BotSettings
from bot.sim.feeds import feed_server
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.validation import check_message_text
from db import cards, deliveries, sources
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import CountryCard, Curfew, CurfewStatus, DeliveryKind, Priority, Role, Staff
from db.refusal import Refusal
from tests.bot.test_curfews import MORNING, _last_button, _set_almaty_curfew
from tests.bot.test_feeds import KZ_CALM, KZ_LEAVE
from tests.harness import MutableClock, RunningBot, running_bot, until_recorded
from tests.schedules.sources.samples import state_feed

TONIGHT_23_07 = "23:00 Almaty (17:00 UTC) to 07:00 Almaty (01:00 UTC)"
TONIGHT_22_06 = "22:00 Almaty (16:00 UTC) to 06:00 Almaty (00:00 UTC)"


async def _card(bot: RunningBot, person: Staff, *shows: str, hides: tuple[str, ...] = ()) -> int:
    """Wait until the one message pinned in the person's chat shows `shows` and none of
    `hides`; its message id."""

    def ready(fake: FakeTelegram) -> bool:
        texts = fake.pinned_texts(person.chat_id)
        return (
            len(texts) == 1
            and all(s in texts[0] for s in shows)
            and not any(h in texts[0] for h in hides)
        )

    await bot.fake.await_for(ready)
    return bot.fake.pinned(person.chat_id)[0]


async def _follow(bot: RunningBot, person: Staff, country: str = "KZ") -> int:
    reply = await bot.say(person.telegram_user_id, f"/subscribe {country}")
    assert "You will now get alerts for" in reply  # the answer comes before the card
    return await _card(bot, person, "Kazakhstan (KZ)")


def _cards_sent(bot: RunningBot, person: Staff) -> list[int]:
    return [
        m.message_id
        for m in bot.fake.messages_to(person.chat_id)
        if m.text.startswith("📌 <b>Kazakhstan")
    ]


async def test_a_new_follower_gets_the_card_pinned_silently(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    text = bot.fake.current_text(kim.chat_id, card_id)
    assert "Advisory level: none from official sources yet." in text
    assert "No departure advisory." in text
    assert "No curfew." in text
    assert "Lena Lead" in text and "@lena_lead" in text
    assert "None set yet (a lead adds them: /card_set KZ)." in text
    # Updated in the country's local time and UTC (Almaty was UTC+6 in January 2022).
    assert "Updated 06 Jan 10:00 Almaty (06 Jan 04:00 UTC)." in text
    # The answer to /subscribe came first; the card is the newest message, pinned quietly.
    assert bot.fake.messages_to(kim.chat_id)[-1].message_id == card_id
    pins = [p for p in bot.fake.pins if p.chat_id == kim.chat_id]
    assert [(p.message_id, p.pinned, p.silent) for p in pins] == [(card_id, True, True)]
    # A lead taking the country on is named on the card, edited in place.
    max_lead = bot.enrol("Max Lead", role=Role.LEAD)
    assert "You now lead" in await bot.say(max_lead.telegram_user_id, "/lead KZ")
    assert await _card(bot, kim, "Lena Lead", "Max Lead") == card_id


async def test_a_curfew_set_changed_and_ended_edits_every_followers_card(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim, sam = bot.enrol("Kim"), bot.enrol("Sam")
    followers = {kim.chat_id: await _follow(bot, kim), sam.chat_id: await _follow(bot, sam)}

    await _set_almaty_curfew(bot, lead.telegram_user_id)
    for person in (kim, sam):
        card_id = await _card(bot, person, TONIGHT_23_07, "until 19 January 2022")
        assert card_id == followers[person.chat_id]  # the same message, edited in place

    # Changed: the new window replaces the old one on the cards.
    draft = await bot.say(lead.telegram_user_id, "/curfew_set KZ Almaty 22:00-06:00")
    assert "Please check" in draft
    message_id, data = _last_button(bot, lead.telegram_user_id, "Confirm")
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=message_id, data=data)
    for person in (kim, sam):
        card_id = await _card(bot, person, TONIGHT_22_06, hides=(TONIGHT_23_07,))
        assert card_id == followers[person.chat_id]

    # Ended: the cards say there is no curfew.
    listing = await bot.say(lead.telegram_user_id, "/curfews KZ")
    curfew_id = listing.split()[0].lstrip("#")
    assert "ended" in await bot.say(lead.telegram_user_id, f"/curfew_end {curfew_id}")
    for person in (kim, sam):
        card_id = await _card(bot, person, "No curfew.", hides=("🌙",))
        assert card_id == followers[person.chat_id]
        assert _cards_sent(bot, person) == [card_id]  # one card message, never a second
    await until_recorded(bot.engine)


async def test_card_set_changes_every_followers_card_and_only_a_lead_may(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    other = bot.enrol("Olga Other", role=Role.LEAD, answers_for=("KG",))
    kim, sam = bot.enrol("Kim"), bot.enrol("Sam")
    for person in (kim, sam):
        await _follow(bot, person)

    reply = await bot.say(
        lead.telegram_user_id,
        "/card_set KZ Police 102; Ambulance 103;; US Embassy Astana +7 7172 70 21 00",
    )
    assert reply == (
        "Kazakhstan's card now lists:\n• Police 102\n• Ambulance 103\n"
        "• US Embassy Astana +7 7172 70 21 00\nThe cards of 2 followers are being updated."
    )
    listed = "• Police 102\n• Ambulance 103\n• US Embassy Astana +7 7172 70 21 00"
    for person in (kim, sam):
        await _card(bot, person, listed)

    # Refused, with nothing changed: staff, a lead of another country, an entry without
    # a number, an unknown country.
    assert "security leads" in await bot.say(kim.telegram_user_id, "/card_set KZ Police 112")
    assert "You don't answer for Kazakhstan" in await bot.say(
        other.telegram_user_id, "/card_set KZ Police 112"
    )
    assert "“Police” has no number or address" in await bot.say(
        lead.telegram_user_id, "/card_set KZ Police; Ambulance 103"
    )
    assert "I don't know the country “XQ”" in await bot.say(
        lead.telegram_user_id, "/card_set XQ Police 102"
    )
    assert "Usage: /card_set" in await bot.say(lead.telegram_user_id, "/card_set")
    with session_scope(bot.engine) as session:
        assert cards.contacts_of(session, country="KZ") == [
            "Police 102",
            "Ambulance 103",
            "US Embassy Astana +7 7172 70 21 00",
        ]
    for person in (kim, sam):
        await _card(bot, person, listed, hides=("112",))

    # Clearing: said plainly, and the cards follow.
    assert await bot.say(lead.telegram_user_id, "/card_set KZ") == (
        "Kazakhstan's card no longer lists emergency numbers or embassy contacts. "
        "The cards of 2 followers are being updated."
    )
    for person in (kim, sam):
        await _card(bot, person, "None set yet", hides=("Police",))
    assert "nothing changed" in await bot.say(lead.telegram_user_id, "/card_set KZ")
    assert await bot.say(other.telegram_user_id, "/card_set Kyrgyzstan Police 102") == (
        "Kyrgyzstan's card now lists:\n• Police 102\n"
        "No follower has a card of it yet; every new card will show this."
    )


@pytest.mark.telegram_chat_limit
async def test_a_burst_of_changes_makes_few_edits_the_last_one_right(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    await until_recorded(bot.engine)
    # From here Telegram counts every edit against the chat's limit of one a second.
    bot.fake.rate_limits = RateLimits(count_edits=True)
    # The first edit takes a while to come back: the changes pile up behind it.
    bot.fake.slow("editMessageText", 1.5)
    for n in range(1, 9):
        with session_scope(bot.engine) as session:
            set_card_contacts(
                session,
                person=lead,
                country="KZ",
                raw=f"Police 10{n}",
                now=bot.clock(),
            )
        bot.services.wake_dispatcher()
    await _card(bot, kim, "• Police 108", hides=("• Police 107",))
    await until_recorded(bot.engine)
    edits = [e for e in bot.fake.edits if e.chat_id == kim.chat_id]
    assert 1 <= len(edits) <= 2
    assert edits[-1].message_id == card_id and "• Police 108" in (edits[-1].text or "")
    assert bot.fake.too_many_requests == 0
    assert bot.fake.pinned(kim.chat_id) == [card_id]


async def test_a_deleted_card_is_sent_and_pinned_again(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    first = await _follow(bot, kim)
    await until_recorded(bot.engine)
    bot.fake.delete_message(kim.chat_id, first)
    assert bot.fake.pinned(kim.chat_id) == []
    await bot.say(lead.telegram_user_id, "/card_set KZ Police 102")
    second = await _card(bot, kim, "• Police 102")
    assert second != first
    assert [p.message_id for p in bot.fake.pins if p.chat_id == kim.chat_id] == [first, second]
    await until_recorded(bot.engine)


async def test_a_card_already_showing_the_text_counts_as_edited(bot: RunningBot) -> None:
    """As after a crash between Telegram's answer and its record: the edit is sent again,
    Telegram says "message is not modified", and that is a success."""
    bot.clock.set(MORNING)
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    await until_recorded(bot.engine)
    with session_scope(bot.engine) as session:
        card = session.exec(select(CountryCard).where(CountryCard.staff_id == kim.id)).one()
        card.shown_text = "what an unrecorded edit had replaced"
        session.add(card)
        cards.show(
            session,
            staff_id=card.staff_id,
            chat_id=card.chat_id,
            country="KZ",
            text=card.text + " ",  # queues a row; the card's text is read when it is sent
            now=bot.clock(),
        )
        card.text = card.text.rstrip(" ")
        session.add(card)
    bot.services.wake_dispatcher()
    await until_recorded(bot.engine)
    with session_scope(bot.engine) as session:
        card = session.exec(select(CountryCard).where(CountryCard.staff_id == kim.id)).one()
        assert card.shown_text == card.text
        assert card.message_id == card_id
    assert [e for e in bot.fake.edits if e.chat_id == kim.chat_id] == []
    assert bot.fake.pinned(kim.chat_id) == [card_id]


async def test_unfollowing_unpins_the_card_and_says_so(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    assert "no longer get alerts" in await bot.say(kim.telegram_user_id, "/unsubscribe KZ")
    await bot.fake.await_for(lambda f: f.pinned(kim.chat_id) == [])
    await bot.fake.await_for(
        lambda f: "You no longer follow Kazakhstan" in f.current_text(kim.chat_id, card_id)
    )
    await until_recorded(bot.engine)
    # Following again pins a fresh card.
    await _follow(bot, kim)
    assert bot.fake.pinned(kim.chat_id) != [card_id]


async def test_card_sends_a_fresh_copy_and_unpins_the_old_one(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    kim = bot.enrol("Kim")
    first = await _follow(bot, kim)
    await until_recorded(bot.engine)
    assert "Here is your card of Kazakhstan (KZ)" in await bot.say(kim.telegram_user_id, "/card")
    await bot.fake.await_for(
        lambda f: len(f.pinned(kim.chat_id)) == 1 and f.pinned(kim.chat_id)[0] != first
    )
    # Not followed: a copy in the answer, neither pinned nor kept up to date.
    reply = await bot.say(kim.telegram_user_id, "/card Kyrgyzstan")
    assert "Kyrgyzstan (KG)" in reply and "You don't follow Kyrgyzstan" in reply
    assert "I don't know the country" in await bot.say(kim.telegram_user_id, "/card Atlantis")
    await until_recorded(bot.engine)
    assert len(bot.fake.pinned(kim.chat_id)) == 1


async def test_help_lists_card_for_everyone_and_card_set_for_leads(bot: RunningBot) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    staff_help = await bot.say(kim.telegram_user_id, "/help")
    lead_help = await bot.say(lead.telegram_user_id, "/help")
    assert "\n/card KZ: its card, pinned, readable offline\n" in staff_help
    assert "/card_set" not in staff_help
    assert "\n/card_set KZ &lt;entries&gt;: emergency numbers on its cards" in lead_help
    assert "/card" in await bot.say(lead.telegram_user_id, "/help staff")


async def test_a_level_change_and_departure_advisory_from_a_feed_edit_the_cards(
    bot: RunningBot,
) -> None:
    kim = bot.enrol("Kim")
    await _follow(bot, kim)
    with feed_server() as feeds_server:
        feeds_server.serve("/ta.xml", state_feed(KZ_CALM))
        with session_scope(bot.engine) as session:
            source = sources.add(
                session, kind="us-state", url=feeds_server.url("/ta.xml"), country=None
            )
            assert source is not None and source.id is not None
            source_id = source.id
        assert await feeds.poll_source(bot.services, source_id) == []  # the baseline
        feeds_server.serve("/ta.xml", state_feed(KZ_LEAVE))
        (alert_id,) = await feeds.poll_source(bot.services, source_id)
    await _card(
        bot,
        kim,
        "<b>Advisory level 4</b> since",
        "🚨 <b>Departure advisory in force</b> since",
        f"(alert {alert_id}).",
        hides=("No departure advisory.",),
    )
    await until_recorded(bot.engine)


async def test_cards_under_curfew_move_on_to_the_next_night_once_a_day(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    await _set_almaty_curfew(bot, lead.telegram_user_id)
    await _card(bot, kim, f"tonight (06 Jan) {TONIGHT_23_07}")
    await until_recorded(bot.engine)
    assert refresh_curfew_cards(bot.services) == 0  # the same night: nothing to edit
    bot.clock.set(datetime(2022, 1, 7, 4, 0, tzinfo=UTC))
    assert refresh_curfew_cards(bot.services) == 1
    assert await _card(bot, kim, f"tonight (07 Jan) {TONIGHT_23_07}") == card_id


@pytest.mark.telegram_chat_limit
async def test_an_alert_goes_before_a_card_edit_queued_with_it(bot: RunningBot) -> None:
    bot.clock.set(MORNING)
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    kim = bot.enrol("Kim")
    card_id = await _follow(bot, kim)
    await until_recorded(bot.engine)
    with session_scope(bot.engine) as session:
        # The card change is queued first, the alert after it, in one go.
        set_card_contacts(session, person=lead, country="KZ", raw="Police 102", now=bot.clock())
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="alert:test",
            recipients=[Recipient(kim.id or 0, kim.chat_id)],
            parts=["Stay indoors tonight."],
            priority=Priority.ROUTINE,
            now=bot.clock(),
        )
    bot.services.wake_dispatcher()
    await _card(bot, kim, "• Police 102")
    calls = [
        method
        for method, params in bot.fake.calls
        if str(params.get("chat_id")) == str(kim.chat_id) and method != "getUpdates"
    ]
    assert calls[-2:] == ["sendMessage", "editMessageText"]
    assert bot.fake.messages_to(kim.chat_id)[-1].text == "Stay indoors tonight."
    assert bot.fake.pinned(kim.chat_id) == [card_id]


def test_the_longest_card_fits_one_telegram_message() -> None:
    """Every list on a card is bounded: the most a card can hold is still one message
    Telegram accepts."""
    leads = [
        Staff(
            id=n,
            telegram_user_id=9_000_000_000 + n,
            chat_id=9_000_000_000 + n,
            display_name="W" * 200,
            username="u" * 64,
            role=Role.LEAD.value,
        )
        for n in range(10)
    ]
    nights = [
        Curfew(
            id=n,
            country="KZ",
            area="<&>" * 33,
            zone="Asia/Almaty",
            start="23:00",
            end="07:00",
            first_day=MORNING.date(),
            last_day=MORNING.date(),
            status=CurfewStatus.ACTIVE.value,
        )
        for n in range(6)
    ]
    contacts = parse_contacts("; ".join(f"{'&' * 90} +7 {n:06d}" for n in range(MAX_ENTRIES)))
    text = card_text(
        code="KZ",
        advisory=cards.Advisory(level=4, level_at=MORNING, departure=True, departure_at=MORNING),
        curfews=nights,
        leads=leads,
        contacts=contacts,
        now=MORNING,
    )
    shown = check_message_text(text, "HTML")  # raises where Telegram would refuse it
    assert "and 4 more" in shown and "… and 2 more: /curfew lists them." in shown
    with pytest.raises(Refusal, match="at most 12"):
        parse_contacts("; ".join(f"Police {n}" for n in range(MAX_ENTRIES + 1)))


async def test_a_card_step_cut_short_by_a_crash_is_taken_again_after_a_restart(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    clock.set(MORNING)
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
        kim = bot.enrol("Kim")
        card_id = await _follow(bot, kim)
        await until_recorded(engine)
    # Stopped; then a change is queued and claimed, as by a dispatcher that died before
    # Telegram answered: the row is left `sending`.
    with session_scope(engine) as session:
        set_card_contacts(session, person=lead, country="KZ", raw="Police 102", now=clock())
        (claimed,) = deliveries.claim_due(session, now=clock(), limit=10)
        assert claimed.card is not None
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        assert await _card(bot, kim, "• Police 102") == card_id
        await until_recorded(engine)
