"""What the simulated Telegram knows: chats, messages, updates, faults and what the bot did.

The state sits in one base class that the other parts of ``FakeTelegram`` (the client
side, the faults, the method handlers, the server) extend. The bot may run in this
process or in a subprocess, and the HTTP server answers on its own threads, so all of it
sits behind one ``threading.Condition`` which is notified after every change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bot.sim.telegram.errors import ApiError, bad_request
from bot.sim.telegram.flood import FloodControl, RateLimits


@dataclass
class SentMessage:
    """A message the fake accepted from the bot (sendMessage, sendDocument, copyMessage)."""

    chat_id: int
    message_id: int
    text: str  # for sendDocument: the caption or ""
    parse_mode: str | None
    reply_markup: dict[str, Any] | None  # decoded JSON
    at: float  # time.monotonic() when accepted
    method: str  # "sendMessage", "sendDocument" or "copyMessage"
    document: bytes | None = None
    filename: str | None = None
    # copyMessage: the (chat id, message id) copied, and what the copy carries (the
    # photo sizes, the voice note, the location ...), as Telegram returns it.
    copy_of: tuple[int, int] | None = None
    content: dict[str, Any] | None = None
    paid: bool = False  # sent as a paid broadcast (allow_paid_broadcast)


@dataclass
class Edit:
    """An accepted editMessageText / editMessageReplyMarkup."""

    chat_id: int
    message_id: int
    text: str | None  # None for editMessageReplyMarkup
    reply_markup: dict[str, Any] | None
    at: float
    parse_mode: str | None = None


@dataclass
class Pin:
    """An accepted pinChatMessage (pinned) or unpinChatMessage (not pinned)."""

    chat_id: int
    message_id: int
    pinned: bool
    silent: bool  # disable_notification: the pin did not notify the person
    at: float


# Faults a test arranged (see `FaultInjection`), waiting for the calls they apply to.
@dataclass
class FailRule:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class SlowRule:
    seconds: float
    remaining: int
    after: bool = False  # the call is acted on first: only its answer is late


@dataclass
class Outage:
    method: str
    until: float  # time.monotonic()
    status: int
    description: str
    delay: float


class BotApiState:
    """The state of the simulated Bot API, and the helpers more than one part needs."""

    # What Telegram charges for one message sent with allow_paid_broadcast.
    PAID_BROADCAST_STARS = 0.1

    BOT_ID = 7000000001
    BOT_USERNAME = "dutybot_test_bot"
    TOKEN = "7000000001:AAFakeTokenForTestsOnly_abcdefghijklmno"

    def __init__(self, *, rate_limits: RateLimits | None = None) -> None:
        self._cond = threading.Condition()  # RLock inside: predicates may call our getters
        self._stopping = False
        self._flood = FloodControl(rate_limits)

        # What the bot did.
        self.sent: list[SentMessage] = []
        self.edits: list[Edit] = []
        self.pins: list[Pin] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # when each of `calls` arrived (time.monotonic())
        self.commands: list[dict[str, Any]] = []
        self.commands_by_scope: dict[str, list[dict[str, Any]]] = {}
        self.too_many_requests = 0
        # Telegram Stars on the bot's balance, which paid broadcasts are charged to
        # (PAID_BROADCAST_STARS each); None: enough for any number.
        self.star_balance: float | None = None
        self.stars_spent = 0.0
        # When each 429 was answered (time.monotonic()), comparable with SentMessage.at.
        self.too_many_requests_at: list[float] = []
        self.tokens_seen: set[str] = set()
        # The webhook set with setWebhook (url, secret_token, allowed_updates), if any.
        self.webhook: dict[str, Any] | None = None

        # Internal state.
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}  # per chat, shared by bot and user
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # bot messages, current
        self._raw_texts: dict[tuple[int, int], str] = {}  # their text as the bot sent it
        self._pinned: dict[int, list[int]] = {}  # per chat, the pinned messages, newest first
        # What users sent, so the bot can reply to it or copy it as Telegram allows.
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._open_callbacks: set[str] = set()
        self._next_callback_id = 1
        self._next_file_id = 1
        # The content of files users sent (documents), by file_id, for getFile.
        self._files: dict[str, bytes] = {}
        self._fail_rules: list[FailRule] = []
        self._slow_rules: dict[str, list[SlowRule]] = {}
        self._outages: list[Outage] = []
        self.outage_answers = 0  # calls answered with an error by fail_for()
        self._blocked: set[int] = set()
        self._forgotten: set[int] = set()
        self._revoked: set[str] = set()  # tokens every call with is answered 401
        # getWebhookInfo's last_error_date (unix time) and last_error_message, once set.
        self._webhook_error: tuple[int, str] | None = None

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "User"}
        user = self._users.get(chat_id)
        if user is not None:
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _any_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message in a chat, the bot's or the user's, as Telegram stores it."""
        return self._messages.get((chat_id, message_id)) or self._user_messages.get(
            (chat_id, message_id)
        )

    def _check_reachable(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user")
        if chat_id in self._forgotten:
            raise bad_request("chat not found")

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.BOT_ID,
            "is_bot": True,
            "first_name": "Dutybot",
            "username": self.BOT_USERNAME,
        }

    def _webhook_error_fields(self) -> dict[str, Any]:
        """getWebhookInfo's fields about the last failed delivery, if one failed."""
        if self._webhook_error is None:
            return {}
        at, message = self._webhook_error
        return {"last_error_date": at, "last_error_message": message}
