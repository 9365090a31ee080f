"""The failures the bot must survive in the field, arranged by tests on the simulated Telegram.

Flood control has its own module; here are one-off errors (``fail_next``), slow answers
(``slow``), outages of a given length, as 5xx or timeouts (``fail_for``), people who
blocked the bot (403) and chats that are gone (400), a token revoked in BotFather (401 to
every call) and a webhook Telegram could not deliver to (getWebhookInfo's last error).
Whether a chat can be reached is checked in ``BotApiState._check_reachable``, as every
message handler needs it.
"""

from __future__ import annotations

import time
from http import HTTPStatus

from bot.sim.telegram.errors import ApiError
from bot.sim.telegram.state import BotApiState, FailRule, Outage, SlowRule


class FaultInjection(BotApiState):
    """Arranging faults (public, for tests) and applying them to each call (for the server)."""

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (to ``chat_id``, if given) with an error.

        ``description`` is sent as is, so include Telegram's prefix ("Bad Request: ...").
        """
        with self._cond:
            self._fail_rules.append(
                FailRule(method, status, description, retry_after, count, chat_id)
            )

    def slow(self, method: str, seconds: float, *, count: int = 1, after: bool = False) -> None:
        """Delay the next ``count`` responses of ``method`` by ``seconds``.

        With ``after``, each call is acted on first and only its answer is held back, as
        when the answer is slow on its way back: the message is in the chat, and the
        bot does not know its id yet.
        """
        with self._cond:
            self._slow_rules.setdefault(method, []).append(SlowRule(seconds, count, after))

    def fail_for(
        self,
        method: str,
        seconds: float,
        *,
        status: int = HTTPStatus.BAD_GATEWAY,
        description: str = "Bad Gateway",
        delay: float = 0.0,
    ) -> None:
        """An outage: every call of ``method`` for the next ``seconds`` fails with ``status``.

        Each answer is held back ``delay`` seconds first; a delay longer than the client's
        read timeout makes the calls time out instead. Nothing is delivered meanwhile.
        """
        with self._cond:
            self._outages.append(
                Outage(method, time.monotonic() + seconds, int(status), description, delay)
            )

    def in_outage(self, method: str) -> bool:
        """Whether a ``fail_for`` window for ``method`` is still open."""
        with self._cond:
            now = time.monotonic()
            return any(o.method == method and o.until > now for o in self._outages)

    def block(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The person unblocked the bot (and typically writes to it again)."""
        with self._cond:
            self._blocked.discard(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        with self._cond:
            self._forgotten.add(chat_id)

    def revoke_token(self, token: str | None = None) -> None:
        """The token (the bot's, by default) was revoked in BotFather: from now on every
        call made with it is answered 401, as Telegram does, whatever the method."""
        with self._cond:
            self._revoked.add(token or self.TOKEN)

    def webhook_delivery_failed(self, message: str, *, at: float | None = None) -> None:
        """Telegram could not deliver an update to the webhook: getWebhookInfo reports
        ``message`` as its last error, at ``at`` (unix time; now by default)."""
        with self._cond:
            self._webhook_error = (int(time.time() if at is None else at), message)

    def _check_token(self, token: str) -> None:
        if token in self._revoked:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")

    def _apply_fail_rules(self, method: str, chat_id: int | None) -> None:
        for rule in self._fail_rules:
            if rule.method == method and rule.chat_id in (None, chat_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                raise ApiError(rule.status, rule.description, rule.retry_after)

    def _apply_outages(self, method: str) -> None:
        now = time.monotonic()
        self._outages = [o for o in self._outages if o.until > now]
        for outage in self._outages:
            if outage.method == method:
                self.outage_answers += 1
                if outage.delay > 0:
                    # Releases the lock meanwhile, like slow(); stop() cuts it short.
                    self._cond.wait_for(lambda: self._stopping, timeout=outage.delay)
                raise ApiError(outage.status, outage.description)

    def _take_slow_rule(self, method: str) -> SlowRule | None:
        """The slow rule a call of ``method`` is answered by, if any: each call takes one."""
        rules = self._slow_rules.get(method)
        if not rules:
            return None
        rule = rules[0]
        rule.remaining -= 1
        if rule.remaining <= 0:
            rules.pop(0)
        return rule

    def _wait_slow_rule(self, rule: SlowRule | None, *, after: bool) -> None:
        """Wait out ``rule`` if it holds the call back before acting on it (or, with
        ``after``, once it has been acted on)."""
        if rule is None or rule.after is not after:
            return
        # Waiting on the condition releases the lock, so other requests go on meanwhile,
        # and stop() cuts the delay short.
        self._cond.wait_for(lambda: self._stopping, timeout=rule.seconds)
