"""Small simulators of the outside world, on 127.0.0.1: the Telegram Bot API and feeds.

They serve `make demo` (a replay with no token and no network), the benchmarks, the
fault drills and the test suite, which all drive the real bot against them.
"""
