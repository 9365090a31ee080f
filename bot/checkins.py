"""Safety check-ins and roll calls (being built; see the roll-call feature)."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the check-in handlers and jobs to the application."""


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Plan the open rounds' reminder and deadline jobs from the database."""
