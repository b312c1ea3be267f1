"""Who a Slack user ID is, from `users.info` (cached for an hour), and who is in a
channel, from `conversations.members`: `bot.people.PeopleDirectory` over the Web API.

The factory makes one per app and hands it to every handler as `services.people`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.people import PeopleUnavailable, Person
from handlers.text import slack_error_text


# What a lookup on the acknowledgement path may cost at most: Slack wants the ack in
# 3 s, and a complaint must be saved (and acked) even when Slack is slow or down.
QUICK_TIMEOUT_SECONDS = 1.0


class UserDirectory:
    def __init__(self, client: WebClient, *, ttl_seconds: int = 3600) -> None:
        self._client = client
        self._quick_client = WebClient(
            token=client.token, base_url=client.base_url, timeout=QUICK_TIMEOUT_SECONDS, retry_handlers=[]
        )
        self._cache: TTLCache[str, Person | None] = TTLCache(maxsize=10_000, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def lookup(self, user_id: str, *, quick: bool = False) -> Person | None:
        """The user, or None if Slack does not know the ID; PeopleUnavailable on other errors.

        `quick` gives Slack at most QUICK_TIMEOUT_SECONDS and no retries.
        """
        with self._lock:
            if user_id in self._cache:
                return self._cache[user_id]
        try:
            client = self._quick_client if quick else self._client
            data = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise PeopleUnavailable(slack_error_text(exc)) from exc
            user = None
        except (SlackClientError, OSError) as exc:
            raise PeopleUnavailable(slack_error_text(exc)) from exc
        else:
            profile = data.get("profile") or {}
            user = Person(
                id=data["id"],
                name=profile.get("display_name") or data.get("real_name") or data.get("name") or data["id"],
                is_bot=bool(data.get("is_bot")) or data["id"] == "USLACKBOT",
                deleted=bool(data.get("deleted")),
            )
        with self._lock:
            self._cache[user_id] = user
        return user

    def display_name(self, user_id: str) -> str:
        try:
            user = self.lookup(user_id)
        except PeopleUnavailable:
            return user_id
        return user.name if user else user_id

    def people(self, user_ids: Iterable[str]) -> list[str]:
        kept = []
        for user_id in user_ids:
            try:
                user = self.lookup(user_id)
            except PeopleUnavailable:
                kept.append(user_id)
                continue
            if user is not None and user.can_own_work:
                kept.append(user_id)
        return kept

    def members(self, channel: str) -> list[str]:
        """Every member of a channel, following `conversations.members` pages."""
        members: list[str] = []
        cursor = None
        try:
            while True:
                page = self._client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                members += page.get("members") or []
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return members
        except (SlackClientError, OSError) as exc:
            raise PeopleUnavailable(slack_error_text(exc)) from exc
