"""Answers by SMS: the provider posts each incoming SMS to POST /sms/inbound (form
fields From and Body), signed as Twilio signs: X-Twilio-Signature is the base64
HMAC-SHA1, keyed with SMS_AUTH_TOKEN, of the full URL followed by every form field's
name and value, sorted by name. Unsigned or wrongly signed requests get 403 and change
nothing.

From a known mobile number, "SAFE" or "HELP" (Russian and French too, with or without
the roll call's short code "RC12") answers the person's open roll calls as /safe and
/help_me do; anything else is passed to their leads as a message in their call for
help. The person is told by SMS, in the provider's answer (TwiML), that it arrived. An
unknown number gets nothing, not even an answer that would confirm the bot.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

import tornado.web
from sqlalchemy.engine import Engine

from bot import contacts
from bot.incidents.rules import Incoming, relay_from_person
from bot.render import plural, utc_stamp
from bot.rollcall.rules import check_in
from db import fallback as db
from db.checkins import Answer
from db.engine import session_scope
from db.incidents import Part
from db.refusal import Refusal

log = logging.getLogger(__name__)

PATH = "/sms/inbound"
MAX_BODY = 1600  # ten segments: what a provider passes on at most
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

_SAFE = {
    "safe",
    "ok",
    "okay",
    "i am safe",
    "im safe",
    "ок",
    "окей",
    "в безопасности",
    "я в безопасности",
    "безопасно",
    "все хорошо",
    "всё хорошо",
    "sauf",
    "sain et sauf",
    "saine et sauve",
    "en securite",
    "en sécurité",
    "je suis en securite",
    "je suis en sécurité",
}
_HELP = {
    "help",
    "help me",
    "sos",
    "помогите",
    "помощь",
    "нужна помощь",
    "aide",
    "a l'aide",
    "à l'aide",
    "aidez moi",
    "aidez-moi",
    "au secours",
}
_CODE = re.compile(r"(?:^|\s)(?:rc|#)\s?\d{1,9}(?=\s|$)|(?:^|\s)\d{1,9}(?=\s|$)")


def twilio_signature(token: str, url: str, params: Mapping[str, Sequence[str]]) -> str:
    payload = url + "".join(name + value for name in sorted(params) for value in params[name])
    digest = hmac.new(token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def read_answer(body: str) -> Answer | None:
    """SAFE or HELP in the words people text, with or without the short code; None for
    anything else."""
    words = body.casefold().replace("’", "'")
    words = _CODE.sub(" ", f" {words} ")
    words = re.sub(r"[!.,;:?\"()]+", " ", words)
    words = " ".join(words.split())
    if words in _SAFE:
        return Answer.SAFE
    if words in _HELP:
        return Answer.HELP
    return None


@dataclass(frozen=True)
class Handled:
    known: bool
    rounds: list[int]
    reply: str | None = None  # what the person is told by SMS, in the provider's answer


def twiml(reply: str | None) -> str:
    """The provider's answer: empty, or one SMS back to the sender."""
    if reply is None:
        return EMPTY_TWIML
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f"<Message>{xml_escape(reply)}</Message></Response>"
    )


def answer_reply(answer: Answer, *, at: datetime, rounds: list[tuple[int, str]], leads: int) -> str:
    """What a person who answered by SMS is told, so they know it arrived."""
    codes = ", ".join(f"RC{round_id}" for round_id, _ in rounds)
    answered = f" Roll call {codes} answered." if codes else ""
    if answer is Answer.SAFE:
        return f"Dutybot: recorded, you are safe ({utc_stamp(at)}).{answered}"
    if leads:
        return (
            f"Dutybot: recorded, you need help ({utc_stamp(at)}).{answered} "
            f"{plural(leads, 'security lead', 'security leads')} alerted. Text us what happened."
        )
    return (
        f"Dutybot: recorded ({utc_stamp(at)}), but no security lead could be alerted. "
        "Call your local emergency number or your organisation's emergency line now."
    )


class SmsInbound:
    """What an incoming SMS does, given the bot's engine, clock and a way to refresh the
    live rolls of the rounds it answered."""

    def __init__(
        self,
        *,
        engine: Engine,
        token: str,
        url: str | None,
        clock: Callable[[], datetime],
        after: Callable[[list[int]], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self.token = token
        self.url = url
        self.clock = clock
        self.after = after

    def signed(self, *, url: str, params: Mapping[str, Sequence[str]], signature: str) -> bool:
        expected = twilio_signature(self.token, self.url or url, params)
        return bool(signature) and hmac.compare_digest(expected, signature)

    def _handle(self, sender: str, body: str) -> Handled:
        try:
            mobile = contacts.parse_mobile(sender)
        except Refusal:
            return Handled(known=False, rounds=[])
        body = body.strip()[:MAX_BODY]
        now = self.clock()
        with session_scope(self.engine) as session:
            person = db.by_mobile(session, mobile=mobile)
            if person is None:
                return Handled(known=False, rounds=[])
            answer = read_answer(body)
            if answer is not None:
                outcome = check_in(
                    session,
                    person=person,
                    answer=answer,
                    note=None,
                    location=None,
                    now=now,
                    by_sms=True,
                )
                log.info(
                    "SMS answer %s from staff %d",
                    answer.value,
                    person.id,
                    extra={"staff_id": person.id},
                )
                return Handled(
                    known=True,
                    rounds=[r for r, _ in outcome.rounds],
                    reply=answer_reply(
                        answer, at=now, rounds=outcome.rounds, leads=outcome.leads_told
                    ),
                )
            if body:
                told = relay_from_person(
                    session,
                    person=person,
                    incoming=Incoming(
                        kind=Part.TEXT,
                        text=f"(by SMS) {body}",
                        chat_id=person.chat_id,
                        message_id=0,
                    ),
                    now=now,
                )
                log.info("SMS from staff %d passed to their leads", person.id)
                return Handled(
                    known=True,
                    rounds=[],
                    reply="Dutybot: passed to your security team."
                    if told
                    else "Dutybot: no security lead could be reached. Call your local "
                    "emergency number or your organisation's emergency line now.",
                )
            return Handled(known=True, rounds=[])

    async def handle(self, sender: str, body: str) -> Handled:
        handled = await asyncio.to_thread(self._handle, sender, body)
        if not handled.known:
            log.info("SMS from a number nobody gave ignored")
        await self.after(handled.rounds)
        return handled


class InboundSmsHandler(tornado.web.RequestHandler):
    def initialize(self, inbound: SmsInbound) -> None:
        self.inbound = inbound

    async def post(self) -> None:
        params = {
            name: [value.decode("utf-8", "replace") for value in values]
            for name, values in self.request.body_arguments.items()
        }
        signature = self.request.headers.get("X-Twilio-Signature", "")
        if not self.inbound.signed(url=self.request.full_url(), params=params, signature=signature):
            log.warning("POST %s refused: missing or wrong signature", PATH)
            self.set_status(403)
            self.finish("forbidden")
            return
        sender = (params.get("From") or [""])[0]
        body = (params.get("Body") or [""])[0]
        handled = await self.inbound.handle(sender, body)
        self.set_header("Content-Type", "text/xml")
        self.finish(twiml(handled.reply))
