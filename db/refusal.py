"""A request turned down, as an exception.

It lives in db, below bot, so that a rule anywhere (a parser in bot, the erasure in
db.privacy) can refuse the same way; bot.access's gate turns it into the reply.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request turned down; the text is the whole reply, naming the way forward."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
