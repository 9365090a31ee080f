"""Editing a message the bot sent, the one way: "message is not modified" is success, a
refusal is logged once and given up, anything passing (a timeout, a 5xx) is reported so
the caller tries again on its next tick. `LatestEdits` folds the edits of one message
that wait for the flood budget into one, of the latest text. `answer_in_trouble` answers
a person who may be in trouble with the next slot of the budget."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import Any, cast

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.ratelimit import HAS_SLOT, Rank, SendBudget, delivery_rank
from db.models import Priority

log = logging.getLogger(__name__)

# The rank of what is said to a person in trouble (the offer to alert their team, that
# their words were passed on, that their leads are being alerted): the next slot of the
# flood budget, with calls for help, never after a routine broadcast still going out.
IN_TROUBLE = delivery_rank(Priority.CRITICAL)


async def answer_in_trouble(
    message: Message,
    text: str,
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
    quote: bool = False,
) -> Message:
    """Answer a person who may be in trouble in the chat of their `message`, at the rank
    IN_TROUBLE (as bot.access.answer does at another rank); `quote`: as a reply to it."""
    bot = cast("ExtBot[Any]", message.get_bot())
    return await bot.send_message(
        message.chat.id,
        text,
        reply_markup=reply_markup,
        reply_parameters=ReplyParameters(message.message_id) if quote else None,
        rate_limit_args=IN_TROUBLE,
    )


_TAG = re.compile(r"<[^>]+>")


def shown_as(html_text: str) -> str:
    """What Telegram shows of the bot's HTML: the text without its tags, entities decoded."""
    return html.unescape(_TAG.sub("", html_text)).strip()


async def edit_text(
    bot: Bot,
    *,
    chat_id: int,
    message_id: int,
    text: str,
    what: str,
    parse_mode: str | None = ParseMode.HTML,
    reply_markup: InlineKeyboardMarkup | None = None,
    extra: dict[str, Any] | None = None,
    rate_limit_args: int | None = None,
) -> bool:
    """Show `text` in a message the bot sent; True once settled (edited, already showing
    it, or refused for good), False when it failed for now and is worth trying again.
    `what` names the message in the log ("broadcast 12: report"); `rate_limit_args`
    goes to the application's bot's rate limiter (HAS_SLOT: the slot is already taken)."""
    limiter: dict[str, Any] = {}
    if rate_limit_args is not None:
        limiter["rate_limit_args"] = rate_limit_args
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            **limiter,
        )
    except BadRequest as error:
        # A deleted or too old message is not worth hammering; an unchanged one is done.
        if "not modified" not in error.message.lower():
            log.warning("%s not updated: %s", what, error.message, extra=extra)
    except TelegramError as error:
        log.warning("%s not updated: %s", what, error.message, extra=extra)
        return False
    return True


@dataclass(frozen=True)
class _Wanted:
    text: str
    what: str
    reply_markup: InlineKeyboardMarkup | None
    extra: dict[str, Any] | None


class LatestEdits:
    """Edits that wait for a slot of the flood budget (behind every alert going out), one
    per message at a time: a newer text for a message whose edit is waiting replaces it,
    so that a person pressing a button again and again during a broadcast costs the
    budget one edit, not one per press."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[int, int], _Wanted] = {}

    async def show(
        self,
        bot: Bot,
        *,
        chat_id: int,
        message_id: int,
        text: str,
        what: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        key = (chat_id, message_id)
        waiting = key in self._wanted
        self._wanted[key] = _Wanted(text, what, reply_markup, extra)
        if waiting:
            return  # the edit already waiting shows this text instead
        try:
            await SendBudget.of(bot).slot(Rank.REPLY)
        finally:
            wanted = self._wanted.pop(key)
        await edit_text(
            bot,
            chat_id=chat_id,
            message_id=message_id,
            text=wanted.text,
            what=wanted.what,
            reply_markup=wanted.reply_markup,
            extra=wanted.extra,
            rate_limit_args=HAS_SLOT,
        )
