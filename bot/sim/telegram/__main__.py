"""The simulated Telegram Bot API as a process of its own, for benchmarks across processes.

A benchmark that runs the bot (or several of its workers) in other processes starts it:

    python -m bot.sim.telegram [--port 0] [--server async|threaded]
        [--flood off|token-bucket|sliding-window|fixed-window]
        [--global-rate 30] [--chat-rate 1] [--paid-rate 1000] [--count-edits]

It prints one line, its base URL (``http://127.0.0.1:<port>/bot``, for
``ApplicationBuilder().base_url``), once it is listening, and serves until SIGTERM or
SIGINT. Then it prints one line of JSON, what it accepted (``SimStats``: messages in
total and per chat, 429s answered, duplicate texts per chat), and exits with 0.
``GET /sim/stats`` answers the same JSON at any time.

By default it serves through the asyncio front, without flood control (``--flood off``);
the rates are Telegram's unless given, and apply only with a ``--flood`` way of counting.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from bot.sim.telegram.flood import FloodMode, RateLimits
from bot.sim.telegram.server import SERVER_KINDS, FakeTelegram

_OFF = "off"
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sim.telegram", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free one)"
    )
    parser.add_argument(
        "--server", choices=SERVER_KINDS, default="async", help="HTTP front (default async)"
    )
    parser.add_argument(
        "--flood",
        choices=[_OFF, *(m.value for m in FloodMode)],
        default=_OFF,
        help="how flood control counts (default: off, no flood control)",
    )
    defaults = RateLimits()
    parser.add_argument(
        "--global-rate",
        type=float,
        default=defaults.global_per_second,
        help="messages a second over all chats (default %(default)g; 0: no limit)",
    )
    parser.add_argument(
        "--chat-rate",
        type=float,
        default=defaults.per_chat_per_second,
        help="messages a second to one chat (default %(default)g; 0: no limit)",
    )
    parser.add_argument(
        "--paid-rate",
        type=float,
        default=defaults.paid_per_second,
        help="paid broadcasts a second (default %(default)g; 0: no limit)",
    )
    parser.add_argument("--count-edits", action="store_true", help="edits count against the limits")
    return parser


def _rate_limits(args: argparse.Namespace) -> RateLimits | None:
    if args.flood == _OFF:
        return None
    return RateLimits(
        global_per_second=args.global_rate,
        per_chat_per_second=args.chat_rate,
        paid_per_second=args.paid_rate,
        mode=FloodMode(args.flood),
        count_edits=args.count_edits,
    )


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # Blocked before the server's threads start, so they inherit it: a signal the kernel
    # handed to one of them would never wake the main thread; now it waits for sigwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    if args.server == "threaded":
        # A thread per connection: a short switch interval lets the thread whose request
        # has arrived run without waiting out another's 5 ms.
        sys.setswitchinterval(0.0005)
    fake = FakeTelegram(rate_limits=_rate_limits(args), server=args.server, port=args.port)
    with fake:
        print(fake.base_url, flush=True)
        signal.sigwait(_STOP_SIGNALS)
    try:
        print(json.dumps(fake.stats()), flush=True)
    except BrokenPipeError:
        # Nobody reads any more; keep Python's own flush at exit from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
