"""The team's copy of a complaint in COMPLAINTS_CHANNEL: posting it, updating it in place
(with the replies its thread is waiting for, handlers/complaint_thread.py), and telling
a new owner by DM. Each step returns what went wrong, in words, so the
listener can tell the person who made the change; none holds a session across a call.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot import complaints as service
from bot.customer_history import earlier_complaints
from bot.metrics import TEAM_COPY_POSTS
from bot.services import Services
from bot.sla import SlaStatus, sla_status
from bot.team_copies import claim_retries
from handlers import complaint_thread
from handlers import complaint_views as views
from handlers.ids import Block
from handlers.owner_notice import tell_new_owner
from handlers.text import slack_error_text
from models.complaints import Complaint

logger = logging.getLogger(__name__)


def sla_now(services: Services, complaint: Complaint) -> SlaStatus:
    settings = services.settings
    return sla_status(complaint, now=services.clock(), targets=settings.targets, due_soon=settings.due_soon)


def team_message_blocks(services: Services, complaint: Complaint) -> list[dict]:
    """The team's copy as it is now, with the customer's earlier complaints (read first;
    no session is held while the message goes to Slack)."""
    with services.open_session() as session:
        earlier = earlier_complaints(session, complaint=complaint)
    return views.complaint_message(complaint, sla_now(services, complaint), earlier=earlier)


def publish_new(services: Services, client: WebClient, complaint: Complaint) -> list[str]:
    """Post the team's copy of a complaint just logged and DM its owner if someone else logged it."""
    problems = post_team_copy(services, client, complaint)
    if complaint.owner_id != complaint.reporter_id:
        problems += tell_new_owner(services, client, complaint)
    return problems


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
        problems += direct_message(client, complaint.owner_id, views.resolved_for_you_notice(complaint, actor_id),
                                   "the owner")
    return problems


def direct_message(client: WebClient, user_id: str, text: str, who: str) -> list[str]:
    try:
        client.chat_postMessage(channel=user_id, text=text)
    except Exception as exc:  # noqa: BLE001
        return [f"I couldn't message {who}: {slack_error_text(exc)}"]
    return []


def post_team_copy(services: Services, client: WebClient, complaint: Complaint) -> list[str]:
    channel = services.settings.complaints_channel
    if not channel:
        return []
    try:
        blocks = team_message_blocks(services, complaint)
        posted = client.chat_postMessage(channel=channel, text=views.summary_text(complaint), blocks=blocks)
        with services.open_session() as session:
            current = service.set_message_location(
                session, complaint_id=complaint.id, channel=posted["channel"], ts=posted["ts"]
            )
            session.commit()
        complaint.slack_channel, complaint.slack_ts = posted["channel"], posted["ts"]
    except Exception as exc:  # noqa: BLE001 — any failure is reported, the complaint is kept
        TEAM_COPY_POSTS.labels("failed").inc()
        logger.warning("posting %s to %s failed: %s", complaint.reference, channel, exc)
        return [f"I couldn't post it to <#{channel}>: {slack_error_text(exc)}"]
    TEAM_COPY_POSTS.labels("posted").inc()
    # A change made while the post was on its way had no message to update yet, nor a
    # thread to reply in.
    changed_meanwhile = team_message_blocks(services, current) != blocks
    problems = update_team_message(services, client, current) if changed_meanwhile else []
    complaint_thread.post_replies(services, client, complaint.id)
    return problems


def update_team_message(services: Services, client: WebClient, complaint: Complaint) -> list[str]:
    """Show the complaint as it is now on the team's copy (which must have been posted)."""
    try:
        client.chat_update(
            channel=complaint.slack_channel, ts=complaint.slack_ts,
            text=views.summary_text(complaint), blocks=team_message_blocks(services, complaint),
        )
    except Exception as exc:  # noqa: BLE001
        logger.warning("updating the message of %s failed: %s", complaint.reference, exc)
        return [f"I couldn't update the team's message: {slack_error_text(exc)}"]
    return []


def posted_copy_ts(client: WebClient, channel: str, complaint: Complaint) -> str:
    """The ts of a team copy already in the channel (posted, then the process died before
    saving where), known by its buttons, which carry the complaint's ID; "" if none."""
    history = client.conversations_history(
        channel=channel, oldest=f"{complaint.created_at.timestamp() - 60:.6f}", limit=200,
    )
    for message in history.get("messages") or []:
        for block in message.get("blocks") or []:
            if block.get("block_id") == Block.ACTIONS and any(
                element.get("value") == str(complaint.id) for element in block.get("elements") or []
            ):
                return message["ts"]
    return ""


def post_missing_team_copies(services: Services, client: WebClient) -> None:
    """Scheduled: post the team's copies that are due another try (bot/team_copies.py),
    never twice: a copy already in the channel is adopted, not posted again."""
    channel = services.settings.complaints_channel
    if not channel:
        return
    for complaint in claim_retries(services.open_session, now=services.clock()):
        try:
            found = posted_copy_ts(client, channel, complaint)
        except Exception as exc:  # noqa: BLE001 — unknown whether it is there: try on a later tick
            logger.warning("could not look for the team's copy of %s: %s", complaint.reference, exc)
            continue
        if found:
            with services.open_session() as session:
                current = service.set_message_location(session, complaint_id=complaint.id, channel=channel, ts=found)
                session.commit()
            update_team_message(services, client, current)
            complaint_thread.post_replies(services, client, complaint.id)
            logger.info("found the team's copy of %s posted before a restart", complaint.reference)
        elif not post_team_copy(services, client, complaint):
            logger.info("posted the team's copy of %s on a later try", complaint.reference)
            direct_message(client, complaint.reporter_id, views.posted_later_notice(complaint, channel), "you")
