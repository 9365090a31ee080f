"""Curfew extraction: find curfew windows in the prose of alerts and advisories.

Alerts write curfews every which way, and rarely in one sentence: "The entire country
is under a state of emergency which includes a 2300-0700 local time (1700-0100 UTC)
curfew ... until at least 19 January". The parts:
- `clock`: clock times in prose, each marked local, UTC or another place's time;
- `dates`: end dates and days of the week;
- `places`: places named in the text, through the GeoNames gazetteer;
- `reading`: the whole alert read into curfew windows and lifts;
- `report`: the windows placed in a zone, with UTC times and the check of any stated
  UTC times against the tz database, as plain data for the CLI.

Measured against a corpus of real official texts: tests/schedules/curfew_corpus/.
"""

from schedules.curfew_text.dates import UNTIL_YEARS
from schedules.curfew_text.reading import (
    MAX_AREA,
    FoundCurfew,
    Lift,
    Reading,
    find_curfews,
    read_alert,
)
from schedules.curfew_text.report import parse_report, placements, utc_check

__all__ = [
    "MAX_AREA",
    "UNTIL_YEARS",
    "FoundCurfew",
    "Lift",
    "Reading",
    "find_curfews",
    "parse_report",
    "placements",
    "read_alert",
    "utc_check",
]
