"""`dutybot demo`: a replay of Kazakhstan, January 2022, against simulated Telegram and feeds.

``script`` is the story and the command; ``replay`` runs the real bot on a scripted
clock; ``people`` and ``news`` are who is in it and what the feeds publish;
``transcript`` turns what the simulated Telegram received into the text printed.
"""
