"""Benchmark: how many sendMessage requests a second the simulated Telegram can serve.

The bot may send up to 1,000 paid broadcasts a second from several worker processes
(each with up to 128 requests in flight), so the simulator must never be the limit a
broadcast benchmark measures. Each of its HTTP fronts (``async``, then ``threaded``)
runs in a process of its own (``python -m bot.sim.telegram``) with flood control far
above the load (Telegram's one message a second to a chat, a million a second in all:
every request goes to a chat of its own), and is driven for a few seconds, as fast as it
answers, over CONNECTIONS concurrent keep-alive connections, by two kinds of client:

- ``asyncio``: one process sending hand-written HTTP/1.1 over asyncio streams, which
  costs a fraction of what the simulator spends on a request, so the simulator is the
  limit: this is its capacity;
- ``httpx``: ``httpx.AsyncClient``, as the bot sends, in two processes (one costs more
  CPU per request than the simulator); on a machine with few cores these clients, not
  the simulator, are the limit.

Printed: for each front and client, the requests answered, requests a second, the median
and 99th percentile latency, errors (any answer but 200, or none), the client processes,
and the CPU the simulator and the clients spent per request; and whether the simulator's
own count (``GET /sim/stats``) agrees.

    .venv/bin/python -m benchmarks.sim_capacity [--seconds 5] [--connections 128]
        [--only async threaded] [--sender asyncio httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.sim.telegram.server import SERVER_KINDS, FakeTelegram
from bot.sim.telegram.stats import STATS_PATH

ROOT = Path(__file__).resolve().parents[1]
TEXT = urllib.parse.quote_plus("<b>Benchmark</b> alert: stay indoors until further notice.")
SENDERS = {"asyncio": 1, "httpx": 2}  # each kind of client, and its processes
# Chat ids of client process k start at FIRST_CHAT + k * CHATS_PER_CLIENT: none is used twice.
FIRST_CHAT = 1_000_000_000
CHATS_PER_CLIENT = 100_000_000
FORM = "application/x-www-form-urlencoded"
# A connection not open and answering by then counts as failed (a client whose connection
# was dropped from a full backlog tries again after 1 s, 3 s, 7 s, ...).
CONNECT_TIMEOUT = 10.0

# One connection: sends a Bot API method with a form body, returns the HTTP status.
Send = Callable[[str, bytes], Awaitable[int]]


# -- a client process ---------------------------------------------------------------------
async def _httpx_sender(stack: contextlib.AsyncExitStack, base_url: str) -> Send:
    # A client of its own for each connection: on every request, httpcore's pool looks
    # over each of its connections for each idle one (httpcore 1.0), so one pool of many
    # connections costs the client more CPU a request than many pools of one.
    client = await stack.enter_async_context(
        # Plain HTTP: no need to load the CA bundle for every client.
        httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=30, verify=False)
    )
    headers = {"Content-Type": FORM}

    async def send(method: str, body: bytes) -> int:
        url = f"{base_url}{FakeTelegram.TOKEN}/{method}"
        return (await client.post(url, content=body, headers=headers)).status_code

    return send


async def _asyncio_sender(stack: contextlib.AsyncExitStack, base_url: str) -> Send:
    url = urllib.parse.urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    stack.callback(writer.close)

    async def send(method: str, body: bytes) -> int:
        writer.write(
            f"POST {url.path}{FakeTelegram.TOKEN}/{method} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: {FORM}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        await reader.readexactly(length)
        return int(head[9:12])

    return send


async def drive(
    base_url: str, *, sender: str, seconds: float, connections: int, first_chat: int
) -> None:
    """Send as fast as answered for `seconds` once a line arrives on stdin; print JSON."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        open_sender = _httpx_sender if sender == "httpx" else _asyncio_sender

        async def connect() -> Send:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                send = await open_sender(stack, base_url)
                await send("getMe", b"")
                return send

        # All at once, as a bot's pool opens them when a broadcast starts; before the
        # clock starts, and timed apart. A connection that fails is counted and left out.
        started = time.perf_counter()
        opened = await asyncio.gather(
            *(connect() for _ in range(connections)), return_exceptions=True
        )
        connect_seconds = time.perf_counter() - started
        sends = [send for send in opened if not isinstance(send, BaseException)]
        for failed in opened:
            if isinstance(failed, BaseException):
                outcomes[f"connect: {type(failed).__name__}"] += 1
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        deadline = time.monotonic() + seconds

        async def worker(k: int) -> None:
            send, chat = sends[k], first_chat + k
            while time.monotonic() < deadline:
                body = f"chat_id={chat}&parse_mode=HTML&text={TEXT}".encode()
                started = time.perf_counter()
                try:
                    status = await send("sendMessage", body)
                except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
                    outcomes[type(error).__name__] += 1
                    return  # the connection is gone
                latencies.append(time.perf_counter() - started)
                outcomes[str(status)] += 1
                chat += connections

        await asyncio.gather(*(worker(k) for k in range(len(sends))))
    report = {"latencies": latencies, "outcomes": outcomes, "connect_seconds": connect_seconds}
    print(json.dumps(report), flush=True)


# -- the benchmark ------------------------------------------------------------------------
@dataclass
class Row:
    server: str
    sender: str
    clients: int  # client processes
    connections: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    accepted: int | None = None  # sendMessage, as the simulator counted them
    connect_seconds: float = 0.0  # the slowest client's, to open all its connections
    # CPU seconds spent while the clients sent (None where there is no /proc)
    simulator_cpu: float | None = None
    clients_cpu: float | None = None

    @property
    def answered(self) -> int:
        return self.outcomes["200"]

    @property
    def errors(self) -> int:
        return sum(self.outcomes.values()) - self.answered


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _cpu_seconds(processes: list[subprocess.Popen[str]]) -> float | None:
    """User plus system CPU of live processes, from /proc (None where there is no /proc)."""
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{process.args!r} ended (exit {process.wait()}) saying nothing")
    return line.strip()


def _stop(process: subprocess.Popen[str], *, terminate: bool) -> None:
    """Wait for `process` to end (after SIGTERM if `terminate`), or kill it."""
    if process.poll() is None:
        if terminate:
            process.send_signal(signal.SIGTERM)
        try:
            # Reads what it prints on the way out (the simulator's statistics), which
            # could fill the pipe and hold it up.
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(server: str, sender: str, args: argparse.Namespace) -> Row:
    limits = ["--flood", "token-bucket", "--global-rate", "1e6", "--paid-rate", "1e6"]
    simulator = _start(["bot.sim.telegram", "--server", server, *limits])
    processes = min(args.clients or SENDERS[sender], args.connections)
    row = Row(server, sender, processes, args.connections, args.seconds)
    clients: list[subprocess.Popen[str]] = []
    try:
        base_url = _line(simulator)
        for k in range(processes):
            connections = args.connections // processes + (k < args.connections % processes)
            command = ["benchmarks.sim_capacity", "--client", base_url, "--sender", sender]
            command += ["--seconds", str(args.seconds), "--connections", str(connections)]
            command += ["--first-chat", str(FIRST_CHAT + k * CHATS_PER_CLIENT)]
            clients.append(_start(command))
        for client in clients:
            if _line(client) != "ready":
                raise RuntimeError(f"client {client.args!r} did not get ready")
        simulator_cpu, clients_cpu = _cpu_seconds([simulator]), _cpu_seconds(clients)
        for client in clients:  # all start together
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        reports = [json.loads(_line(client)) for client in clients]
        row.simulator_cpu = _spent(simulator_cpu, _cpu_seconds([simulator]))
        row.clients_cpu = _spent(clients_cpu, _cpu_seconds(clients))
        for report in reports:
            row.latencies.extend(report["latencies"])
            row.outcomes.update(report["outcomes"])
            row.connect_seconds = max(row.connect_seconds, report["connect_seconds"])
        stats = httpx.get(base_url.removesuffix("/bot") + STATS_PATH, timeout=30).json()
        row.accepted = stats["accepted"]
    finally:
        for client in clients:
            _stop(client, terminate=False)  # done once it has reported
        _stop(simulator, terminate=True)
    return row


def _ms(values: list[float], quantile: int) -> str:
    if len(values) < 2:
        return "-"
    return f"{statistics.quantiles(values, n=100)[quantile - 1] * 1000:.1f}"


def _per_request(cpu: float | None, requests: int) -> str:
    return "-" if cpu is None or not requests else f"{cpu / requests * 1e6:.0f}"


def print_table(rows: list[Row]) -> None:
    header = (
        "server",
        "client",
        "processes",
        "connections",
        "connect s",
        "requests",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU µs/req",
        "clients CPU µs/req",
    )
    table = [header] + [
        (
            r.server,
            r.sender,
            str(r.clients),
            str(r.connections),
            f"{r.connect_seconds:.2f}",
            str(r.answered),
            f"{r.answered / r.seconds:.0f}",
            _ms(r.latencies, 50),
            _ms(r.latencies, 99),
            str(r.errors),
            _per_request(r.simulator_cpu, r.answered),
            _per_request(r.clients_cpu, r.answered),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))
    for r in rows:
        if r.accepted != r.answered:
            print(
                f"- {r.server}, {r.sender}: the simulator accepted {r.accepted} messages, "
                f"the clients saw {r.answered} answered"
            )
        for outcome, count in sorted(r.outcomes.items()):
            if outcome != "200":
                print(f"- {r.server}, {r.sender}: {count} x {outcome}")
    print(
        "Connect: the time to open every connection at once and get one answer on each, "
        "before the clock starts. Requests: sendMessage answered 200 within the time, each "
        "to a chat of its own. Latency: from sending to the whole answer, at the client. "
        "CPU: the simulator's process, and the client processes together, per request "
        "answered; the simulator runs under one GIL, so a million over its figure is about "
        "what one free core would let it serve."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each run sends")
    parser.add_argument(
        "--connections", type=int, default=128, help="concurrent connections in all"
    )
    parser.add_argument("--only", nargs="+", choices=SERVER_KINDS, metavar="SERVER")
    parser.add_argument("--sender", nargs="+", choices=list(SENDERS), help="kinds of client")
    parser.add_argument(
        "--clients", type=int, help="client processes (default: asyncio 1, httpx 2)"
    )
    # A client process, started by the benchmark itself.
    parser.add_argument("--client", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--first-chat", type=int, default=FIRST_CHAT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(
            drive(
                args.client,
                sender=(args.sender or ["asyncio"])[0],
                seconds=args.seconds,
                connections=args.connections,
                first_chat=args.first_chat,
            )
        )
        return
    if args.seconds <= 0 or args.connections < 1 or (args.clients is not None and args.clients < 1):
        parser.error("--seconds, --connections and --clients must be above 0")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"CPUs: {os.cpu_count()}; load average before: {load}", flush=True)
    rows: list[Row] = []
    for sender in args.sender or list(SENDERS):
        for server in args.only or ["async", "threaded"]:
            processes = min(args.clients or SENDERS[sender], args.connections)
            print(
                f"{server} server, {sender} client: {processes} process(es), "
                f"{args.connections} connections, {args.seconds:g} s ...",
                flush=True,
            )
            rows.append(measure(server, sender, args))
    print_table(rows)


if __name__ == "__main__":
    main()
