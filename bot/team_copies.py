"""Who posts the team's copy of a complaint, and when it is tried again.

The process that logged a complaint posts its copy at once, after the acknowledgement;
for FIRST_TRY that post is its own, with nothing written before it. A copy that is
not posted by then (the first try failed, was left for later by the channel's pace,
or its process died) is claimed by whichever process's retry job comes first: one
UPDATE … RETURNING sets a lease (`copy_lease_until`) on a batch of due rows, skipping
rows another process has locked on PostgreSQL (FOR UPDATE SKIP LOCKED) and serialised
by SQLite's write lock, so two processes never take the same copy and each takes its
own share. A lease runs out if its process dies, and the copy is due again.

Never twice: a copy may already be in the channel when a try's outcome is unknown (a
crash or a timeout between Slack accepting the post and the bot saving where it went).
`copy_tries` counts the claimed tries and `copy_refusals` the tries Slack surely
refused; whenever some try's outcome is unknown, the channel is searched for the copy
before it is posted again (handlers/team_copy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select

from models.complaints import Complaint
from models.db import SessionFactory, unit_of_work

# How long the first try belongs to the process that logged it: longer than a post can
# take (a 10 s timeout tried twice, two short Retry-After waits, the channel's pace).
FIRST_TRY = timedelta(seconds=45)
# How often each process's retry job looks for copies due.
RETRY_TICK_SECONDS = 10
RETRY_FOR = timedelta(days=7)
# Thread replies are tried again at this pace (bot/thread_replies.py).
RETRY_EVERY = timedelta(minutes=10)
# After a try that failed: 15 s, then twice as long each time, at most 5 minutes.
FIRST_BACKOFF = timedelta(seconds=15)
LONGEST_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class ClaimedCopy:
    complaint: Complaint
    # Some earlier try's outcome is unknown: look in the channel before posting.
    may_be_posted: bool


def backoff(failures: int) -> timedelta:
    return min(FIRST_BACKOFF * 2 ** max(failures - 1, 0), LONGEST_BACKOFF)


def _due(now: datetime):
    return and_(
        Complaint.slack_ts == "",
        col(Complaint.created_at) > now - RETRY_FOR,
        or_(
            and_(col(Complaint.copy_lease_until).is_(None), col(Complaint.created_at) <= now - FIRST_TRY),
            col(Complaint.copy_lease_until) <= now,
        ),
    )


def claim_due(open_session: SessionFactory, *, now: datetime, limit: int, lease: timedelta) -> list[ClaimedCopy]:
    """Claim up to `limit` copies due another try, oldest first, for `lease`."""
    due = (select(Complaint.id).where(_due(now)).order_by(col(Complaint.created_at)).limit(limit)
           .with_for_update(skip_locked=True))
    statement = (
        update(Complaint).where(col(Complaint.id).in_(due.scalar_subquery()))
        .values(copy_lease_until=now + lease, copy_tries=Complaint.copy_tries + 1)
        .returning(Complaint)
    )
    with unit_of_work(open_session) as session:
        claimed = list(session.execute(statement, execution_options={"populate_existing": True}).scalars())
        session.expunge_all()
    claimed.sort(key=lambda complaint: (complaint.created_at, complaint.id))
    # Tries begun: the first (the logging process's) and the claimed ones, this one aside.
    return [ClaimedCopy(complaint, may_be_posted=complaint.copy_tries > complaint.copy_refusals) for complaint in claimed]


def try_later(open_session: SessionFactory, *, complaint_id: int, at: datetime, refused: bool) -> None:
    """The try did not post the copy: due again `at`. `refused`: Slack surely did not post
    it (it answered with an error, or no connection was made); else the outcome is unknown."""
    values: dict = {"copy_lease_until": at}
    if refused:
        values["copy_refusals"] = Complaint.copy_refusals + 1
    with unit_of_work(open_session) as session:
        session.execute(update(Complaint).where(col(Complaint.id) == complaint_id, Complaint.slack_ts == "")
                        .values(**values))


def waiting_count(open_session: SessionFactory, *, now: datetime) -> int:
    """How many complaints logged in the last RETRY_FOR have no team copy yet (through the
    index on `created_at`, so it costs a week of complaints at most)."""
    with open_session() as session:
        return session.exec(
            select(func.count()).select_from(Complaint)
            .where(Complaint.slack_ts == "", col(Complaint.created_at) > now - RETRY_FOR)
        ).one()
