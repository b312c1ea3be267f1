"""The scheduled job that DMs owners their knowledge-base articles due for review.

It runs every tick (bot/scheduler.py) but sends only in working hours
(bot.knowledge.reviews), and claims `kb-review:<ISO week>:<recipient>` in the delivery
ledger before each message: with several processes, or after a restart, each person
is reminded at most once a week. A failed send is recorded and retried on later ticks.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot import delivery_ledger
from bot.knowledge import usage
from bot.knowledge.reviews import REVIEW_KIND, is_working_time, reminder_key, reminders_by_recipient
from bot.services import Services
from handlers import knowledge_views as views
from handlers.text import slack_error_text

logger = logging.getLogger(__name__)


class ReviewReminderJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        settings, now = self.services.settings, self.services.clock()
        if not is_working_time(now, quiet=settings.quiet, zone=settings.zone):
            return
        library = self.services.knowledge
        library.refresh_if_due()
        due = usage.due_for_review(library.articles, today=now.astimezone(settings.zone).date(),
                                   max_age_days=settings.knowledge_review_days)
        wanted = reminders_by_recipient(due, admin_ids=settings.admin_ids)
        keys = {recipient: reminder_key(recipient, now, settings.zone) for recipient in wanted}
        with self.services.open_session() as session:
            settled = delivery_ledger.settled_keys(session, keys.values(), now=now)
        for recipient, by_owner in wanted.items():
            key = keys[recipient]
            if key in settled or not delivery_ledger.claim_once(self.services.open_session, key=key,
                                                                kind=REVIEW_KIND, now=now):
                continue
            blocks = views.review_blocks(by_owner, max_age_days=settings.knowledge_review_days,
                                         everyone=set(by_owner) != {recipient})
            try:
                self.client.chat_postMessage(channel=recipient, text="Knowledge-base articles due for review", blocks=blocks)
                error = ""
            except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried
                logger.warning("review reminder to %s failed: %s", recipient, exc)
                error = slack_error_text(exc)
            delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(), error=error)


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(ReviewReminderJob(services, app.client))
