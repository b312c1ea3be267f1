"""Sending the weekly digest: the scheduled job, and the preview `/desk digest` shows.

The job runs every tick (bot/scheduler.py). It works out which week the latest
scheduled digest covers, and for each recipient (MANAGER_CHANNEL and/or each of
MANAGER_IDS, per DIGEST_DELIVERY) claims `digest:<week>:<recipient>` in the ledger:
with two processes, or after a restart, each recipient gets each week's digest once.
The figures come from `bot.digest.compute_digest`, which asks Slack (through
`services.people`) only while it holds no database session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk import WebClient

from bot import delivery_ledger
from bot.digest import Digest, compute_digest, recipients
from bot.services import Services
from bot.weeks import IsoWeek, scheduled_week
from handlers import digest_views, morale_views
from handlers.text import slack_error_text
from models.service_levels import Delivery, Notification

logger = logging.getLogger(__name__)
DIGEST_KIND = "digest"


def post_digest(client: WebClient, channel: str, digest: Digest, *, chart: bytes) -> None:
    """The digest message, then its chart in the same conversation."""
    posted = client.chat_postMessage(
        channel=channel, text=digest_views.digest_text(digest), blocks=digest_views.digest_blocks(digest)
    )
    upload_chart(client, posted["channel"], digest, chart)


def upload_chart(client: WebClient, channel: str, digest: Digest, chart: bytes, *, comment: str | None = None) -> None:
    client.files_upload_v2(
        channel=channel,
        content=chart,
        filename=f"servicedesk-digest-{digest.week}.png",
        title=f"Complaints, 8 weeks to {digest.week}",
        alt_txt=f"Bar chart of complaints logged and resolved per week, {digest.trend[0].week} to {digest.week}, "
        "with the median first-response time against its target as a line, and the daily service-quality index below",
        initial_comment=comment,
    )


@dataclass(frozen=True)
class DigestSend:
    """What one run of the job did for each recipient of the week's digest."""

    week: IsoWeek
    sent: list[str] = field(default_factory=list)
    # Sent before (by this process or another), or being sent by another process right now.
    already: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    # Recipient -> what went wrong (retried on later runs, up to delivery_ledger.MAX_ATTEMPTS).
    failed: dict[str, str] = field(default_factory=dict)


class DigestJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        self.send()

    def send(self) -> DigestSend:
        settings, now = self.services.settings, self.services.clock()
        week = scheduled_week(now, schedule=settings.digest_schedule, zone=settings.zone)
        outcome = DigestSend(week)
        keys = {recipient: f"{DIGEST_KIND}:{week}:{recipient}" for recipient in recipients(settings=settings)}
        with self.services.open_session() as session:
            settled = delivery_ledger.deliveries(session, keys.values(), settled_by=now)
        claimed = []
        for recipient, key in keys.items():
            if key in settled:
                _sort_settled(outcome, recipient, settled[key])
            elif delivery_ledger.claim_once(self.services.open_session, key=key, kind=DIGEST_KIND, now=now):
                claimed.append(recipient)
            else:
                outcome.busy.append(recipient)
        if not claimed:
            return outcome
        # matplotlib adds about 40 MB to a process: load it only when a digest goes out.
        from bot.digest_chart import trend_chart

        services = self.services
        digest = compute_digest(
            open_session=services.open_report_session, settings=settings, people=services.people, week=week, now=now,
            articles=services.knowledge.articles, shown=morale_views.people_shown,
        )
        chart = trend_chart(digest)
        for recipient in claimed:
            try:
                post_digest(self.client, recipient, digest, chart=chart)
                error = ""
                outcome.sent.append(recipient)
            except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried
                logger.warning("digest %s to %s failed: %s", week, recipient, exc)
                error = slack_error_text(exc)
                outcome.failed[recipient] = error
            delivery_ledger.finish(self.services.open_session, keys=[keys[recipient]], now=self.services.clock(), error=error)
        return outcome


def _sort_settled(outcome: DigestSend, recipient: str, delivery: Notification) -> None:
    if delivery.status == Delivery.SENT.value:
        outcome.already.append(recipient)
    elif delivery.status == Delivery.SENDING.value:
        outcome.busy.append(recipient)
    else:
        outcome.failed[recipient] = f"gave up after {delivery.attempts} attempts ({delivery.error or 'no reason given'})"


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(DigestJob(services, app.client))
