"""Feed bodies for the tests: the builders shared with the replay, and test-only samples.

The builders (State Department, embassy and GOV.UK feeds shaped like the real ones and
their quirks) live in `bot.sim.feed_samples`; here are the fixed instants and the bodies
only the tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sim.feed_samples import (
    STATE_PAGE,
    EmbassyItem,
    StateItem,
    embassy_feed,
    fcdo_atom,
    fcdo_json,
    state_feed,
)

__all__ = [
    "EMPTY_RSS",
    "FETCHED_AT",
    "HTML_PAGE",
    "KAZAKHSTAN_ALERT",
    "STATE_PAGE",
    "STATE_URL",
    "EmbassyItem",
    "StateItem",
    "embassy_feed",
    "fcdo_atom",
    "fcdo_json",
    "state_feed",
]

FETCHED_AT = datetime(2025, 10, 8, 12, 0, tzinfo=UTC)
STATE_URL = "https://travel.state.gov/_res/rss/TAsTWs.xml"
KAZAKHSTAN_ALERT = (
    "<p><strong>Location:</strong> Almaty&nbsp;and Mangystau region, Kazakhstan</p>"
    "<p><strong>Event:</strong> Protests continue across Kazakhstan. The government has "
    "declared a state of emergency with a curfew from 11:00&nbsp;p.m. to 7:00 a.m. in "
    "Almaty. Internet access is disrupted.</p>"
    "<p><strong>Actions to Take:</strong></p>"
    "<ul><li>Avoid demonstrations.</li><li>Comply with the curfew.</li>"
    "<li>Monitor local media for updates.</li></ul>"
    "<p><strong>Assistance:</strong></p>"
    "<p>U.S. Embassy Astana<br>+7 (7172) 70-21-00<br>ACSAstana@state.gov</p>"
)


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Access Denied</title></head>"
    b"<body><h1>Access Denied</h1><p>You don't have permission.</p></body></html>"
)
EMPTY_RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Alerts</title>'
    b"<link>https://kz.usembassy.gov/</link><description>none</description></channel></rss>"
)
