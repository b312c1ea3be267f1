"""The messages in Slack still to be redacted after an erasure or a retention run.

Redacting a customer (bot/privacy.py) changes the database, but Slack keeps showing
their name in the complaint's team message, in the thread replies that named them and
in the new owners' DMs (which say how to reach the customer) until each is updated. So the redaction's own transaction records every such message
here (`record`), and the row goes only once Slack has taken the redacted text: the
erasure or retention run tries them at once, and whatever Slack could not take (it was
down, or refused) is tried again by each process's scheduler, claimed with a lease so
one process does each, waiting FIRST_RETRY and then twice as long each time, up to
LONGEST_WAIT, for as long as it takes. `servicedesk privacy log` lists what is pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, tuple_, update
from sqlmodel import Session, col, select

from models.db import SessionFactory, unit_of_work
from models.privacy import PendingRedaction, SlackMessage

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
# How long a claimed redaction is this process's before another may take it over.
LEASE = timedelta(minutes=2)
BATCH = 50
TEAM_MESSAGE = 0  # `event_id` of the team message itself


@dataclass(frozen=True)
class Redaction:
    complaint_id: int
    event_id: int  # TEAM_MESSAGE, or the history entry whose thread reply or owner's DM it is
    message: SlackMessage = SlackMessage.TEAM
    tries: int = 0
    error: str = ""
    due_at: datetime | None = None

    @property
    def what(self) -> str:
        reference = f"C-{self.complaint_id}"
        return {SlackMessage.TEAM: f"{reference}'s team message", SlackMessage.REPLY: f"a reply in {reference}'s thread",
                SlackMessage.OWNER_DM: f"the new owner's DM about {reference}"}[self.message]


def _redaction(row: PendingRedaction) -> Redaction:
    return Redaction(row.complaint_id, row.event_id, SlackMessage(row.message), row.tries, row.error, row.due_at)


def record(session: Session, *, messages: Iterable[tuple[int, int, SlackMessage]], now: datetime) -> None:
    """In the redaction's transaction: these (complaint id, event id, which message)
    messages are to be shown again; one already pending is due again now."""
    for complaint_id, event_id, message in set(messages):
        row = session.get(PendingRedaction, (complaint_id, event_id))
        if row is None:
            session.add(PendingRedaction(complaint_id=complaint_id, event_id=event_id, message=message.value,
                                         created_at=now, due_at=now))
        else:
            row.due_at = now
            session.add(row)
    session.flush()


def claim_due(open_session: SessionFactory, *, now: datetime, complaint_ids: list[int] | None = None,
              limit: int = BATCH) -> list[Redaction]:
    """Claim up to `limit` redactions due now (of these complaints only, if given), oldest
    first, for LEASE: another process skips them meanwhile."""
    due = select(PendingRedaction.complaint_id, PendingRedaction.event_id).where(col(PendingRedaction.due_at) <= now)
    if complaint_ids is not None:
        due = due.where(col(PendingRedaction.complaint_id).in_(complaint_ids))
    due = due.order_by(col(PendingRedaction.due_at)).limit(limit).with_for_update(skip_locked=True)
    statement = (
        update(PendingRedaction)
        .where(tuple_(PendingRedaction.complaint_id, PendingRedaction.event_id).in_(due))
        .values(due_at=now + LEASE, tries=PendingRedaction.tries + 1)
        .returning(PendingRedaction)
    )
    with unit_of_work(open_session) as session:
        claimed = [_redaction(row) for row in
                   session.execute(statement, execution_options={"populate_existing": True}).scalars()]
    return sorted(claimed, key=lambda r: (r.complaint_id, r.event_id))


def done(open_session: SessionFactory, *, redaction: Redaction) -> None:
    """Slack shows it redacted (or the message is gone): nothing more to do."""
    with unit_of_work(open_session) as session:
        session.exec(delete(PendingRedaction).where(_is(redaction)))


def try_later(open_session: SessionFactory, *, redaction: Redaction, now: datetime, error: str) -> None:
    """The try failed (`error`, in words): due again after a wait that doubles with each try."""
    wait = min(FIRST_RETRY * 2 ** max(redaction.tries - 1, 0), LONGEST_WAIT)
    with unit_of_work(open_session) as session:
        session.exec(update(PendingRedaction).where(_is(redaction)).values(due_at=now + wait, error=error[:255]))


def pending(session: Session, *, complaint_ids: list[int] | None = None) -> list[Redaction]:
    statement = select(PendingRedaction).order_by(col(PendingRedaction.complaint_id), col(PendingRedaction.event_id))
    if complaint_ids is not None:
        statement = statement.where(col(PendingRedaction.complaint_id).in_(complaint_ids))
    return [_redaction(row) for row in session.exec(statement)]


def _is(redaction: Redaction):
    return (PendingRedaction.complaint_id == redaction.complaint_id) & (PendingRedaction.event_id == redaction.event_id)
