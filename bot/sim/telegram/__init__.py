"""A simulated Telegram Bot API server on 127.0.0.1; ``server.FakeTelegram`` is the fake.

Its parts: ``server`` (lifecycle, HTTP and routing), ``state`` (what it knows and the
records tests read), ``client`` (the users' side), ``messages`` and ``methods`` (the Bot
API methods), ``validation`` (what Telegram accepts in a message), ``flood`` (flood
control), ``faults`` (errors, outages, blocked users), ``params`` (request decoding),
``async_server`` (the asyncio front, for thousands of requests a second), ``stats``
(what it accepted, as JSON for a benchmark in another process) and ``__main__`` (the
simulator as a process of its own: ``python -m bot.sim.telegram``).
"""
