"""`make demo`: the Kazakhstan replay tells the story it promises, from what Telegram got."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from bot.demo.people import AIGERIM, DANIYAR, PEOPLE, SARAH, TOM, Person
from bot.demo.script import replay
from bot.demo.transcript import Entry, Transcript


def _messages(transcript: Transcript, person: Person, containing: str) -> list[Entry]:
    """What `person` received containing `containing`, but their pinned country card."""
    return [
        e
        for e in transcript.received(person)
        if containing in e.text and not e.text.startswith("📌") and "📌" not in e.subject
    ]


def _card(transcript: Transcript, person: Person) -> list[Entry]:
    """`person`'s pinned card of Kazakhstan: the message, then each edit (what changed)."""
    return [e for e in transcript.received(person) if "📌 Kazakhstan" in e.text + e.subject]


def _minute(entry: Entry) -> datetime:
    return entry.at.astimezone(UTC).replace(second=0, microsecond=0)


async def test_the_replay_shows_the_crisis_as_each_person_saw_it(
    engine: Engine, database_url: str
) -> None:
    transcript = await replay(engine, database_url)
    text = transcript.render()

    # 2 January: the embassy's protest alert reaches all four.
    for person in PEOPLE:
        assert _messages(transcript, person, "Demonstration Alert")

    # 5 January: the curfew read out of the embassy alert is offered to the lead alone,
    # and once she confirms, everyone is told, in Almaty time and UTC.
    for person in PEOPLE:
        offers = _messages(transcript, person, "Curfew found in alert")
        assert (person is SARAH) == bool(offers)
        (told,) = _messages(transcript, person, "Curfew in Almaty (Kazakhstan)")
        assert "from 23:00 to 07:00 local time (17:00-01:00 UTC) until 19 January 2022" in (
            told.text
        )

    # The reminders, sent by the bot's own scheduled job, at each person's lead time:
    # 23:00 in Almaty on 5 January 2022 is 17:00 UTC (UTC+6 then).
    for person in (AIGERIM, DANIYAR, SARAH):
        (reminder,) = _messages(transcript, person, "Curfew in Almaty starts in")
        assert "starts in 60 minutes, at 23:00 local time (17:00 UTC)" in reminder.text
        assert "ends at 07:00 local time (01:00 UTC)" in reminder.text
        assert _minute(reminder) == datetime(2022, 1, 5, 16, 0, tzinfo=UTC)
    (reminder,) = _messages(transcript, TOM, "Curfew in Almaty starts in")
    assert "starts in 30 minutes, at 23:00 local time (17:00 UTC)" in reminder.text
    assert _minute(reminder) == datetime(2022, 1, 5, 16, 30, tzinfo=UTC)
    assert "22:00 Almaty (16:00 UTC)" in text and "22:30 Almaty (16:30 UTC)" in text
    assert "Wednesday 5 January 2022 (Almaty, UTC+6)" in text

    # 6 January: Level 4 with the voluntary departure of non-emergency staff, to everyone,
    # with a button to acknowledge it; and the automatic roll call.
    for person in PEOPLE:
        (advisory,) = _messages(transcript, person, "DEPARTURE ADVISORY")
        assert "Kazakhstan - Level 4: Do Not Travel" in advisory.text
        assert "Level 3 -> Level 4" in advisory.text
        assert "authorized the voluntary departure of non-emergency" in advisory.text
        assert advisory.buttons == ("Acknowledge",)
        (question,) = _messages(transcript, person, "Safety roll call: Kazakhstan")
        assert question.buttons == ("I'm safe", "I need help")
        assert _minute(question) == datetime(2022, 1, 6, 3, 0, tzinfo=UTC)

    # One safe, one in need of help with a note, one silent.
    assert _messages(transcript, AIGERIM, "Recorded: you are safe")
    # (Daniyar says he is safe only at the end, after the deadline.)
    (late_safe,) = _messages(transcript, DANIYAR, "Recorded: you are safe")
    assert _minute(late_safe) == datetime(2022, 1, 6, 4, 40, tzinfo=UTC)
    (help_alert,) = _messages(transcript, SARAH, "Daniyar Seitkali (@daniyar_s) needs help")
    assert "Shooting near Republic Square" in help_alert.text
    assert _messages(transcript, SARAH, "who asked for help, shared their location")

    # The silent one alone is reminded, then escalated to the lead at the deadline.
    for person in PEOPLE:
        reminded = _messages(transcript, person, "Reminder: safety roll call")
        assert (person is TOM) == bool(reminded)
    (report,) = _messages(transcript, SARAH, "deadline passed")
    assert _minute(report) == datetime(2022, 1, 6, 4, 0, tzinfo=UTC)
    assert "✅ 2 safe · 🆘 1 need help · ❔ 1 no answer" in report.text
    assert "Never answered (1):\n• Tom Whitfield (@tom_whitfield)" in report.text
    assert "Still need help (1):\n• Daniyar Seitkali" in report.text
    assert not any("deadline passed" in e.text for e in transcript.received(TOM))

    assert "<b>What you can do now</b>" not in report.text  # the transcript shows text
    assert "What you can do now\n• /incidents: the open calls for help" in report.text

    # Everyone reads the advisory before the roll call that asks about it.
    for person in PEOPLE:
        got = [e.text.split("\n")[0] for e in transcript.received(person) if e.kind == "message"]
        advisory_at = got.index("🚨 DEPARTURE ADVISORY: Kazakhstan")
        assert advisory_at < got.index("🚨 Safety roll call: Kazakhstan"), person

    # The call for help becomes a conversation: Sarah takes it, and they write to each
    # other through the bot, a photo included, until Daniyar says he is safe.
    assert _messages(transcript, DANIYAR, "Sarah Lindqvist from your security team is on it.")
    assert _messages(transcript, SARAH, "You are handling this, since 09:14 Almaty (03:14 UTC)")
    (reply,) = _messages(transcript, DANIYAR, "Sarah Lindqvist, your security team:")
    assert "Stay in the basement, away from the windows." in reply.text
    assert _messages(transcript, SARAH, "OK. Shots again on Zheltoksan, we are staying put.")
    (photo,) = _messages(transcript, SARAH, "sent a photo")
    assert "“Armoured vehicles at the corner”" in photo.text and photo.buttons == ("Reply",)
    (safe_again,) = _messages(transcript, SARAH, "Daniyar Seitkali (@daniyar_s) now says")
    assert "at 06 Jan 10:40 Almaty (06 Jan 04:40 UTC)" in safe_again.text
    assert "Police cleared the street" in safe_again.text

    # Tom, silent at the deadline, types that he is safe; one tap records it, late.
    (offer,) = _messages(transcript, TOM, "Tell your security team you are safe?")
    assert offer.buttons == ("I'm safe",)
    assert _messages(transcript, TOM, "Recorded: you are safe, at 06 Jan 10:20 Almaty")
    assert _messages(transcript, SARAH, "of 4 asked · 1 late")

    # Each person's pinned card is sent once, naming their lead, then edited in place as
    # the curfew is set and the level and departure advisory come in.
    for person in PEOPLE:
        card = _card(transcript, person)
        assert [e.kind for e in card] == ["message", "edit", "edit"]
        assert "Sarah" in card[0].text and "No curfew." in card[0].text
        # The level the State Department showed at the first poll, before any change.
        assert "Advisory level 3 since 02 Jan 2022" in card[0].text
        assert "23:00 Almaty (17:00 UTC) to 07:00 Almaty (01:00 UTC)" in card[1].text
        assert "Advisory level 4 since 06 Jan 2022" in card[2].text
        assert "Departure advisory in force" in card[2].text

    # The transcript is in the order things happened; a message everyone got at once is
    # shown once, addressed to all of them.
    instants = [e.at for e in transcript.entries]
    assert instants == sorted(instants)
    (question,) = [
        e
        for e in transcript.entries
        if e.kind == "message" and e.text.startswith("🚨 Safety roll call: Kazakhstan")
    ]
    assert set(question.people) == set(PEOPLE)
