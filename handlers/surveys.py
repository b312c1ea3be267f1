"""Closing the loop with the customers' own answers: the owner is told each answer, the
managers are alerted to a detractor with a Called back button, and reminded when nobody
has called back within CALLBACK_HOURS; and the survey e-mails go out.

Each is a scheduled job (bot/scheduler.py) that claims its sends in the delivery
ledger, so an answer is told once however many processes tick; the survey page also
runs them at once after an answer is saved (`CustomerVoiceJobs.run_now`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import complaints as service
from bot import delivery_ledger, rate_limit, surveys
from bot.errors import InvalidInput, UserFacingError
from bot.services import Services
from bot.survey_links import links_for
from bot.survey_mail import SurveyMailJob
from handlers import survey_views as views
from handlers.ids import Action
from handlers.messaging import guarded, tell
from handlers.text import slack_error_text
from models.db import unit_of_work

logger = logging.getLogger(__name__)
# Answers and call-backs older than this are not looked at again (a week of outage at most).
LOOKBACK = timedelta(days=7)


class CustomerVoiceJobs:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.client = client

    @property
    def jobs(self) -> list[Callable[[], None]]:
        return [self.tell_owners, self.alert_managers, self.remind_call_backs]

    def run_now(self) -> None:
        """After an answer is saved: tell at once rather than on the next tick (the ledger keeps it once)."""
        for job in self.jobs:
            self.services.after_ack(job)

    def _send_once(self, key: str, kind: str, send: Callable[[], None]) -> bool:
        now = self.services.clock()
        with self.services.open_session() as session:
            if delivery_ledger.settled_keys(session, [key], now=now):
                return False
        if not delivery_ledger.claim_once(self.services.open_session, key=key, kind=kind, now=now):
            return False
        try:
            send()
            error = ""
        except Exception as exc:  # noqa: BLE001 — recorded in the ledger and retried on a later tick
            logger.warning("%s failed: %s", key, exc)
            error = slack_error_text(exc)
        delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(), error=error)
        return not error

    def _recipients(self) -> list[str]:
        settings = self.services.settings
        return [settings.manager_channel] if settings.manager_channel else list(settings.manager_ids)

    def tell_owners(self) -> None:
        now = self.services.clock()
        with self.services.open_session() as session:
            answers = surveys.answers_changed_since(session, since=now - LOOKBACK)
            owners = {a.complaint_id: service.get_complaint(session, a.complaint_id).owner_id for a in answers}
        for answer in answers:
            self._send_once(f"survey-answer:{answer.complaint_id}:{answer.revision}", "survey-answer",
                            lambda: self.client.chat_postMessage(channel=owners[answer.complaint_id],
                                                                 text=views.answer_notice(answer)))

    def alert_managers(self) -> None:
        now = self.services.clock()
        with self.services.open_session() as session:
            requested = surveys.call_backs_requested_since(session, since=now - LOOKBACK)
            details = {c.complaint_id: (session.get(surveys.SurveyAnswer, c.complaint_id),
                                        service.get_complaint(session, c.complaint_id).owner_id) for c in requested}
        for call_back in requested:
            answer, owner_id = details[call_back.complaint_id]
            blocks = views.detractor_alert_blocks(answer, owner_id=owner_id, due_at=call_back.due_at)
            for recipient in self._recipients():
                def send(recipient=recipient, blocks=blocks, answer=answer) -> None:
                    posted = self.client.chat_postMessage(channel=recipient, text=views.detractor_alert_text(answer),
                                                          blocks=blocks)
                    with unit_of_work(self.services.open_session) as session:
                        surveys.set_alert_location(session, complaint_id=answer.complaint_id,
                                                   channel=posted["channel"], ts=posted["ts"])

                self._send_once(f"detractor:{call_back.complaint_id}:{recipient}", "detractor", send)

    def remind_call_backs(self) -> None:
        now = self.services.clock()
        with self.services.open_session() as session:
            overdue = surveys.overdue_call_backs(session, now=now, since=now - LOOKBACK)
            owners = {c.complaint_id: service.get_complaint(session, c.complaint_id).owner_id for c in overdue}
        for call_back in overdue:
            blocks = views.call_back_reminder_blocks(call_back, owner_id=owners[call_back.complaint_id])
            for recipient in self._recipients():
                self._send_once(
                    f"call-back-reminder:{call_back.complaint_id}:{recipient}", "call-back-reminder",
                    lambda recipient=recipient, blocks=blocks: self.client.chat_postMessage(
                        channel=recipient, text=f"Nobody has called back the customer of C-{call_back.complaint_id}",
                        blocks=blocks),
                )


def survey_link_again(services: Services, complaint_id: int) -> str:
    """`/complaint survey C-42`: a fresh link (working SURVEY_DAYS from now) for a resolved complaint."""
    links = links_for(services.settings)
    if links is None:
        raise InvalidInput("Survey links need the web side: set PUBLIC_URL and SECRET_KEY (see the README).")
    with services.open_session() as session:
        complaint = service.get_complaint(session, complaint_id)
    if complaint.status != "resolved":
        raise InvalidInput(f"{complaint.reference} is not resolved: its survey link comes with the resolution.")
    url = links.survey_url(complaint.id, issued_at=services.clock())
    return views.survey_link_line(url, days=services.settings.survey_days)


def on_call_back(services: Services) -> Callable:
    def listener(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = (body.get("channel") or {}).get("id", "")
        try:
            complaint_id = service.parse_reference(action.get("value", ""))
            with unit_of_work(services.open_session) as session:
                call_back = surveys.record_call_back(session, complaint_id=complaint_id, actor_id=user_id,
                                                     now=services.clock())
                session.flush()
                session.expunge(call_back)
        except UserFacingError as exc:
            tell(client, user_id, channel_id, f":warning: {exc}")
            return
        message = body.get("message") or {}
        if channel_id and message.get("ts"):
            blocks = views.called_back_blocks(call_back, alert=message.get("blocks") or [])
            client.chat_update(channel=channel_id, ts=message["ts"], text=f"Called back: C-{complaint_id}", blocks=blocks)

    return listener


def register(app: App, services: Services) -> CustomerVoiceJobs:
    voice = CustomerVoiceJobs(services, app.client)

    def forget_old_rate_windows() -> None:
        with unit_of_work(services.open_session) as session:
            rate_limit.forget_old_windows(session, now=services.clock())

    # Without the web side there are no answers, e-mails or counted requests: nothing to tick.
    if services.settings.web_enabled:
        services.scheduled_jobs.extend([*voice.jobs, SurveyMailJob(services), forget_old_rate_windows])
    app.action(Action.CALL_BACK.value)(guarded(on_call_back(services)))
    return voice
