"""The pretend workspace the console plays in: its people and its channels."""

from __future__ import annotations

from dataclasses import dataclass

GENERAL, COMPLAINTS, KUDOS = "C0GENERAL", "C0COMPLAINTS", "C0KUDOS"
CHANNEL_NAMES = {GENERAL: "general", COMPLAINTS: "complaints", KUDOS: "kudos"}


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    role: str


PEOPLE = {
    person.name: person
    for person in (
        Person("U0ALICE", "alice", "staff"),
        Person("U0BOB", "bob", "staff"),
        Person("U0CAROL", "carol", "staff"),
        Person("U0MONA", "mona", "manager"),
        Person("U0ADAM", "adam", "admin"),
    )
}
NAMES_BY_ID = {person.user_id: person.name for person in PEOPLE.values()}
