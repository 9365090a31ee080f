"""The tables. The database is the single source of truth for people, alerts and the outbox.

Telegram ids are 64-bit. Every timestamp is an aware UTC instant (`UTCDateTime`). Enum
values are stored as plain strings (no database enum types) so later migrations stay easy.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


class Role(StrEnum):
    STAFF = "staff"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.STAFF: 0, Role.LEAD: 1, Role.ADMIN: 2}


class Priority(IntEnum):
    """Outbox order: lower goes first."""

    CRITICAL = 0  # roll calls, calls for help, escalations, departure advisories
    HIGH = 10  # curfew alerts and reminders
    NORMAL = 20  # security alerts, lead broadcasts
    ROUTINE = 30  # advisory updates, notices
    # Pinned country cards: after every alert and notice; a card edit waiting longer
    # than the dispatcher's patience is raised to ROUTINE, so it is never starved.
    CARD = 40


class AlertKind(StrEnum):
    BROADCAST = "broadcast"
    DEPARTURE = "departure"
    CURFEW = "curfew"
    SECURITY = "security"
    ADVISORY = "advisory"


class AlertStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryKind(StrEnum):
    """What an outbox row is. Privacy and reports ask this column, never the dedupe key;
    the values are the words `/export_me` shows."""

    BROADCAST = "broadcast"  # a lead's broadcast to a country's staff
    FEED_ALERT = "feed alert"  # an alert read from an official source
    CURFEW_NOTICE = "curfew notice"  # a curfew set, changed or ended, to subscribers
    CURFEW_REMINDER = "curfew reminder"
    CURFEW_PROPOSAL = "curfew proposal"  # a curfew found in a text, offered to leads
    ROLLCALL_QUESTION = "roll call question"
    ROLLCALL_REMINDER = "roll call reminder"
    ROLLCALL_REPORT = "roll call deadline report"  # to leads: who answered, who did not
    LIVE_ROLL = "live roll"
    HELP_ALERT = "call for help"  # to leads, about the person who asked
    HELP_MESSAGE = "help message"  # what a person in a call for help sent, to their leads
    HELP_REPLY = "help reply"  # their security team's answer, to them and the other leads
    SAFE_AGAIN = "safe again"  # to leads, about the person who is safe again
    LOCATION = "location passed on"  # to leads, about the person who shared it
    UNREACHABLE = "unreachable notice"  # to leads, about a person Telegram cannot reach
    SOURCE_FAILING = "feed failure notice"
    LEAD_CHANGE = "lead change"  # to admins, about a lead who took or dropped a country
    COUNTRY_CARD = "country card"  # the pinned card of a country a person follows
    TRIP_NOTICE = "trip briefing"  # to a traveller: the briefing before, the welcome on arrival
    WHO_IS_THERE = "who is there"  # to leads with a departure advisory: the people there now
    PAID_REFUSED = "paid broadcast notice"  # to admins: Telegram refused a paid broadcast
    OTHER = "message"  # rows from before kinds were recorded that matched none of these


class Channel(StrEnum):
    """How an outbox row reaches its person: Telegram, or a fallback for what cannot wait."""

    TELEGRAM = "telegram"
    SMS = "sms"
    EMAIL = "email"

    @property
    def label(self) -> str:
        """How reports name it: "reached by SMS", "safe (e-mail)"."""
        return {"telegram": "Telegram", "sms": "SMS", "email": "e-mail"}[self.value]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to Telegram; if the process dies now the outcome is unknown
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    display_name: str = Field(max_length=200)
    username: str | None = Field(default=None, max_length=64, index=True)
    role: str = Field(default=Role.STAFF.value, max_length=16)
    reachable: bool = True
    # Minutes before each curfew start to remind this person; None: no reminders.
    curfew_reminder_minutes: int | None = 60
    # A fingerprint of the command menu Telegram shows in their chat (None: not given
    # yet), so that a restart gives menus only to the people whose menu changed.
    menu: str | None = Field(default=None, max_length=16)
    # What they chose to give their leads for a call for help (`/contact`).
    phone: str | None = Field(default=None, max_length=40)
    emergency_contact: str | None = Field(default=None, max_length=200)
    # Where urgent messages go when Telegram cannot deliver them (`/contact sms`,
    # `/contact email`): a mobile number in E.164 and an e-mail address, given by the
    # person; leads see only whether they are set, unless the person asks for help.
    mobile: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("staff_id", "country"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    country: str = Field(max_length=2, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    role: str = Field(default=Role.STAFF.value, max_length=16)
    created_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """Anything pushed to a country's subscribers: a lead's broadcast or a feed alert."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    status: str = Field(default=AlertStatus.DRAFT.value, max_length=16)
    priority: int = Field(default=Priority.NORMAL)
    country: str | None = Field(default=None, max_length=2, index=True)
    title: str = Field(default="", max_length=500)
    body: str = Field(default="", sa_type=Text)
    link: str | None = Field(default=None, max_length=1000)
    level: int | None = None
    previous_level: int | None = None
    departure: bool = False
    curfew_text: str | None = Field(default=None, sa_type=Text)
    # Feed alerts: where it came from, the item it reports and the content fingerprint.
    source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    item_key: str | None = Field(default=None, max_length=500)
    fingerprint: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Where the sender's live delivery report lives, so a restart keeps it up to date.
    report_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    report_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    report_done: bool = False
    # Queued for the country's subscribers up to this staff id, the rest still to come;
    # None once everyone is queued (or when it was never fanned out).
    fan_out_after: int | None = None


class Source(SQLModel, table=True):
    """An official feed polled on its own interval."""

    __table_args__ = (UniqueConstraint("kind", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # us-state, us-embassy, fcdo, rss
    url: str = Field(max_length=1000)
    country: str | None = Field(default=None, max_length=2)
    interval_minutes: int = 10
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    baseline_done: bool = False  # the first good poll records what is there, silently
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    failure_reported: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeenItem(SQLModel, table=True):
    """The last version of each item a source has shown, for telling news from repeats."""

    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(
        sa_column=Column(Integer, ForeignKey("source.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(max_length=500)
    level: int | None = None
    fingerprint: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Whose item it is and when it was published: a country's advisory level is known
    # from the first poll, before any change to it is news.
    country: str | None = Field(default=None, max_length=2, index=True)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Acknowledgement(SQLModel, table=True):
    """A person pressed "Acknowledge" on an alert (departure advisories ask for it)."""

    __table_args__ = (UniqueConstraint("alert_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(
        sa_column=Column(Integer, ForeignKey("alert.id", ondelete="CASCADE"), nullable=False)
    )
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CurfewStatus(StrEnum):
    PROPOSED = "proposed"  # read out of an alert; waits for a lead
    DRAFT = "draft"  # typed by a lead; waits for their Confirm
    ACTIVE = "active"
    ENDED = "ended"
    DISCARDED = "discarded"  # cancelled draft or ignored proposal


class Curfew(SQLModel, table=True):
    """A daily window in local wall-clock time; instants are computed per date from the zone.

    A `continuous` curfew does not lift in between: it runs from `start` on `first_day`
    to `end` on `last_day` ("from 6 pm on Saturday until 6 am on Monday"). With `days`,
    only nights that start on those days of the week count ("Saturdays and Sundays").
    """

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    area: str | None = Field(default=None, max_length=100)  # None: nationwide
    zone: str = Field(max_length=64)  # IANA name
    start: str = Field(max_length=5)  # "HH:MM" local
    end: str = Field(max_length=5)
    first_day: date
    last_day: date | None = None  # local date of the last night; None: until ended
    # One unbroken curfew; last_day is then the local date it ends.
    continuous: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    days: str | None = Field(default=None, max_length=13)  # "5,6" (Mon=0); None: every day
    status: str = Field(default=CurfewStatus.DRAFT.value, max_length=16, index=True)
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    stated_utc: str | None = Field(default=None, max_length=11)  # "HH:MM-HH:MM" as written
    sentence: str | None = Field(default=None, sa_type=Text)
    set_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CountryCard(SQLModel, table=True):
    """A person's pinned card of a country they follow: one message in their chat, edited
    in place whenever what it shows changes.

    `text` is what the card should show; `shown_text`, `message_id` and `pinned` are
    what Telegram has confirmed. The outbox rows with this `card_id` close the gap one
    request at a time.
    """

    __table_args__ = (UniqueConstraint("staff_id", "country"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    country: str = Field(max_length=2, index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    following: bool = True  # False: the card says so and is to be unpinned
    text: str = Field(sa_type=Text)
    version: int = 0  # raised on every change; part of its outbox rows' dedupe key
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    shown_text: str | None = Field(default=None, sa_type=Text)
    pinned: bool = False
    # An older card message of this country that is still pinned, to be unpinned.
    stale_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CountryContacts(SQLModel, table=True):
    """The part of a country's card its leads write: emergency numbers and embassy
    contacts, one entry a line."""

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, unique=True)
    entries: str = Field(default="", sa_type=Text)
    set_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """One Telegram message to one person: the outbox row the dispatcher works from."""

    __table_args__ = (
        UniqueConstraint("dedupe_key", "staff_id", "part"),
        Index("ix_delivery_due", "status", "priority", "id"),
        # The fallback looks every second for critical rows of the last day (bot.fallback).
        Index("ix_delivery_kind_created", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # What this message is for (e.g. "alert:12"); with staff_id and part it makes a
    # message impossible to queue twice.
    dedupe_key: str = Field(max_length=128)
    staff_id: int = Field(
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False)
    )
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    part: int = 0
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    kind: str = Field(default=DeliveryKind.OTHER.value, max_length=32)
    # The person a message to leads or admins reports on (a call for help, an unreachable
    # notice): their data, so /export_me lists it and /forget_me deletes it.
    about_staff_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    # The roll call a question, reminder, report or answer passed on belongs to.
    round_id: int | None = Field(default=None, foreign_key="rollcall.id", index=True)
    # The call for help (db.incidents) a message belongs to, so that a lead's reply to it
    # reaches the person and a claim can edit every lead's copy.
    call_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("helpcall.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    # Set, the message is a copy of this one (a photo, a voice note) sent with
    # copyMessage, and `text` is its caption.
    copy_from_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    copy_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Set, the row brings this country card (CountryCard) up to date: it sends, edits,
    # pins or unpins the card's message, whatever the card needs next.
    card_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("countrycard.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    priority: int = Field(default=Priority.NORMAL)
    text: str = Field(sa_type=Text)
    reply_markup: str | None = Field(default=None, sa_type=Text)  # JSON
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Sent as a paid broadcast (PAID_BROADCAST): charged to the bot's Telegram Stars.
    paid: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    # Telegram, or SMS / e-mail for a fallback row: a copy of the Telegram row
    # `fallback_for_id` (kind, alert, round and call as it), with its own status, retries
    # and outcome. The address is read from the person when it is sent, so a number
    # changed or removed meanwhile is respected.
    channel: str = Field(
        default=Channel.TELEGRAM.value,
        max_length=16,
        sa_column_kwargs={"server_default": sql_text("'telegram'")},
    )
    fallback_for_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("delivery.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    # The sender (Sender) that claimed the row while it is `sending`: should that sender
    # stop answering, its rows go back to the queue and nobody else's do.
    claimed_by: int | None = Field(default=None, index=True)


class Sender(SQLModel, table=True):
    """A process sending the outbox, on PostgreSQL where several may share it.

    Each says it is alive every few seconds (`heartbeat_at`, the database's own clock);
    the live ones split the chats between them and the flood limits in equal shares.
    One that stops saying so for SENDER_LEASE is gone: its share and its claimed rows go
    to the others."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Telegram answered this sender 429: every sender waits until then (its flood
    # control counts the bot, not the process); for a paid broadcast, every sender's
    # paid broadcasts, which Telegram counts apart.
    flooded_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_flooded_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who did (or tried) what privileged thing, and when."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    actor_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    action: str = Field(max_length=64)
    outcome: str = Field(default="ok", max_length=16)
    detail: str = Field(default="", sa_type=Text)


class TripSource(StrEnum):
    """How a trip was recorded; `/export_me` shows the words."""

    COMMAND = "command"  # /trip, by the traveller or a lead
    CSV = "csv import"  # a lead's /trips_csv file
    CALENDAR = "calendar invitation"  # an .ics file the traveller sent


class Trip(SQLModel, table=True):
    """A person's stay in a country, from the first to the last local day.

    The days are what people wrote; `starts_at` and `ends_at` are the instants the first
    day begins and the day after the last begins, in the destination's zone (for a
    country with several zones and no city, the earliest start and the latest end), so
    that "who is there now" is one indexed query.
    """

    __table_args__ = (Index("ix_trip_country_span", "country", "starts_at", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    country: str = Field(max_length=2)
    city: str | None = Field(default=None, max_length=100)
    zone: str | None = Field(default=None, max_length=64)  # None: several, no city given
    first_day: date
    last_day: date
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # /trip_end
    source: str = Field(default=TripSource.COMMAND.value, max_length=32)
    created_by_staff_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Whereabouts(SQLModel, table=True):
    """Where a person was last seen (a location they shared, read offline into a country,
    city and zone) and the place they chose with `/where`; one row a person."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = Field(default=None, max_length=2, index=True)
    city: str | None = Field(default=None, max_length=100)
    zone: str | None = Field(default=None, max_length=64)
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    live_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The live location's message, whose edits move the place.
    live_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    chosen_city: str | None = Field(default=None, max_length=100)
    chosen_country: str | None = Field(default=None, max_length=2)
    chosen_zone: str | None = Field(default=None, max_length=64)
