"""Retention of customers' personal data, on a schedule: complaints resolved more than
CUSTOMER_DATA_RETENTION_DAYS ago lose their customer's name and contact (bot/privacy.py),
and their messages in Slack (team message, thread replies, the new owners' DMs) are
shown again without them.

The job runs every tick but works at most once an hour across processes (claimed in
the delivery ledger), a batch of complaints per transaction until none is left. The
messages in Slack that a redaction (this job's, or `servicedesk privacy erase`) could
not update are tried again every tick until Slack takes them (bot/redactions.py).
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import delivery_ledger, privacy, redactions
from bot.services import Services
from handlers import complaint_thread, owner_notice, team_copy
from handlers.text import slack_error_text
from models.db import unit_of_work
from models.privacy import SlackMessage

logger = logging.getLogger(__name__)
RETENTION_KIND = "retention"


def redact_in_slack(services: Services, client: WebClient, *, complaint_ids: list[int] | None = None) -> int:
    """Show the redacted complaints again in Slack: claim the messages due (of these
    complaints only, if given) and update each; one Slack does not take stays pending,
    due again later. Returns how many were updated."""
    updated = 0
    for redaction in redactions.claim_due(services.open_session, now=services.clock(), complaint_ids=complaint_ids):
        try:
            if redaction.message == SlackMessage.TEAM:
                team_copy.show_as_it_is(services, client, redaction.complaint_id)
            elif redaction.message == SlackMessage.OWNER_DM:
                owner_notice.show_notice_as_it_is(services, client, redaction.event_id)
            else:
                complaint_thread.show_reply_as_it_is(services, client, redaction.event_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "message_not_found":  # deleted in Slack: nothing shows them
                redactions.done(services.open_session, redaction=redaction)
            else:
                _try_later(services, redaction, exc)
        except Exception as exc:  # noqa: BLE001 — the database is redacted; Slack is tried again
            _try_later(services, redaction, exc)
        else:
            redactions.done(services.open_session, redaction=redaction)
            updated += 1
    return updated


def _try_later(services: Services, redaction: redactions.Redaction, exc: Exception) -> None:
    # Info: the line that names what is pending is what whoever redacted reads (CLI, log).
    logger.info("redacting %s in Slack failed (tried again later): %s", redaction.what, exc)
    redactions.try_later(services.open_session, redaction=redaction, now=services.clock(), error=slack_error_text(exc))


def pending_line(services: Services, complaint_ids: list[int]) -> str:
    """One line naming what Slack still shows of these complaints, or "" if nothing."""
    with services.open_session() as session:
        left = redactions.pending(session, complaint_ids=complaint_ids)
    if not left:
        return ""
    errors = "; ".join(sorted({r.error for r in left if r.error}))
    return (f"Slack still shows the customer in {len(left)} message(s) ({', '.join(r.what for r in left)})"
            + (f": {errors}" if errors else "")
            + "; the redaction is recorded and the running bot tries them again until Slack takes them "
            "(`servicedesk privacy log` lists what is pending)")


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
            redact_in_slack(self.services, self.client, complaint_ids=redacted)
        problem = pending_line(self.services, redacted) if redacted else ""
        if problem:
            logger.warning("retention: %s", problem)
        delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(), error=problem[:255])


def register(app: App, services: Services) -> None:
    def redact_pending_in_slack() -> None:
        redact_in_slack(services, app.client)

    services.scheduled_jobs.extend([RetentionJob(services, app.client), redact_pending_in_slack])
