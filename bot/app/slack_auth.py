"""Who the bot is, for Bolt, without ever making a request wait on Slack.

Bolt's single-workspace authorization calls `auth.test` on the first request and
fails that request (HTTP 500, the complaint unsaved) when Slack cannot be reached. A
bot started during a Slack outage must still serve and save, so the token is known
from settings and `auth.test` (which tells the bot's own user and bot IDs, used to
ignore the bot's own events) is asked with a short timeout, remembered once it
answers, and asked again at most every RETRY_SECONDS while it doesn't.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 1.0
RETRY_SECONDS = 30.0


class BotAuthorization(Authorize):
    """Bolt's `authorize=` as an `Authorize` object, which Bolt calls with its fixed keyword
    arguments (a plain function would have them worked out by name on every request)."""

    def __init__(self, client: WebClient) -> None:
        super().__init__()
        self._client = WebClient(token=client.token, base_url=client.base_url, timeout=TIMEOUT_SECONDS, retry_handlers=[])
        self._known: dict | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None, user_id: str | None,
                 **actor: str | None) -> AuthorizeResult:
        return self.result(enterprise_id, team_id, user_id)

    def result(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        identity = self._identity()
        return AuthorizeResult(
            enterprise_id=enterprise_id or identity.get("enterprise_id"),
            team_id=team_id or identity.get("team_id"),
            bot_token=self._client.token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id") if identity.get("bot_id") else None,
            user_id=user_id,
        )

    def _identity(self) -> dict:
        if self._known is not None or time.monotonic() < self._next_try:
            return self._known or {}
        if not self._lock.acquire(blocking=False):
            return {}  # another request is asking; this one goes on without waiting
        try:
            self._known = dict(self._client.auth_test().data)
        except (SlackClientError, OSError) as exc:
            logger.warning("auth.test failed (%s); serving without the bot's own IDs for now", exc)
            self._next_try = time.monotonic() + RETRY_SECONDS
        finally:
            self._lock.release()
        return self._known or {}
