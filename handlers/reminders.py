"""The scheduled job that sends reminders, follow-up prompts and breach escalations.

Each tick: read the complaints that may need a notice, decide what is due
(bot/reminders.py), claim it in the ledger (bot/delivery_ledger.py), then send. An
owner's reminders share one DM, at most one an hour; escalations go to
MANAGER_CHANNEL (or to each manager by DM when it is not set).
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot import delivery_ledger
from bot.services import Services
from bot.reminders import REMINDER_GAP, Notice, NoticeKind, candidates, notices_due, plan_notices
from handlers import reminder_views
from handlers.team_copy import update_team_message
from handlers.text import slack_error_text
from models.db import unit_of_work

logger = logging.getLogger(__name__)


class ReminderJob:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    def __call__(self) -> None:
        settings, now = self.services.settings, self.services.clock()
        with self.services.open_session() as session:
            complaints = candidates(session, now=now, targets=settings.targets, follow_up_days=settings.follow_up_days)
            due = notices_due(
                complaints, now=now, targets=settings.targets, due_soon=settings.due_soon,
                follow_up_days=settings.follow_up_days, waiting_days=settings.waiting_reminder_days,
            )
            settled = delivery_ledger.settled_keys(session, [notice.key for notice in due], now=now)
        if not self.escalation_targets():
            due = [notice for notice in due if notice.kind is not NoticeKind.ESCALATION]
        plan = plan_notices(due, settled=settled, now=now, quiet=settings.quiet, zone=settings.zone)
        if plan.held_for_quiet_hours:
            logger.info("%d notices wait for the end of quiet hours", len(plan.held_for_quiet_hours))
        for owner_id, notices in plan.reminders.items():
            self.remind(owner_id, notices)
        if plan.escalations:
            self.escalate(plan.escalations)

    def escalation_targets(self) -> list[str]:
        settings = self.services.settings
        return [settings.manager_channel] if settings.manager_channel else list(settings.manager_ids)

    def remind(self, owner_id: str, notices: list[Notice]) -> None:
        """One DM with everything due for this owner, unless they had one within the hour."""
        now = self.services.clock()
        delivery_ledger.ensure_owner_row(self.services.open_session, owner_id)
        try:
            with unit_of_work(self.services.open_session) as session:
                if not delivery_ledger.take_dm_slot(session, owner_id=owner_id, now=now, gap=REMINDER_GAP):
                    return
                delivery_ledger.claim(session, keys=[n.key for n in notices], kind=NoticeKind.REMINDER, now=now)
        except IntegrityError:
            return  # another process claimed some of these first; the rest go next time
        error = self._post(owner_id, reminder_views.reminder_text(notices), reminder_views.reminder_blocks(notices, now))
        self._finish([n.key for n in notices], error)

    def escalate(self, notices: list[Notice]) -> None:
        now = self.services.clock()
        mine = [n for n in notices if delivery_ledger.claim_once(self.services.open_session, key=n.key, kind=n.kind, now=now)]
        if not mine:
            return
        text, blocks = reminder_views.escalation_text(mine), reminder_views.escalation_blocks(mine, now)
        errors = [self._post(channel, text, blocks) for channel in self.escalation_targets()]
        self._finish([n.key for n in mine], next((e for e in errors if e), ""))
        # Show the breach on the team's copies too (best effort: the escalation went out).
        for complaint in {n.complaint.id: n.complaint for n in mine}.values():
            if complaint.slack_ts:
                update_team_message(self.services, self.client, complaint)

    def _post(self, channel: str, text: str, blocks: list[dict]) -> str:
        """Post; return the problem in words, or "" when it went out."""
        try:
            self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried
            logger.warning("notification to %s failed: %s", channel, exc)
            return slack_error_text(exc)
        return ""

    def _finish(self, keys: list[str], error: str) -> None:
        delivery_ledger.finish(self.services.open_session, keys=keys, now=self.services.clock(), error=error)


def register(app: App, services: Services) -> None:
    services.scheduled_jobs.append(ReminderJob(services, app.client))
