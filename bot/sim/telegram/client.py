"""The users' side of the simulated Telegram, as tests play and read it.

Tests read what each chat received (``messages_to``, ``current_text``,
``current_markup``, ``pinned``, ``pinned_texts``; the raw records are ``sent``,
``edits``, ``pins`` and ``callback_answers``), play the users (``inject_message``,
``inject_edit``, ``inject_callback``, ``delete_message``), whose updates the bot picks
up through ordinary ``getUpdates`` long polling, and wait for an outcome (``wait_for``,
``await_for``) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from collections.abc import Callable
from typing import Any, Self, cast

from bot.sim.telegram.state import BotApiState, SentMessage
from bot.sim.telegram.validation import utf16_len


def _set_text(message: dict[str, Any], text: str) -> None:
    message["text"] = text
    if text.startswith("/"):
        # PTB's CommandHandler only fires with a bot_command entity.
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def _one_level(message: dict[str, Any]) -> dict[str, Any]:
    """A replied-to message as Telegram nests it: without its own reply_to_message."""
    copy: dict[str, Any] = json.loads(json.dumps(message))
    copy.pop("reply_to_message", None)
    return copy


class ClientSide(BotApiState):
    """What users received, what they do, and waiting for either."""

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        with self._cond:
            return [m for m in self.sent if m.chat_id == chat_id]

    def _stored(self, chat_id: int, message_id: int) -> dict[str, Any]:
        try:
            return self._messages[(chat_id, message_id)]
        except KeyError:
            known = sorted(mid for cid, mid in self._messages if cid == chat_id)
            raise KeyError(
                f"the bot sent no message {message_id} to chat {chat_id} (its messages there: "
                f"{known})"
            ) from None

    def current_text(self, chat_id: int, message_id: int) -> str:
        with self._cond:
            self._stored(chat_id, message_id)  # KeyError with context if unknown
            return self._raw_texts[(chat_id, message_id)]

    def current_markup(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        with self._cond:
            markup = self._stored(chat_id, message_id).get("reply_markup")
            return cast(dict[str, Any] | None, markup)

    def pinned(self, chat_id: int) -> list[int]:
        """The messages pinned in a chat, the one shown on top first."""
        with self._cond:
            return list(self._pinned.get(chat_id, []))

    def pinned_texts(self, chat_id: int) -> list[str]:
        """The current text of each pinned message (as the bot last sent or edited it)."""
        with self._cond:
            return [self._raw_texts[(chat_id, m)] for m in self._pinned.get(chat_id, [])]

    # -- what users do

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The user deletes one of the bot's messages in their chat (and so its pin)."""
        with self._cond:
            self._stored(chat_id, message_id)  # KeyError with context if unknown
            del self._messages[(chat_id, message_id)]
            del self._raw_texts[(chat_id, message_id)]
            pinned = self._pinned.get(chat_id, [])
            if message_id in pinned:
                pinned.remove(message_id)
            self._cond.notify_all()

    def _user(self, user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        message = update.get("message")
        if message is not None:
            # Kept, as Telegram keeps it: the bot may reply to it or copy it.
            key = (message["chat"]["id"], message["message_id"])
            self._user_messages[key] = json.loads(json.dumps(message))
        if self.webhook is not None:
            return update  # Telegram pushes it to the webhook; getUpdates never serves it
        self._updates.append(update)
        self._cond.notify_all()
        return update

    def inject_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "User",
        username: str | None = None,
        location: tuple[float, float] | None = None,
        live_period: int | None = None,
        media: str | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        document: tuple[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Queue a private message from ``user_id``; returns the update dict.

        ``document`` (file name, content) attaches a file the bot can fetch with getFile
        and download, as from Telegram's file server.

        ``media`` ("photo", "voice", "video", "document") attaches a file as Telegram
        describes it (a photo is a list of sizes), with ``caption``; ``live_period``
        makes ``location`` a live location; ``reply_to`` makes it a reply to a message
        in the chat, which must exist. With a webhook set, nothing is queued: post the
        update to the webhook instead.
        """
        with self._cond:
            user = self._user(user_id, first_name, username)
            message: dict[str, Any] = {
                "message_id": self._new_message_id(user_id),
                "date": int(time.time()),
                "chat": self._chat(user_id),
                "from": dict(user),
            }
            if text:
                _set_text(message, text)
            if location is not None:
                message["location"] = {"latitude": location[0], "longitude": location[1]}
                if live_period is not None:
                    message["location"]["live_period"] = live_period
            if media is not None:
                message.update(self._attachment(media))
            if document is not None:
                message.update(self._document(*document))
            if caption and (media is not None or document is not None):
                message["caption"] = caption
            if reply_to is not None:
                replied = self._any_message(user_id, reply_to)
                if replied is None:
                    raise KeyError(f"no message {reply_to} in chat {user_id} to reply to")
                message["reply_to_message"] = _one_level(replied)
            return self._queue_update({"message": message})

    def inject_edit(self, user_id: int, message_id: int, text: str) -> dict[str, Any]:
        """Queue an ``edited_message``: ``user_id`` changed their message ``message_id`` (one
        ``inject_message`` returned) to ``text``; returns the update dict.

        As on Telegram, the message keeps its id and date and gains an ``edit_date``.
        """
        with self._cond:
            try:
                message = self._user_messages[(user_id, message_id)]
            except KeyError:
                raise KeyError(f"user {user_id} sent no message {message_id}") from None
            message.pop("entities", None)
            _set_text(message, text)
            message["edit_date"] = max(int(time.time()), message["date"])
            return self._queue_update({"edited_message": json.loads(json.dumps(message))})

    def inject_location_edit(
        self, user_id: int, message_id: int, location: tuple[float, float]
    ) -> dict[str, Any]:
        """Queue an ``edited_message`` for a live location that moved, as Telegram sends
        each new position of a live location the user shares; returns the update dict."""
        with self._cond:
            try:
                message = self._user_messages[(user_id, message_id)]
            except KeyError:
                raise KeyError(f"user {user_id} sent no message {message_id}") from None
            if "location" not in message:
                raise ValueError(f"message {message_id} is not a location")
            message["location"].update({"latitude": location[0], "longitude": location[1]})
            message["edit_date"] = max(int(time.time()), message["date"])
            return self._queue_update({"edited_message": json.loads(json.dumps(message))})

    def _document(self, file_name: str, content: bytes) -> dict[str, Any]:
        number = self._next_file_id
        self._next_file_id += 1
        file_id = f"BQACAgIFake{number:08d}"
        self._files[file_id] = content
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        return {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"AgADFake{number:08d}",
                "file_name": file_name,
                "mime_type": mime,
                "file_size": len(content),
            }
        }

    def _attachment(self, media: str) -> dict[str, Any]:
        """A file as Telegram puts it in a message; each gets file ids of its own."""
        number = self._next_file_id
        self._next_file_id += 1

        def ids(prefix: str, size: str = "") -> dict[str, Any]:
            return {
                "file_id": f"{prefix}Fake{number:08d}{size}",
                "file_unique_id": f"AQADFake{number:08d}{size}",
            }

        if media == "photo":
            return {
                "photo": [
                    {**ids("AgACAgI", "s"), "width": 90, "height": 67, "file_size": 1400},
                    {**ids("AgACAgI", "m"), "width": 320, "height": 240, "file_size": 17000},
                    {**ids("AgACAgI", "x"), "width": 1280, "height": 960, "file_size": 160000},
                ]
            }
        if media == "voice":
            return {
                "voice": {
                    **ids("AwACAgI"),
                    "duration": 7,
                    "mime_type": "audio/ogg",
                    "file_size": 21000,
                }
            }
        if media == "video":
            return {"video": {**ids("BAACAgI"), "width": 640, "height": 360, "duration": 12}}
        if media == "document":
            return {
                "document": {
                    **ids("BQACAgI"),
                    "file_name": "map.pdf",
                    "mime_type": "application/pdf",
                }
            }
        raise ValueError(f"unknown media {media!r}")

    def inject_callback(
        self,
        user_id: int,
        *,
        chat_id: int,
        message_id: int,
        data: str,
        first_name: str = "User",
        username: str | None = None,
    ) -> str:
        """Queue a button press on a bot message; returns the callback query id."""
        with self._cond:
            message = json.loads(json.dumps(self._stored(chat_id, message_id)))  # deep copy
            query_id = str(4_000_000_000_000_000 + self._next_callback_id)
            self._next_callback_id += 1
            self._open_callbacks.add(query_id)
            self._queue_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": dict(self._user(user_id, first_name, username)),
                        "chat_instance": "ci",
                        "data": data,
                        "message": message,
                    }
                }
            )
            return query_id

    # -- waiting

    def _describe(self) -> str:
        recent_calls = [method for method, _ in self.calls[-10:]]
        recent_sent = [(m.chat_id, m.message_id, m.text[:60]) for m in self.sent[-5:]]
        return (
            f"{len(self.sent)} sent, {len(self.edits)} edits, "
            f"{len(self.callback_answers)} callback answers, {len(self.calls)} calls, "
            f"{len(self._updates)} updates not yet fetched; last calls: {recent_calls}; "
            f"last messages: {recent_sent}"
        )

    # Long enough for a loaded two-core machine: a wait ends as soon as its condition holds,
    # so the bound only decides how long a test that has already failed takes to say so.
    # Read at each wait, so that a test run may shorten it (mutation runs do).
    WAIT_SECONDS = 30.0

    def wait_for(self, predicate: Callable[[Self], bool], timeout: float | None = None) -> None:
        """Block the calling thread until ``predicate(self)`` holds.

        Do not call this from the event loop the bot runs on (it would freeze the bot);
        use ``await_for`` there.
        """
        timeout = self.WAIT_SECONDS if timeout is None else timeout
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout=timeout):
                raise TimeoutError(f"condition not met within {timeout:.1f} s: {self._describe()}")

    async def await_for(
        self,
        predicate: Callable[[Self], bool],
        timeout: float | None = None,  # noqa: ASYNC109 - same signature as wait_for, by design
    ) -> None:
        """Like ``wait_for`` but yields to the event loop (10 ms polls) while waiting."""
        timeout = self.WAIT_SECONDS if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if predicate(self):
                    return
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"condition not met within {timeout:.1f} s: {self._describe()}"
                    )
            await asyncio.sleep(0.01)
