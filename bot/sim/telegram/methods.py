"""The Bot API methods the simulated Telegram answers, besides sending and editing messages.

getMe, getUpdates and the webhook, the command menus, chat actions and callback answers;
sending and editing messages are in `bot.sim.telegram.messages`.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from bot.sim.telegram.errors import ApiError, bad_request
from bot.sim.telegram.params import bool_param, int_param, json_param
from bot.sim.telegram.state import BotApiState

# How long a getUpdates long poll may block before we answer [] anyway; short so that
# stop() is never held up by a client that asked for a 10 s (or longer) poll.
_MAX_LONG_POLL = 1.0


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True, separators=(",", ":"))


# A callback answer's pop-up or notification: 0-200 characters (Bot API).
MAX_CALLBACK_ANSWER = 200


class BotMethods(BotApiState):
    """Handlers: each takes the decoded parameters and returns the call's ``result``."""

    def _get_me(self, params: dict[str, Any]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_file(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        content = self._files.get(file_id)
        if content is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id.replace("BQACAgI", "AgAD", 1),
            "file_size": len(content),
            "file_path": f"documents/{file_id}",
        }

    def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(params, "offset", required=False) or 0
        limit = int_param(params, "limit", required=False) or 100
        limit = min(max(limit, 1), 100)
        timeout = float(params.get("timeout") or 0)
        self._confirm_updates(offset)
        if not self._updates and timeout > 0 and not self._stopping:
            self._cond.wait_for(
                lambda: bool(self._updates) or self._stopping,
                timeout=min(timeout, _MAX_LONG_POLL),
            )
            # Another poller may have confirmed updates while we waited.
            self._confirm_updates(offset)
        return [json.loads(json.dumps(u)) for u in self._updates[:limit]]

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            # Like Telegram: a negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]

    def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)  # an empty URL removes the webhook
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        allowed = json_param(params, "allowed_updates")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed if isinstance(allowed, list) else None,
        }
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None and self.webhook["allowed_updates"] is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.webhook is not None:
            info.update(self._webhook_error_fields())
        return info

    def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = json_param(params, "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        self.commands = commands
        self.commands_by_scope[_scope_key(json_param(params, "scope"))] = commands
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        key = _scope_key(json_param(params, "scope"))
        self.commands_by_scope.pop(key, None)
        if key == _scope_key(None):
            self.commands = []
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> Any:
        return self.commands_by_scope.get(_scope_key(json_param(params, "scope")), [])

    def _send_chat_action(self, params: dict[str, Any]) -> Any:
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            # Also what Telegram says when a query is answered twice.
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")  # and the query stays open, as on Telegram
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(params))
        return True
