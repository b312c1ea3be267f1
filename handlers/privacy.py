"""Retention of customers' personal data, on a schedule: complaints resolved more than
CUSTOMER_DATA_RETENTION_DAYS ago lose their customer's name and contact (bot/privacy.py),
and their team messages in Slack are shown again without them.

The job runs every tick but works at most once an hour across processes (claimed in
the delivery ledger), a batch of complaints per transaction until none is left.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot import complaints as service
from bot import delivery_ledger, privacy
from bot.services import Services
from handlers import complaint_thread, team_copy
from models.db import unit_of_work

logger = logging.getLogger(__name__)
RETENTION_KIND = "retention"


def refresh_team_messages(services: Services, client: WebClient, complaint_ids: list[int]) -> list[str]:
    """Show redacted complaints again on their team messages and the replies in their
    threads; what went wrong, in words."""
    problems = []
    for complaint_id in complaint_ids:
        with services.open_session() as session:
            complaint = service.get_complaint(session, complaint_id)
        if complaint.slack_ts:
            problems += [f"{complaint.reference}: {problem}"
                         for problem in team_copy.update_team_message(services, client, complaint)]
    return problems + complaint_thread.redact_replies(services, client, complaint_ids)


class RetentionJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        days = self.services.settings.customer_data_retention_days
        now = self.services.clock()
        key = f"{RETENTION_KIND}:{now:%Y-%m-%dT%H}"
        if not days or not delivery_ledger.claim_once(self.services.open_session, key=key, kind=RETENTION_KIND, now=now):
            return
        redacted: list[int] = []
        while True:
            with unit_of_work(self.services.open_session) as session:
                batch = privacy.redact_expired(session, now=now, retention_days=days).complaint_ids
            redacted += batch
            if len(batch) < privacy.RETENTION_BATCH:
                break
        if redacted:
            logger.info("retention: redacted the customer in %d complaint(s)", len(redacted))
        problems = refresh_team_messages(self.services, self.client, redacted)
        delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(),
                               error="; ".join(problems)[:255])


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(RetentionJob(services, app.client))
