"""Safety roll calls and check-ins: `texts` (what is said), `parsing` (what leads and
buttons send), `rules` (what counts, without Telegram), `live` (the leads' live rolls),
`handlers` (commands, buttons, jobs and wiring)."""
