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
from slack_bolt import App
from slack_sdk import WebClient

from bot import delivery_ledger
from bot.digest import Digest, compute_digest, recipients
from bot.services import Services
from bot.weeks import scheduled_week
from handlers import digest_views, morale_views
from handlers.text import slack_error_text

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


class DigestJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        settings, now = self.services.settings, self.services.clock()
        week = scheduled_week(now, schedule=settings.digest_schedule, zone=settings.zone)
        keys = {recipient: f"{DIGEST_KIND}:{week}:{recipient}" for recipient in recipients(settings=settings)}
        with self.services.open_session() as session:
            settled = delivery_ledger.settled_keys(session, keys.values(), now=now)
        claimed = [
            recipient for recipient, key in keys.items()
            if key not in settled and delivery_ledger.claim_once(self.services.open_session, key=key, kind=DIGEST_KIND, now=now)
        ]
        if not claimed:
            return
        # matplotlib adds about 40 MB to a process: load it only when a digest goes out.
        from bot.digest_chart import trend_chart

        services = self.services
        digest = compute_digest(
            open_session=services.open_session, settings=settings, people=services.people, week=week, now=now,
            articles=services.knowledge.articles, shown=morale_views.people_shown,
        )
        chart = trend_chart(digest)
        for recipient in claimed:
            try:
                post_digest(self.client, recipient, digest, chart=chart)
                error = ""
            except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried
                logger.warning("digest %s to %s failed: %s", week, recipient, exc)
                error = slack_error_text(exc)
            delivery_ledger.finish(self.services.open_session, keys=[keys[recipient]], now=self.services.clock(), error=error)


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(DigestJob(services, app.client))
