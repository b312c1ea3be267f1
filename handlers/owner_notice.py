"""The new owner's DM ("<@actor> made you the owner of C-42 …"): sent once right after the
change, and, when Slack could not take it then, by a scheduled job once Slack answers
again (bot/owner_notices.py keeps the ledger that makes it at most once)."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot import complaints as service
from bot import owner_notices
from bot.owner_notices import OwnerNotice
from bot.undelivered_retry import surely_not_acted_on
from bot.services import Services
from handlers import complaint_views as views
from handlers.text import slack_error_text
from models.complaints import Complaint, ComplaintEvent

logger = logging.getLogger(__name__)


def tell_new_owner(services: Services, client: WebClient, complaint: Complaint) -> list[str]:
    """DM the complaint's owner that they were given it, unless that is claimed already;
    returns what went wrong, in words, for the person who made the change."""
    with services.open_session() as session:
        notice = owner_notices.latest_notice(session, complaint_id=complaint.id, owner_id=complaint.owner_id)
    if notice is None or not owner_notices.claim_first(services.open_session, notice=notice, now=services.clock()):
        return []
    return _send(services, client, complaint, notice)


def tell_owners_not_yet_told(services: Services, client: WebClient) -> None:
    """Scheduled: send the notices whose first try failed or never happened."""
    for notice in owner_notices.claim_due(services.open_session, now=services.clock()):
        with services.open_session() as session:
            complaint = service.get_complaint(session, notice.complaint_id)
        if not _send(services, client, complaint, notice):
            logger.info("told %s about %s on a later try", notice.owner_id, complaint.reference)


def show_notice_as_it_is(services: Services, client: WebClient, event_id: int) -> None:
    """Update the new owner's DM of this ownership change to the complaint as it reads now
    (after a redaction, bot/privacy.py); raises what the Web API raised."""
    with services.open_session() as session:
        event = session.get(ComplaintEvent, event_id)
        complaint = service.get_complaint(session, event.complaint_id) if event and event.notice_ts else None
    if complaint is not None:
        client.chat_update(channel=event.notice_channel, ts=event.notice_ts,
                           text=views.owner_notice(complaint, event.actor_id))


def _send(services: Services, client: WebClient, complaint: Complaint, notice: OwnerNotice) -> list[str]:
    """Send the claimed notice and record the outcome; what went wrong, in words."""
    try:
        answer = client.chat_postMessage(channel=notice.owner_id, text=views.owner_notice(complaint, notice.actor_id))
    except Exception as exc:  # noqa: BLE001 — reported to the person, and the ledger says what to do next
        logger.warning("telling %s they own %s failed: %s", notice.owner_id, complaint.reference, exc)
        error = slack_error_text(exc)
        if surely_not_acted_on(exc):
            owner_notices.finish(services.open_session, notice=notice, now=services.clock(), error=error)
            return [f"I couldn't message the new owner yet ({error}); they will be told once Slack answers"]
        # The claim stays `sending`: the DM may have gone out, so it is not sent again.
        return [f"I couldn't tell whether my message reached the new owner ({error}); "
                "I won't send it again in case it did"]
    owner_notices.finish(services.open_session, notice=notice, now=services.clock(),
                         channel=answer.get("channel", ""), ts=answer.get("ts", ""))
    return []


def register(app: App, services: Services) -> None:
    def tell_owners_later() -> None:
        tell_owners_not_yet_told(services, app.client)

    services.scheduled_jobs.append(tell_owners_later)
