"""Curfews: leads set and end them or confirm those read out of alerts; staff see them in
local time and UTC and are reminded before each start.

- `parsing`: what a lead typed (`/curfew_set ...`);
- `texts`: curfews in words, and the buttons under them;
- `rules`: drafts, proposals, decisions, ending, and the messages due now (no Telegram);
- `jobs`: the scheduler's jobs, planned again from the database;
- `handlers`: the commands and buttons.
"""
