"""What the simulated Telegram accepted, summed up for a process that cannot read its records.

A benchmark that runs the bot in other processes, against ``python -m bot.sim.telegram``,
reads the outcome as this JSON (from ``GET /sim/stats`` or the line the simulator prints
on exit) instead of ``FakeTelegram.sent``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TypedDict

from bot.sim.telegram.state import SentMessage

# The simulator's own path: the Bot API only serves /bot<token>/... and /file/bot<token>/...
STATS_PATH = "/sim/stats"


class SimStats(TypedDict):
    """Messages accepted (sendMessage, sendDocument, copyMessage), in total and per chat;
    429s answered; and, per chat, the messages whose text the chat had already received.

    JSON object keys are strings, so chat ids are too. A chat with no duplicate is left out
    of ``duplicates_per_chat``; messages without a text (a document or copy without a
    caption) are never counted as duplicates.
    """

    accepted: int
    accepted_per_chat: dict[str, int]
    too_many_requests: int
    duplicates: int
    duplicates_per_chat: dict[str, int]


def sim_stats(sent: Iterable[SentMessage], *, too_many_requests: int) -> SimStats:
    accepted: Counter[int] = Counter()
    duplicates: Counter[int] = Counter()
    seen: set[tuple[int, str]] = set()
    for message in sent:
        accepted[message.chat_id] += 1
        if not message.text:
            continue
        key = (message.chat_id, message.text)
        if key in seen:
            duplicates[message.chat_id] += 1
        else:
            seen.add(key)
    return {
        "accepted": sum(accepted.values()),
        "accepted_per_chat": {str(chat): n for chat, n in sorted(accepted.items())},
        "too_many_requests": too_many_requests,
        "duplicates": sum(duplicates.values()),
        "duplicates_per_chat": {str(chat): n for chat, n in sorted(duplicates.items())},
    }
