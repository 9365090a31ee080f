"""A fake SMS provider with Twilio's API shape, served on 127.0.0.1 for tests and drills.

It is strict where Twilio is: `POST /2010-04-01/Accounts/{sid}/Messages.json` only, HTTP
basic auth with the account SID and auth token, form fields To, From and Body, To in
E.164, From the account's number, Body at most 1600 characters. Errors are answered as
Twilio answers them: JSON with `code`, `message`, `more_info` and `status` (400, 401,
404, 429). Accepted messages are kept in `sent`. `answer()` plays the provider's other
half: a person's reply posted to the bot's inbound URL, signed with the auth token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import httpx

from bot.fallback.inbound import twilio_signature
from bot.fallback.texts import segments
from bot.sim.loopback import serving

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 8 + "0123456789abcdef" + "e" * 8  # 32 hex, like Twilio's
FROM_NUMBER = "+15005550006"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_BODY = 1600


@dataclass(frozen=True)
class Sms:
    sid: str
    to: str
    sender: str
    body: str
    segments: int


@dataclass
class _Fault:
    status: int
    code: int
    message: str
    count: int
    to: str | None = None


@dataclass
class FakeSmsProvider:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    from_number: str = FROM_NUMBER
    base_url: str = ""
    sent: list[Sms] = field(default_factory=list)
    refused: list[tuple[int, int]] = field(default_factory=list)  # (status, code) answered
    _faults: list[_Fault] = field(default_factory=list)
    _down_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Cleared by `hold()`: requests wait at the door until `release()` (or 30 s).
    _open: threading.Event = field(default_factory=threading.Event)
    arrived: int = 0  # requests that reached the provider, held or not

    def __post_init__(self) -> None:
        self._open.set()

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until `release()`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    # -- arranging -----------------------------------------------------------------------
    def fail_next(
        self, *, status: int, code: int, message: str, count: int = 1, to: str | None = None
    ) -> None:
        """Answer the next `count` messages (to `to`, if given) with this Twilio error."""
        with self._lock:
            self._faults.append(_Fault(status, code, message, count, to))

    def down_for(self, seconds: float) -> None:
        """Answer every message with 503 for `seconds`."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def messages_to(self, number: str) -> list[Sms]:
        with self._lock:
            return [m for m in self.sent if m.to == number]

    async def await_for(
        self, predicate: Callable[[FakeSmsProvider], bool], seconds: float = 30
    ) -> None:

        deadline = time.monotonic() + seconds
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"SMS condition not met within {seconds:.0f} s: {self.sent}")
            await asyncio.sleep(0.01)

    # -- the person's reply --------------------------------------------------------------
    async def answer(
        self, url: str, *, sender: str, body: str, signed: bool = True, token: str | None = None
    ) -> httpx.Response:
        """Post an incoming SMS to the bot as the provider does, signed unless `signed`
        is false (or signed with another `token`)."""
        form = {
            "From": sender,
            "Body": body,
            "To": self.from_number,
            "AccountSid": self.account_sid,
        }
        headers = {}
        if signed:
            params = {name: [value] for name, value in form.items()}
            headers["X-Twilio-Signature"] = twilio_signature(token or self.auth_token, url, params)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(url, data=form, headers=headers)

    # -- serving ------------------------------------------------------------------------
    def _error(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        self.refused.append((status, code))
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def handle(
        self, path: str, authorization: str, content_type: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
                return self._error(404, 20404, f"The requested resource {path} was not found")
            expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if authorization != f"Basic {expected}":
                return self._error(401, 20003, "Authenticate")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                return self._error(400, 20001, "Content-Type must be form-urlencoded")
            form = {
                k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()
            }
            to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
            if not to:
                return self._error(400, 21604, "A 'To' phone number is required.")
            if not sender:
                return self._error(400, 21603, "A 'From' phone number is required.")
            if not body:
                return self._error(400, 21602, "Message body is required.")
            if not _E164.match(to):
                return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            if sender != self.from_number:
                return self._error(
                    400, 21212, f"The 'From' number {sender} is not a valid phone number."
                )
            if len(body) > MAX_BODY:
                return self._error(
                    400, 21617, "The concatenated message body exceeds the 1600 character limit."
                )
            if time.monotonic() < self._down_until:
                return self._error(503, 20500, "Service Unavailable")
            for fault in self._faults:
                if fault.to in (None, to):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return self._error(fault.status, fault.code, fault.message)
            sid = "SM" + secrets.token_hex(16)
            self.sent.append(Sms(sid=sid, to=to, sender=sender, body=body, segments=segments(body)))
            return 201, {
                "sid": sid,
                "status": "queued",
                "to": to,
                "from": sender,
                "body": body,
                "num_segments": str(segments(body)),
            }


@contextmanager
def sms_provider() -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with provider._lock:
                provider.arrived += 1
            provider._open.wait(timeout=30)
            status, payload = provider.handle(
                self.path,
                self.headers.get("Authorization", ""),
                self.headers.get("Content-Type", ""),
                raw,
            )
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as base_url:
        provider.base_url = base_url
        try:
            yield provider
        finally:
            provider.release()
