"""`/complaint follow C-42` and `unfollow C-42`, and telling followers when a complaint
they follow is resolved or reopened (a DM each, after the acknowledgement).

Nobody is told of their own action, and the owner hears of a resolution by someone else
from handlers/team_copy.py already, so not twice.
"""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot import complaint_followers
from bot.complaint_changes import Applied, Verb
from bot.services import Services
from handlers import complaint_news_views as views
from handlers.team_copy import direct_message
from models.db import unit_of_work

# The subcommands this module answers.
SUBCOMMANDS = ("follow", "unfollow")


def answer(services: Services, subcommand: str, *, complaint_id: int, user_id: str) -> str:
    """Follow or unfollow, and say what is so now (following twice says so)."""
    reference = f"C-{complaint_id}"
    try:
        with unit_of_work(services.open_session) as session:
            if subcommand == "follow":
                return views.follow_answer(reference, now_following=complaint_followers.follow(
                    session, complaint_id=complaint_id, user_id=user_id, now=services.clock()))
            return views.unfollow_answer(reference, stopped=complaint_followers.unfollow(
                session, complaint_id=complaint_id, user_id=user_id))
    except IntegrityError:
        # The same follow arrived twice at once (a double click): the other one saved it.
        return views.follow_answer(reference, now_following=False)


def tell_followers(services: Services, client: WebClient, applied: Applied, actor_id: str) -> list[str]:
    """DM the followers of a complaint just resolved or reopened; what went wrong, in words."""
    complaint = applied.complaint
    if applied.verb is Verb.RESOLVE:
        notice, skipped = views.followed_resolved_notice(complaint, actor_id), {actor_id, complaint.owner_id}
    elif applied.verb is Verb.REOPEN:
        notice, skipped = views.followed_reopened_notice(complaint, actor_id), {actor_id}
    else:
        return []
    with services.open_session() as session:
        followers = complaint_followers.followers(session, complaint_id=complaint.id)
    problems = []
    for user_id in followers:
        if user_id not in skipped:
            problems += direct_message(client, user_id, notice, f"<@{user_id}>, who follows it")
    return problems
