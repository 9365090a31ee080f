"""Editing a message the bot sent, the one way: "message is not modified" is success, a
refusal is logged once and given up, anything passing (a timeout, a 5xx) is reported so
the caller tries again on its next tick."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

log = logging.getLogger(__name__)


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
) -> bool:
    """Show `text` in a message the bot sent; True once settled (edited, already showing
    it, or refused for good), False when it failed for now and is worth trying again.
    `what` names the message in the log ("broadcast 12: report")."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
        )
    except BadRequest as error:
        # A deleted or too old message is not worth hammering; an unchanged one is done.
        if "not modified" not in error.message.lower():
            log.warning("%s not updated: %s", what, error.message, extra=extra)
    except TelegramError as error:
        log.warning("%s not updated: %s", what, error.message, extra=extra)
        return False
    return True
