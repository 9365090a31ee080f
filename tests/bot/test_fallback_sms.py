"""The SMS client against the fake provider on 127.0.0.1, and the fake's strictness: it
answers as Twilio does (JSON with code and message; 400, 401, 404, 429), so that what
the bot makes of each answer is tested against the real shapes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from bot.fallback.sms import Outcome, SmsClient, messages_url
from bot.settings import BotSettings
from bot.sim.sms import FakeSmsProvider, sms_provider


@pytest.fixture
def sms() -> Iterator[FakeSmsProvider]:
    with sms_provider() as provider:
        yield provider


def _client(sms: FakeSmsProvider, *, token: str | None = None) -> SmsClient:
    return SmsClient(
        BotSettings(
            _env_file=None,
            telegram_bot_token="123456789:AAE" + "x" * 32,
            sms_api_url=sms.base_url,
            sms_account_sid=sms.account_sid,
            sms_auth_token=SecretStr(token or sms.auth_token),
            sms_from=sms.from_number,
        )
    )


async def test_the_client_sends_and_reads_each_kind_of_answer(sms: FakeSmsProvider) -> None:
    client = _client(sms)
    try:
        sent = await client.send(to="+77012345678", body="Dutybot: are you safe?")
        assert sent.outcome is Outcome.SENT and sent.detail.startswith("SM")
        assert [(m.to, m.sender, m.body) for m in sms.sent] == [
            ("+77012345678", sms.from_number, "Dutybot: are you safe?")
        ]
        sms.fail_next(status=429, code=20429, message="Too Many Requests")
        busy = await client.send(to="+77012345678", body="again")
        assert busy.outcome is Outcome.RETRY and "code 20429" in busy.detail
        sms.down_for(30)
        down = await client.send(to="+77012345678", body="again")
        assert down.outcome is Outcome.RETRY and down.detail.startswith("503")
        sms.down_for(0)
        bad = await client.send(to="+7 701 234", body="x")
        assert bad.outcome is Outcome.REFUSED and "code 21211" in bad.detail
    finally:
        await client.aclose()
    wrong = _client(sms, token="0" * 32)
    try:
        refused = await wrong.send(to="+77012345678", body="x")
        assert refused.outcome is Outcome.REFUSED and "401 code 20003" in refused.detail
        assert "0" * 32 not in refused.detail
    finally:
        await wrong.aclose()
    assert len(sms.sent) == 1


async def test_the_fake_provider_is_as_strict_as_twilio(sms: FakeSmsProvider) -> None:
    url = messages_url(sms.base_url, sms.account_sid)
    auth = (sms.account_sid, sms.auth_token)
    good = {"To": "+77012345678", "From": sms.from_number, "Body": "hi"}
    async with httpx.AsyncClient() as client:
        cases = [
            (await client.post(url, data=good), 401, 20003),
            (await client.post(url, data=good, auth=(sms.account_sid, "nope")), 401, 20003),
            (await client.post(url + "x", data=good, auth=auth), 404, 20404),
            (await client.post(url, data={**good, "To": ""}, auth=auth), 400, 21604),
            (await client.post(url, data={**good, "From": "+1999"}, auth=auth), 400, 21212),
            (await client.post(url, data={**good, "Body": ""}, auth=auth), 400, 21602),
            (await client.post(url, data={**good, "Body": "x" * 1601}, auth=auth), 400, 21617),
            (await client.post(url, json=good, auth=auth), 400, 20001),
        ]
        for response, status, code in cases:
            assert (response.status_code, response.json()["code"]) == (status, code)
            assert response.json()["message"]
        accepted = await client.post(url, data=good, auth=auth)
    assert accepted.status_code == 201 and accepted.json()["num_segments"] == "1"
    assert len(sms.sent) == 1
