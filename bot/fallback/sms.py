"""Sending one SMS through a provider with Twilio's API, and what its answer means.

`POST {SMS_API_URL}/2010-04-01/Accounts/{SID}/Messages.json` with the form fields To,
From and Body, HTTP basic auth (account SID, auth token). 201 with the message's `sid`
is accepted; errors are JSON with `code` and `message`. 429 and 5xx pass; a number the
provider will not text (400 with codes such as 21211 "invalid To", 21610 "unsubscribed")
is permanent for that person; 401 means our credentials are wrong, which no retry mends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from bot.settings import BotSettings

TIMEOUT_SECONDS = 20.0


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later: the provider is busy or unreachable
    REFUSED = "refused"  # this message to this number will never go: mark it failed


@dataclass(frozen=True)
class SmsResult:
    outcome: Outcome
    detail: str  # the provider's message id, or why not; never a credential
    retry_after: float | None = None


def messages_url(base_url: str, account_sid: str) -> str:
    return f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"


def _error(response: httpx.Response) -> str:
    try:
        payload = response.json()
        return f"{response.status_code} code {payload.get('code')}: {payload.get('message')}"[:300]
    except ValueError:
        return f"{response.status_code}: {response.text[:200]}"


class SmsClient:
    """One HTTP client for the provider, opened with the bot and closed with it."""

    def __init__(self, settings: BotSettings) -> None:
        assert settings.sms_account_sid and settings.sms_auth_token and settings.sms_from
        self._url = messages_url(settings.sms_api_url, settings.sms_account_sid)
        self._from = settings.sms_from
        self._http = httpx.AsyncClient(
            auth=(settings.sms_account_sid, settings.sms_auth_token.get_secret_value()),
            timeout=TIMEOUT_SECONDS,
        )

    async def send(self, *, to: str, body: str) -> SmsResult:
        try:
            response = await self._http.post(
                self._url, data={"To": to, "From": self._from, "Body": body}
            )
        except httpx.HTTPError as error:
            return SmsResult(Outcome.RETRY, f"{type(error).__name__}: {error}"[:300])
        if response.status_code in (200, 201):
            try:
                sid = str(response.json().get("sid") or "")
            except ValueError:
                sid = ""
            return SmsResult(Outcome.SENT, sid)
        detail = _error(response)
        if response.status_code == 429:
            after = response.headers.get("Retry-After", "")
            return SmsResult(
                Outcome.RETRY, detail, retry_after=float(after) if after.isdigit() else None
            )
        if response.status_code >= 500:
            return SmsResult(Outcome.RETRY, detail)
        return SmsResult(Outcome.REFUSED, detail)

    async def aclose(self) -> None:
        await self._http.aclose()
