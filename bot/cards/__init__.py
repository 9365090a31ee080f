"""Pinned country cards: for every country a person follows, one message pinned in their
chat with what to know there (advisory level, departure advisory, curfew tonight in local
time and UTC, the leads, emergency numbers and embassy contacts), edited in place when
any of it changes, so that the last known state stays readable in a blackout.

- `texts`: the card in words, and the contacts a lead types (`/card_set`);
- `rules`: which cards to bring up to date and when (no Telegram);
- `handlers`: `/card` and `/card_set`.

The outbox (db.cards, bot.dispatcher) sends, edits, pins and unpins the messages.
"""
