"""Replies in the thread of a complaint's team message: its notes, responses and
resolution, so the team sees what happened without `show` (bot/thread_replies.py
queues them with the change and says when each is tried).

Posted on the publisher threads after the acknowledgement, through the same client as
the team message (which honours Slack's Retry-After), never holding a session across
the call. A reply Slack refuses is logged and kept for a later try; the change itself
was saved before any of this.
"""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient

from bot import thread_replies
from bot.services import Services
from bot.thread_replies import ThreadReply
from handlers.complaint_news_views import thread_reply_text
from handlers.text import slack_error_text

logger = logging.getLogger(__name__)


def post_replies(services: Services, client: WebClient, complaint_id: int) -> None:
    """Post what the complaint's thread is waiting for (nothing before its team message exists)."""
    for reply in thread_replies.claim_for_complaint(services.open_session, complaint_id=complaint_id,
                                                    now=services.clock()):
        _post(services, client, reply)


def post_due_replies(services: Services, client: WebClient) -> None:
    """Scheduled: try again the replies that failed or whose team message came late."""
    dropped = thread_replies.drop_expired(services.open_session, now=services.clock())
    if dropped:
        logger.warning("gave up on %d thread replies after trying for a week (the history keeps them)", dropped)
    for reply in thread_replies.claim_due(services.open_session, now=services.clock()):
        _post(services, client, reply)


def _post(services: Services, client: WebClient, reply: ThreadReply) -> None:
    text = thread_reply_text(reply, name_of=services.people.display_name)
    try:
        time.sleep(services.pacer.reserve(reply.channel, max_wait=None))
        answer = client.chat_postMessage(channel=reply.channel, thread_ts=reply.thread_ts, text=text,
                                         unfurl_links=False, unfurl_media=False)
    except Exception as exc:  # noqa: BLE001 — kept and tried again; the note itself is saved
        logger.warning("posting a %s reply in the thread of %s failed (tried again later): %s",
                       reply.kind, reply.reference, exc)
        thread_replies.failed(services.open_session, event_id=reply.event_id, error=slack_error_text(exc))
        return
    thread_replies.posted(services.open_session, event_id=reply.event_id, ts=answer["ts"])


def show_reply_as_it_is(services: Services, client: WebClient, event_id: int) -> None:
    """Update the thread reply of this history entry to its note as it reads now (after
    a redaction, bot/privacy.py); raises what the Web API raised."""
    with services.open_session() as session:
        found = thread_replies.posted_reply(session, event_id=event_id)
    if found is not None:
        reply, ts = found
        client.chat_update(channel=reply.channel, ts=ts, text=thread_reply_text(reply, name_of=services.people.display_name))
