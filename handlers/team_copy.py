"""The team's copy of a complaint in COMPLAINTS_CHANNEL: posting it, updating it in place
(with the replies its thread is waiting for, handlers/complaint_thread.py), and telling
a new owner by DM. Each step returns what went wrong, in words, so the
listener can tell the person who made the change; none holds a session across a call.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot import complaints as service
from bot import team_copies
from bot.customer_history import EarlierComplaints, earlier_complaints
from bot.metrics import TEAM_COPY_POSTS
from bot.intake import REPORTER_PREFIX
from bot.services import Services
from bot.sla import SlaStatus, sla_status
from bot.undelivered_retry import surely_not_acted_on
from bot.survey_links import links_for
from handlers import complaint_thread
from handlers import complaint_views as views
from handlers import survey_views
from handlers.ids import Block
from handlers.owner_notice import tell_new_owner
from handlers.text import not_posted_text, slack_error_text
from models.complaints import Complaint

logger = logging.getLogger(__name__)


def sla_now(services: Services, complaint: Complaint) -> SlaStatus:
    settings = services.settings
    return sla_status(complaint, now=services.clock(), targets=settings.targets, due_soon=settings.due_soon)


def team_message_blocks(services: Services, complaint: Complaint) -> list[dict]:
    """The team's copy as it is now, with the customer's earlier complaints (read first;
    no session is held while the message goes to Slack; none is opened for a complaint
    with no customer, who has no earlier complaints)."""
    earlier = EarlierComplaints()
    if complaint.customer_key:
        with services.open_session() as session:
            earlier = earlier_complaints(session, complaint=complaint)
    return views.complaint_message(complaint, sla_now(services, complaint), earlier=earlier,
                                   survey_url=survey_url(services, complaint))


def survey_url(services: Services, complaint: Complaint) -> str:
    """The customer's survey link, issued at resolution (so it is the same each time it is
    drawn); "" while open or when the web side is off."""
    links = links_for(services.settings)
    if links is None or complaint.status != "resolved" or complaint.resolved_at is None:
        return ""
    return links.survey_url(complaint.id, issued_at=complaint.resolved_at)


def survey_line(services: Services, complaint: Complaint) -> str:
    """The survey link as a line for the person who resolved it (and its owner), or ""."""
    url = survey_url(services, complaint)
    return "\n" + survey_views.survey_link_line(url, days=services.settings.survey_days) if url else ""


def publish_new(services: Services, client: WebClient, complaint: Complaint) -> tuple[bool | None, list[str]]:
    """Post the team's copy of a complaint just logged and DM its owner if someone else
    logged it: whether the copy was posted (None: left for the retry job, the channel
    being at Slack's pace), and what went wrong, in words."""
    posted, problems = post_team_copy(services, client, complaint)
    if complaint.owner_id != complaint.reporter_id:
        problems += tell_new_owner(services, client, complaint)
    return posted, problems


def publish_change(
    services: Services, client: WebClient, complaint: Complaint, previous_owner_id: str, actor_id: str, *,
    resolved: bool = False,
) -> list[str]:
    """Update the team's copy after a change and DM a new owner (unless they made the change);
    `resolved`: the change resolved it."""
    if not complaint.slack_ts:
        # The team's copy may have been posted while this change was being made.
        with services.open_session() as session:
            complaint.slack_channel, complaint.slack_ts = service.message_location(session, complaint.id)
    problems = []
    if complaint.slack_ts:
        problems += update_team_message(services, client, complaint)
        complaint_thread.post_replies(services, client, complaint.id)
    if complaint.owner_id not in (previous_owner_id, actor_id):
        problems += tell_new_owner(services, client, complaint)
    # The owner hears when someone else takes their complaint away or closes it for them.
    if previous_owner_id not in (actor_id, complaint.owner_id):
        problems += direct_message(client, previous_owner_id, views.handed_over_notice(complaint, actor_id),
                                   "the previous owner")
    elif resolved and actor_id != complaint.owner_id:
        problems += direct_message(client, complaint.owner_id,
                                   views.resolved_for_you_notice(complaint, actor_id) + survey_line(services, complaint),
                                   "the owner")
    return problems


def direct_message(client: WebClient, user_id: str, text: str, who: str) -> list[str]:
    try:
        client.chat_postMessage(channel=user_id, text=text)
    except Exception as exc:  # noqa: BLE001
        return [not_posted_text(exc, who)]
    return []


# How long the first post of a copy may wait for the channel's pace before it is left
# to the retry job instead (which posts at the pace, from the database, not from memory).
FIRST_POST_MAX_WAIT = 2.0


def post_team_copy(services: Services, client: WebClient, complaint: Complaint, *,
                   max_wait: float | None = FIRST_POST_MAX_WAIT) -> tuple[bool | None, list[str]]:
    """Post the team's copy: whether it was (None: left for later by the channel's pace,
    never with `max_wait=None`), and what went wrong, in words."""
    channel = services.settings.complaints_channel
    if not channel:
        return False, []
    wait = services.pacer.reserve(channel, max_wait=max_wait)
    if wait is None:
        team_copies.try_later(services.open_session, complaint_id=complaint.id, refused=False,
                              at=services.clock() + timedelta(seconds=services.pacer.backlog(channel)))
        return None, []
    time.sleep(wait)
    blocks = team_message_blocks(services, complaint)
    try:
        posted = client.chat_postMessage(channel=channel, text=views.summary_text(complaint), blocks=blocks)
    except Exception as exc:  # noqa: BLE001 — any failure is reported, the complaint is kept
        TEAM_COPY_POSTS.labels("failed").inc()
        logger.warning("posting %s to %s failed: %s", complaint.reference, channel, exc)
        # The first try, and each claimed since (complaint.copy_tries), failed.
        refused = surely_not_acted_on(exc)
        team_copies.try_later(services.open_session, complaint_id=complaint.id, refused=refused,
                              at=services.clock() + team_copies.backoff(complaint.copy_tries + 1))
        problem = not_posted_text(exc, f"<#{channel}>")
        if not refused:
            # The connection broke after the post was sent: it may be in the channel, so
            # saying it is not could be untrue. The retry job looks before posting again.
            problem += "; I'll check the channel and post it if it isn't there"
        return False, [problem]
    TEAM_COPY_POSTS.labels("posted").inc()
    return True, found_or_posted(services, client, complaint, channel=posted["channel"], ts=posted["ts"])


def found_or_posted(services: Services, client: WebClient, complaint: Complaint, *, channel: str, ts: str,
                    stale: bool = False) -> list[str]:
    """Save where the copy is, then what had to wait for it: a change made while it was
    on its way (there was no message to update yet), and the thread's replies.
    `stale`: the copy was posted from an older state (found after a restart)."""
    with services.engine.begin() as connection:
        current, replies_waiting = service.set_message_location(connection, complaint_id=complaint.id,
                                                                channel=channel, ts=ts)
    complaint.slack_channel, complaint.slack_ts = channel, ts
    if not (stale or shown_differently(complaint, current)):
        problems = []
    else:
        # Read again, just before the update: a change saved since `current` may be
        # updating the message on another thread, and the last update must not be older.
        with services.open_session() as session:
            latest = service.get_complaint(session, complaint.id)
        problems = update_team_message(services, client, latest)
    # A change saved since the row was read (on PostgreSQL, one this update waited for)
    # may have queued a reply its statement could not see: look for it then.
    if replies_waiting or current.updated_at != complaint.updated_at:
        complaint_thread.post_replies(services, client, complaint.id)
    return problems


def shown_differently(posted: Complaint, current: Complaint) -> bool:
    """Whether the complaint changed after `posted` was rendered (where its copy is and
    who holds the post aside)."""
    return any(getattr(posted, name) != getattr(current, name) for name in RENDERED_COLUMNS)


RENDERED_COLUMNS = tuple(
    column.key for column in Complaint.__table__.columns
    if not column.key.startswith(("slack_", "copy_"))
)


def update_team_message(services: Services, client: WebClient, complaint: Complaint) -> list[str]:
    """Show the complaint as it is now on the team's copy (which must have been posted).

    Two changes in quick succession are published by two threads: each reads the
    complaint afresh under its complaint's lock, so the update Slack gets last is
    always of the latest state, never an older one overtaking it."""
    try:
        show_as_it_is(services, client, complaint.id)
    except Exception as exc:  # noqa: BLE001
        logger.warning("updating the message of %s failed: %s", complaint.reference, exc)
        return [f"I couldn't update the team's message: {slack_error_text(exc)}"]
    return []


def show_as_it_is(services: Services, client: WebClient, complaint_id: int) -> None:
    """Update the team's copy to the complaint as it reads now (if it was posted); raises
    what the Web API raised."""
    with _UPDATE_LOCKS[complaint_id % len(_UPDATE_LOCKS)]:
        with services.open_session() as session:
            complaint = service.get_complaint(session, complaint_id)
        if complaint.slack_ts:
            client.chat_update(
                channel=complaint.slack_channel, ts=complaint.slack_ts,
                text=views.summary_text(complaint), blocks=team_message_blocks(services, complaint),
            )


# Striped, so that the locks are few and fixed whatever the number of complaints.
_UPDATE_LOCKS = tuple(threading.Lock() for _ in range(64))


def copies_in_channel(client: WebClient, channel: str, since: datetime) -> dict[str, str] | None:
    """The team copies in the channel posted since `since`, by complaint ID (their
    buttons carry it), from one walk through the history; None if the walk could not
    finish (Slack failed, or more than HISTORY_PAGES pages), so nothing may be posted."""
    found: dict[str, str] = {}
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(channel=channel, oldest=f"{since.timestamp():.6f}", limit=200,
                                            **({"cursor": cursor} if cursor else {}))
        for message in page.get("messages") or []:
            for block in message.get("blocks") or []:
                if block.get("block_id") == Block.ACTIONS:
                    for element in block.get("elements") or []:
                        found.setdefault(str(element.get("value")), message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return found
    return None


HISTORY_PAGES = 10


def post_missing_team_copies(services: Services, client: WebClient) -> None:
    """Scheduled (every RETRY_TICK_SECONDS): post the team's copies due another try, as many
    as this process's pace posts before its next tick (bot/team_copies.py). Never
    twice: when an earlier try may have posted a copy, the channel is searched first
    and a copy found there is adopted, not posted again."""
    channel = services.settings.complaints_channel
    if not channel:
        return
    interval = services.pacer.interval
    batch = max(1, int(team_copies.RETRY_TICK_SECONDS / interval))
    lease = timedelta(seconds=batch * interval) + team_copies.FIRST_TRY
    claimed = team_copies.claim_due(services.open_session, now=services.clock(), limit=batch, lease=lease)
    unsure = [claim.complaint for claim in claimed if claim.may_be_posted]
    in_channel: dict[str, str] | None = {}
    if unsure:
        try:
            in_channel = copies_in_channel(client, channel, min(c.created_at for c in unsure) - timedelta(minutes=1))
        except Exception as exc:  # noqa: BLE001 — unknown whether they are there: try on a later tick
            logger.warning("could not look for team copies in %s: %s", channel, exc)
            in_channel = None
    for claim in claimed:
        complaint = claim.complaint
        if claim.may_be_posted and in_channel is None:
            team_copies.try_later(services.open_session, complaint_id=complaint.id, refused=False,
                                  at=services.clock() + team_copies.backoff(complaint.copy_tries))
        elif claim.may_be_posted and str(complaint.id) in in_channel:
            found_or_posted(services, client, complaint, channel=channel, ts=in_channel[str(complaint.id)], stale=True)
            logger.info("found the team's copy of %s posted before a restart", complaint.reference)
        else:
            posted, _ = post_team_copy(services, client, complaint, max_wait=None)
            if posted:
                logger.info("posted the team's copy of %s on a later try", complaint.reference)
                if not complaint.reporter_id.startswith(REPORTER_PREFIX):  # from the API: nobody in Slack to tell
                    direct_message(client, complaint.reporter_id, views.posted_later_notice(complaint, channel), "you")
