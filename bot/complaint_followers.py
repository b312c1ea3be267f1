"""Following a complaint: being told when it is resolved or reopened.

The person who logged a complaint follows it from the start (bot/complaints.py); anyone
may follow or unfollow one. A merged duplicate is followed through the complaint it was
merged into: its followers move there with the merge.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.complaints import get_complaint
from bot.errors import InvalidInput
from models.complaints import Complaint, ComplaintFollower


def follow(session: Session, *, complaint_id: int, user_id: str, now: datetime) -> bool:
    """Follow it; False if `user_id` already did."""
    _refuse_merged(get_complaint(session, complaint_id), "follow")
    if session.get(ComplaintFollower, (complaint_id, user_id)) is not None:
        return False
    session.add(ComplaintFollower(complaint_id=complaint_id, user_id=user_id, since=now))
    return True


def unfollow(session: Session, *, complaint_id: int, user_id: str) -> bool:
    """Stop following it; False if `user_id` did not."""
    _refuse_merged(get_complaint(session, complaint_id), "unfollow")
    following = session.get(ComplaintFollower, (complaint_id, user_id))
    if following is None:
        return False
    session.delete(following)
    return True


def followers(session: Session, *, complaint_id: int) -> list[str]:
    """Who follows the complaint, the earliest first."""
    statement = (select(ComplaintFollower.user_id).where(ComplaintFollower.complaint_id == complaint_id)
                 .order_by(col(ComplaintFollower.since), col(ComplaintFollower.user_id)))
    return list(session.exec(statement))


def carry_over(session: Session, *, duplicate_id: int, kept_id: int, now: datetime) -> None:
    """Those who followed a merged duplicate follow the complaint it was merged into."""
    already = set(followers(session, complaint_id=kept_id))
    for user_id in followers(session, complaint_id=duplicate_id):
        if user_id not in already:
            session.add(ComplaintFollower(complaint_id=kept_id, user_id=user_id, since=now))


def _refuse_merged(complaint: Complaint, verb: str) -> None:
    if complaint.is_merged:
        raise InvalidInput(
            f"{complaint.reference} was merged into C-{complaint.merged_into_id}, and its followers follow "
            f"C-{complaint.merged_into_id} now: `/complaint {verb} C-{complaint.merged_into_id}`."
        )
