"""Who people are, as the domain sees them: a small interface that the Slack side
implements (handlers/users.py), so domain code can be given names and staff lists
without knowing about Slack."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class PeopleUnavailable(Exception):
    """The directory could not be asked (the chat service is down or refused)."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_bot: bool
    deleted: bool

    @property
    def can_own_work(self) -> bool:
        return not (self.is_bot or self.deleted)


class PeopleDirectory(Protocol):
    def lookup(self, user_id: str, *, quick: bool = False) -> Person | None:
        """The person, or None if there is no such ID; PeopleUnavailable if it can't be told
        (`quick`: within about a second, for a request someone is waiting on)."""

    def display_name(self, user_id: str) -> str:
        """The person's name, or the ID itself when it can't be told."""

    def people(self, user_ids: Iterable[str]) -> list[str]:
        """`user_ids` less bots and deactivated accounts; an ID that can't be checked is kept."""

    def members(self, channel: str) -> list[str]:
        """Every member of a channel; PeopleUnavailable if it can't be read."""


def first_name(directory: PeopleDirectory | None, user_id: str) -> str:
    """The first word of the person's name, for a customer to read; "" when it can't be told
    (never the ID, which means nothing outside Slack)."""
    if directory is None:
        return ""
    try:
        person = directory.lookup(user_id, quick=True)
    except PeopleUnavailable:
        return ""
    if person is None or person.name == person.id:
        return ""
    return person.name.split()[0][:40]
