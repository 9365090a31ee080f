"""The Bot API errors the simulated Telegram answers with."""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """Raised inside method handlers; turned into a Bot API error response."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def bad_request(description: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {description}")
