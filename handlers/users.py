"""Who a Slack user ID is, from `users.info`, cached for an hour."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    is_bot: bool
    deleted: bool

    @property
    def can_own_work(self) -> bool:
        return not (self.is_bot or self.deleted)


class UserDirectory:
    def __init__(self, client: WebClient, *, ttl_seconds: int = 3600) -> None:
        self._client = client
        self._cache: TTLCache[str, SlackUser | None] = TTLCache(maxsize=10_000, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def lookup(self, user_id: str) -> SlackUser | None:
        """The user, or None if Slack does not know the ID. Other API errors propagate."""
        with self._lock:
            if user_id in self._cache:
                return self._cache[user_id]
        try:
            data = self._client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise
            user = None
        else:
            profile = data.get("profile") or {}
            user = SlackUser(
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
        except SlackApiError:
            return user_id
        return user.name if user else user_id

    def people(self, user_ids: Iterable[str]) -> list[str]:
        """`user_ids` less bots and deactivated accounts; an ID Slack can't check is kept."""
        kept = []
        for user_id in user_ids:
            try:
                user = self.lookup(user_id)
            except SlackApiError:
                kept.append(user_id)
                continue
            if user is not None and user.can_own_work:
                kept.append(user_id)
        return kept


_directories: weakref.WeakKeyDictionary[WebClient, UserDirectory] = weakref.WeakKeyDictionary()
_directories_lock = threading.Lock()


def shared_directory(client: WebClient) -> UserDirectory:
    """One cache per app's client, so every feature's listeners share their lookups."""
    with _directories_lock:
        if client not in _directories:
            _directories[client] = UserDirectory(client)
        return _directories[client]


def channel_members(client: WebClient, channel: str) -> list[str]:
    """Every member of a channel, following `conversations.members` pages."""
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(channel=channel, limit=1000, cursor=cursor)
        members += page.get("members") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members
