"""The comparison sender for benchmarks.broadcast: mass messages as python-telegram-bot suggests.

A loop over `bot.send_message`, throttled by PTB's `AIORateLimiter` (the
`python-telegram-bot[rate-limiter]` extra), with nothing else: no outbox, no database,
no retries beyond what the rate limiter does. A message Telegram refuses is lost.

Run by the benchmark as a subprocess, so that its CPU and memory are measured like the
bot's. It reads TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL, SEND_RATE_PER_SECOND, BENCH_TEXT
and BENCH_CHATS (a file with one chat id a line); prints "ready" once connected, starts
sending when it reads a line on stdin, prints one JSON line when done, and exits when
stdin closes.

With BENCH_MODE=raw it is no bot at all but 16 concurrent plain httpx loops, as fast as
they go: what the fake Bot API itself can take.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder


async def raw(base_url: str, token: str, text: str, chats: list[int]) -> dict[str, int]:
    failed: dict[str, int] = {}
    pending = iter(chats)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:

        async def worker() -> None:
            for chat_id in pending:
                response = await client.post(
                    f"{base_url}{token}/sendMessage",
                    data={"chat_id": str(chat_id), "text": text, "parse_mode": "HTML"},
                )
                if not response.json().get("ok"):
                    failed[str(response.status_code)] = failed.get(str(response.status_code), 0) + 1

        await asyncio.gather(*(worker() for _ in range(16)))
    return failed


async def main(chats: list[int]) -> None:
    rate = float(os.environ["SEND_RATE_PER_SECOND"])
    text = os.environ["BENCH_TEXT"]
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .rate_limiter(AIORateLimiter(overall_max_rate=rate, overall_time_period=1))
        .build()
    )
    loop = asyncio.get_running_loop()
    async with application:
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        failed: dict[str, int] = {}
        if os.environ.get("BENCH_MODE") == "raw":
            failed = await raw(
                os.environ["TELEGRAM_BASE_URL"], os.environ["TELEGRAM_BOT_TOKEN"], text, chats
            )
            chats = []
        for chat_id in chats:
            try:
                await application.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
            except TelegramError as error:
                failed[type(error).__name__] = failed.get(type(error).__name__, 0) + 1
        print(json.dumps({"failed": failed}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main([int(line) for line in Path(os.environ["BENCH_CHATS"]).read_text().split()]))
