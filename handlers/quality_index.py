"""Posting the daily service-quality index each working day at SQI_TIME (in TZ).

The job runs every tick (bot/scheduler.py). Once a working day's post time has come
it claims `sqi:<day>:<channel>` in the delivery ledger, as the digest claims its week:
with two processes, or after a restart, each working day's index goes out once (and a
post missed while the bot was down goes out when it starts, until the next one is due).
The post covers the days since the working day before: Monday's covers the weekend.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot import delivery_ledger
from bot.quality_index import daily_series, due_post
from bot.services import Services
from handlers import quality_index_views
from handlers.text import slack_error_text

logger = logging.getLogger(__name__)
SQI_KIND = "sqi"


class QualityIndexJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        settings, now = self.services.settings, self.services.clock()
        channel, post_time = settings.sqi_post_channel, settings.sqi_post_time
        if not channel or post_time is None:
            return
        day, covered = due_post(now, at=post_time, zone=settings.zone)
        key = f"{SQI_KIND}:{day.isoformat()}:{channel}"
        with self.services.open_session() as session:
            if delivery_ledger.settled_keys(session, [key], now=now):
                return
        if not delivery_ledger.claim_once(self.services.open_session, key=key, kind=SQI_KIND, now=now):
            return
        rules = settings.sqi_rules
        with self.services.open_report_session() as session:
            days = daily_series(session, first_day=covered[0], days=len(covered), zone=settings.zone, now=now, rules=rules)
        try:
            self.client.chat_postMessage(
                channel=channel, text=quality_index_views.index_text(days),
                blocks=quality_index_views.index_blocks(days, rules),
            )
            error = ""
        except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried
            logger.warning("service-quality index for %s to %s failed: %s", day, channel, exc)
            error = slack_error_text(exc)
        delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(), error=error)


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(QualityIndexJob(services, app.client))
