"""Sending and editing messages on the simulated Telegram.

sendMessage, sendDocument, copyMessage, editMessageText, editMessageReplyMarkup,
pinChatMessage and unpinChatMessage: each is checked as Telegram checks it (the chat,
flood control, the text and the buttons, the message replied to, copied, edited or
pinned), stored as Telegram stores it, and recorded in ``sent``, ``edits`` or ``pins``
for tests to read. Pins and unpins count against flood control like messages, and edits
too when the limits say so (``RateLimits.count_edits``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.sim.telegram.errors import bad_request
from bot.sim.telegram.params import UploadedFile, bool_param, int_param, json_param, markup_param
from bot.sim.telegram.state import BotApiState, Edit, Pin, SentMessage
from bot.sim.telegram.validation import (
    MAX_CAPTION_UTF16,
    MAX_TEXT_UTF16,
    check_markup,
    checked_text,
)


class MessageMethods(BotApiState):
    """Handlers: each takes the decoded parameters and returns the call's ``result``."""

    def _target_chat(self, params: dict[str, Any]) -> int:
        chat_id = int_param(params, "chat_id")
        if chat_id is None:
            # Usernames ("@channel") are not modelled: the bot only talks to private chats.
            raise bad_request("chat not found")
        self._check_reachable(chat_id)
        return chat_id

    def _paid(self, params: dict[str, Any]) -> bool:
        """Whether a send asks to be a paid broadcast; a 400 when the bot cannot pay.

        Telegram does not document what it answers then: this text is the simulator's,
        and the bot must not depend on it."""
        paid = bool_param(params, "allow_paid_broadcast")
        balance = self.star_balance
        if paid and balance is not None and balance - self.stars_spent < self.PAID_BROADCAST_STARS:
            raise bad_request("BALANCE_TOO_LOW")
        return paid

    def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        now = time.monotonic()
        paid = self._paid(params)
        self._flood.check(chat_id, now, paid=paid)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise bad_request("message text is empty")
        parse_mode = params.get("parse_mode")
        plain, entities = checked_text(
            text,
            parse_mode,
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
        markup = markup_param(params)
        check_markup(markup)

        replied = self._replied_to(chat_id, params)
        message = self._new_bot_message(chat_id, text)
        self._set_text(message, "text", plain, entities)
        if replied is not None:
            message["reply_to_message"] = replied
        return self._deliver(
            message,
            text=text,
            parse_mode=parse_mode,
            markup=markup,
            now=now,
            method="sendMessage",
            paid=paid,
        )

    def _replied_to(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message a send replies to (reply_parameters, or the older
        reply_to_message_id), nested one level deep; a 400 when it is not in the chat."""
        reply = json_param(params, "reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": int_param(params, "reply_to_message_id"),
                "allow_sending_without_reply": bool_param(params, "allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        if reply.get("chat_id") not in (None, chat_id):
            raise bad_request("message to be replied not found")  # quotes elsewhere: unused
        found = self._any_message(chat_id, reply["message_id"])
        if found is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        nested: dict[str, Any] = json.loads(json.dumps(found))
        nested.pop("reply_to_message", None)
        return nested

    # What a copy keeps of the original: its content, never who sent it or when.
    _COPIED = (
        "text",
        "entities",
        "photo",
        "voice",
        "video",
        "video_note",
        "audio",
        "animation",
        "document",
        "location",
        "venue",
        "caption",
        "caption_entities",
    )
    _CAPTIONED = ("photo", "voice", "video", "audio", "animation", "document")

    def _copy_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        from_chat_id = int_param(params, "from_chat_id")
        message_id = int_param(params, "message_id")
        now = time.monotonic()
        paid = self._paid(params)
        self._flood.check(chat_id, now, paid=paid)
        source = self._any_message(from_chat_id or 0, message_id or 0)
        if source is None:
            raise bad_request("message to copy not found")
        if not any(key in source for key in self._COPIED):
            raise bad_request("message can't be copied")
        caption = params.get("caption")
        parse_mode = params.get("parse_mode")
        markup = markup_param(params)
        check_markup(markup)
        message = self._new_bot_message(chat_id, "")
        for key in self._COPIED:
            if key in source:
                message[key] = json.loads(json.dumps(source[key]))
        shown = message.get("text") or message.get("caption") or ""
        if caption is not None and any(key in source for key in self._CAPTIONED):
            # A new caption replaces the original's, checked as any caption is.
            plain, entities = checked_text(
                str(caption),
                parse_mode,
                limit=MAX_CAPTION_UTF16,
                too_long="message caption is too long",
                allow_empty=True,
            )
            message.pop("caption", None)
            if plain:
                self._set_text(message, "caption", plain, entities)
            shown = str(caption)
        elif caption is not None:
            # Text, a location: Telegram has no caption to put it in.
            raise bad_request("message can't have a caption")
        self._raw_texts[(chat_id, message["message_id"])] = shown
        self._deliver(
            message,
            text=shown,
            parse_mode=parse_mode,
            markup=markup,
            now=now,
            method="copyMessage",
            copy_of=(from_chat_id or 0, message_id or 0),
            content={k: message[k] for k in self._COPIED if k in message},
            paid=paid,
        )
        # copyMessage answers with the new message's id alone (a MessageId).
        return {"message_id": message["message_id"]}

    def _deliver(
        self,
        message: dict[str, Any],
        *,
        text: str,
        parse_mode: Any,
        markup: dict[str, Any] | None,
        now: float,
        method: str,
        document: bytes | None = None,
        filename: str | None = None,
        copy_of: tuple[int, int] | None = None,
        content: dict[str, Any] | None = None,
        paid: bool = False,
    ) -> Any:
        """A message the bot sent is accepted: counted against the limits (a paid
        broadcast's, and charged, when `paid`) and recorded."""
        chat_id = message["chat"]["id"]
        if markup is not None:
            message["reply_markup"] = markup
        self._flood.accept(chat_id, now, paid=paid)
        if paid:
            self.stars_spent += self.PAID_BROADCAST_STARS
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                text=text,
                parse_mode=parse_mode,
                reply_markup=markup,
                at=now,
                method=method,
                document=document,
                filename=filename,
                copy_of=copy_of,
                content=content,
                paid=paid,
            )
        )
        return json.loads(json.dumps(message))

    def _send_document(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        now = time.monotonic()
        self._flood.check(chat_id, now)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        content: bytes | None = None
        filename: str | None = None
        if isinstance(document, UploadedFile):
            content, filename = document.content, document.filename
        elif not isinstance(document, str) or not document:
            raise bad_request("there is no document in the request")
        caption = params.get("caption")
        caption = "" if caption is None else str(caption)
        parse_mode = params.get("parse_mode")
        plain, entities = checked_text(
            caption,
            parse_mode,
            limit=MAX_CAPTION_UTF16,
            too_long="message caption is too long",
            allow_empty=True,
        )
        markup = markup_param(params)
        check_markup(markup)

        file_no = self._next_file_id
        self._next_file_id += 1
        doc: dict[str, Any] = {
            # A file_id sent back by the bot is "re-sent" as is, like Telegram does.
            "file_id": document if isinstance(document, str) else f"BQACAgFake{file_no:08d}",
            "file_unique_id": f"AgADFake{file_no:08d}",
        }
        if filename is not None:
            doc["file_name"] = filename
        if content is not None:
            doc["file_size"] = len(content)
        message = self._new_bot_message(chat_id, caption)
        message["document"] = doc
        if plain:
            self._set_text(message, "caption", plain, entities)
        return self._deliver(
            message,
            text=caption,
            parse_mode=parse_mode,
            markup=markup,
            now=now,
            method="sendDocument",
            document=content,
            filename=filename,
        )

    def _new_bot_message(self, chat_id: int, raw_text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
        }
        self._messages[(chat_id, message["message_id"])] = message
        self._raw_texts[(chat_id, message["message_id"])] = raw_text
        return message

    @staticmethod
    def _set_text(
        message: dict[str, Any], field: str, plain: str, entities: list[dict[str, Any]]
    ) -> None:
        # What Telegram stores and returns: the text without markup, formatting as
        # entities (so PTB's message.text_html round-trips).
        message[field] = plain
        entities_field = "entities" if field == "text" else "caption_entities"
        if entities:
            message[entities_field] = entities
        else:
            message.pop(entities_field, None)

    def _message_to_edit(self, params: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
        if params.get("inline_message_id") is not None:
            # The bot never sends inline messages; editing one would be a bug.
            raise bad_request("message to edit not found")
        chat_id = self._target_chat(params)
        message_id = int_param(params, "message_id")
        stored = self._messages.get((chat_id, message_id or 0))
        if message_id is None or stored is None:
            raise bad_request("message to edit not found")
        return chat_id, message_id, stored

    _NOT_MODIFIED = (
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )

    def _edit_message_text(self, params: dict[str, Any]) -> Any:
        chat_id, message_id, stored = self._message_to_edit(params)
        now = time.monotonic()
        self._flood.check_edit(chat_id, now)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise bad_request("message text is empty")
        plain, entities = checked_text(
            text,
            params.get("parse_mode"),
            limit=MAX_TEXT_UTF16,
            too_long="message is too long",
            allow_empty=False,
        )
        if "text" not in stored:
            raise bad_request("there is no text in the message to edit")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = markup_param(params)
        check_markup(markup)
        # Telegram compares the result (text and entities), not the markup sent.
        if (
            stored["text"] == plain
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise bad_request(self._NOT_MODIFIED)
        self._set_text(stored, "text", plain, entities)
        self._raw_texts[(chat_id, message_id)] = text
        self._set_markup(stored, markup)
        self._flood.accept_edit(chat_id, now)
        return self._record_edit(
            chat_id, message_id, text, markup, stored, parse_mode=params.get("parse_mode")
        )

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        chat_id, message_id, stored = self._message_to_edit(params)
        now = time.monotonic()
        self._flood.check_edit(chat_id, now)
        markup = markup_param(params)
        check_markup(markup)
        if stored.get("reply_markup") == markup:
            raise bad_request(self._NOT_MODIFIED)
        self._set_markup(stored, markup)
        self._flood.accept_edit(chat_id, now)
        return self._record_edit(chat_id, message_id, None, markup, stored)

    @staticmethod
    def _set_markup(stored: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup is None:
            stored.pop("reply_markup", None)
        else:
            stored["reply_markup"] = markup

    def _record_edit(
        self,
        chat_id: int,
        message_id: int,
        text: str | None,
        markup: dict[str, Any] | None,
        stored: dict[str, Any],
        *,
        parse_mode: str | None = None,
    ) -> Any:
        stored["edit_date"] = int(time.time())
        self.edits.append(
            Edit(
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=parse_mode,
                text=text,
                reply_markup=markup,
                at=time.monotonic(),
            )
        )
        return json.loads(json.dumps(stored))

    # -- pinned messages (a private chat's, pinned by the bot) -------------------------
    def _pin_chat_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        message_id = int_param(params, "message_id")
        now = time.monotonic()
        paid = self._paid(params)
        self._flood.check(chat_id, now, paid=paid)
        if message_id is None or self._any_message(chat_id, message_id) is None:
            raise bad_request("message to pin not found")
        pinned = self._pinned.setdefault(chat_id, [])
        if message_id in pinned:
            pinned.remove(message_id)
        pinned.insert(0, message_id)  # the newest pin is the one the chat shows on top
        self._flood.accept(chat_id, now)
        self.pins.append(
            Pin(
                chat_id=chat_id,
                message_id=message_id,
                pinned=True,
                silent=bool_param(params, "disable_notification"),
                at=now,
            )
        )
        return True

    def _unpin_chat_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        message_id = int_param(params, "message_id", required=False)
        now = time.monotonic()
        self._flood.check(chat_id, now)
        pinned = self._pinned.setdefault(chat_id, [])
        if message_id is None:
            # Telegram unpins the most recent pinned message; with none, nothing to do.
            if not pinned:
                return True
            message_id = pinned[0]
        if self._any_message(chat_id, message_id) is None:
            raise bad_request("message to unpin not found")
        if message_id in pinned:
            pinned.remove(message_id)
        self._flood.accept(chat_id, now)
        self.pins.append(
            Pin(chat_id=chat_id, message_id=message_id, pinned=False, silent=True, at=now)
        )
        return True
