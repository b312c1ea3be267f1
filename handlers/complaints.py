"""Slack listeners for complaints: `/complaint`, its modals, buttons and message shortcut.

Each listener parses the payload, calls `bot.complaints` and renders with
`handlers.complaint_views`. Database work happens before `ack()` (it takes
milliseconds and means a complaint is saved before anyone is told so); Web API calls
happen after it, and posting or updating the team's copy runs on the publisher
threads (`Services.after_ack`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import complaints as service
from bot.services import Services
from bot.complaint_text import (
    HelpRequest,
    OpenModal,
    Subcommand,
    help_text,
    mentioned_users,
    parse,
    plain_text,
)
from bot.complaints import ComplaintDraft
from bot.errors import DuplicateRequest, InvalidInput, UserFacingError
from bot.people import PeopleUnavailable
from bot.request_dedup import run_once
from bot.sla import SlaStatus, sla_status
from handlers import complaint_views as views
from handlers.knowledge import complaint_suggestions
from handlers.ids import Action, Block, Command, Shortcut, View
from handlers.text import slack_error_text
from models.complaints import Complaint, ContactChannel, Severity

logger = logging.getLogger(__name__)

# Team copies that failed to post are tried again once the first attempt is surely
# over, every few minutes, for a week.
RETRY_AFTER = timedelta(minutes=2)
RETRY_EVERY = timedelta(minutes=10)
RETRY_FOR = timedelta(days=7)
FORM_ACTIONS = (Action.NOTE, Action.RESPONDED, Action.RESOLVE, Action.REASSIGN, Action.FOLLOWED_UP)
MANAGE_ACTIONS = (Action.REASSIGN, Action.RESOLVE, Action.REOPEN)
SUBCOMMAND_ACTIONS = {
    "take": Action.TAKE,
    "assign": Action.REASSIGN,
    "responded": Action.RESPONDED,
    "note": Action.NOTE,
    "resolve": Action.RESOLVE,
    "reopen": Action.REOPEN,
    "rate": Action.RATE,
    "followed-up": Action.FOLLOWED_UP,
}


@dataclass(frozen=True)
class Change:
    """A change to one complaint, however it was asked for (button, modal or text)."""

    action: Action
    complaint_id: int
    actor_id: str
    text: str = ""
    new_owner_id: str = ""
    score: int | None = None


def tell(client: WebClient, user_id: str, channel_id: str, text: str, blocks: list[dict] | None = None) -> None:
    """An ephemeral note where the person is, or a DM when that is not possible."""
    if channel_id:
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
            return
        except SlackApiError:
            pass
    try:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not tell %s: %s", user_id, exc)


class ComplaintListeners:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.users = services.people

    # ----- /complaint -------------------------------------------------------------
    def on_command(self, ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        user_id = command["user_id"]
        try:
            parsed = parse(command.get("text", ""), categories=self.services.settings.complaint_categories)
            if isinstance(parsed, OpenModal):
                ack()
                client.views_open(
                    trigger_id=command["trigger_id"],
                    view=views.log_complaint_modal(
                        categories=self.services.settings.complaint_categories,
                        reporter_id=user_id,
                        metadata={"channel": command.get("channel_id", "")},
                    ),
                )
            elif isinstance(parsed, HelpRequest):
                ack(text=help_text(parsed.hint))
            elif isinstance(parsed, Subcommand):
                self._run_subcommand(ack, respond, client, parsed, user_id, command["trigger_id"])
            else:
                self._log_from_text(ack, respond, client, parsed, user_id, command["trigger_id"])
        except UserFacingError as exc:
            ack(text=f":warning: {exc}")
        except DuplicateRequest as exc:
            ack(text=f"Already done: {exc.result}.")

    def _log_from_text(self, ack, respond, client, draft: ComplaintDraft, user_id: str, trigger_id: str) -> None:
        if draft.owner_id:
            self._check_owner(draft.owner_id)
        complaint = self._log(draft, user_id, key=f"command:{trigger_id}")
        channel = self.services.settings.complaints_channel
        text = views.confirmation(complaint, channel or None)
        ack(text=text, blocks=views.confirmation_blocks(text, complaint_suggestions(self.services, complaint.description)))

        def publish() -> None:
            for problem in self._publish_new(client, complaint):
                respond(text=f":warning: {complaint.reference} is saved, but {problem}.")

        self.services.after_ack(publish)

    def _run_subcommand(self, ack, respond, client, sub: Subcommand, user_id: str, trigger_id: str) -> None:
        if sub.name == "list":
            everyone = bool(sub.args) and sub.args[0].lower() in ("open", "all")
            with self.services.open_session() as session:
                rows, total = service.list_complaints(session, owner_id=None if everyone else user_id)
            heading = "Open complaints" if everyone else "Your open complaints"
            ack(text=heading, blocks=views.complaint_list(rows, total, heading))
            return
        if not sub.args:
            raise InvalidInput(f"Which complaint? For example `/complaint {sub.name} C-42`.")
        complaint_id = service.parse_reference(sub.args[0])
        if sub.name == "show":
            with self.services.open_session() as session:
                complaint = service.get_complaint(session, complaint_id)
                events = service.history(session, complaint_id)
            ack(text=views.summary_text(complaint), blocks=views.complaint_details(complaint, events, self._sla(complaint)))
            return
        rest = plain_text(sub.rest.partition(" ")[2]).strip()
        change = Change(SUBCOMMAND_ACTIONS[sub.name], complaint_id, user_id, text=rest)
        if change.action is Action.REASSIGN:
            owners = mentioned_users(sub.rest)
            if len(owners) != 1:
                raise InvalidInput("Mention the new owner, e.g. `/complaint assign C-42 @alex`.")
            self._check_owner(owners[0])
            change = Change(Action.REASSIGN, complaint_id, user_id, new_owner_id=owners[0])
        if change.action is Action.RATE:
            score, _, comment = rest.partition(" ")
            change = Change(Action.RATE, complaint_id, user_id, text=comment.strip(), score=service.parse_score(score))
        complaint, previous_owner = self._apply(change, key=f"command:{trigger_id}")
        ack(text=f"Done: {views.summary_text(complaint)}")
        self._publish_change_later(client, complaint, previous_owner, user_id, tell=lambda text: respond(text=text))

    # ----- the log modal ------------------------------------------------------------
    def on_message_shortcut(self, ack: Ack, shortcut: dict, client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        client.views_open(
            trigger_id=shortcut["trigger_id"],
            view=views.log_complaint_modal(
                categories=self.services.settings.complaint_categories,
                reporter_id=shortcut["user"]["id"],
                description=plain_text(message.get("text", "")),
                metadata={
                    "channel": (shortcut.get("channel") or {}).get("id", ""),
                    "message_ts": message.get("ts", ""),
                },
            ),
        )

    def on_log_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        values = input_values(view)
        metadata = json.loads(view.get("private_metadata") or "{}")
        draft = ComplaintDraft(
            description=plain_text(values.get(Block.DESCRIPTION, "")),
            customer_name=values.get(Block.CUSTOMER_NAME, ""),
            customer_contact=values.get(Block.CUSTOMER_CONTACT, ""),
            contact_channel=_choice(ContactChannel, values.get(Block.CONTACT_CHANNEL), ContactChannel.OTHER),
            category=values.get(Block.CATEGORY) if values.get(Block.CATEGORY) in self.services.settings.complaint_categories else "other",
            severity=_choice(Severity, values.get(Block.SEVERITY), Severity.NORMAL),
            owner_id=values.get(Block.OWNER) or user_id,
        )
        try:
            self._check_owner(draft.owner_id)
        except UserFacingError as exc:
            ack(response_action="errors", errors={Block.OWNER: str(exc)})
            return
        try:
            complaint = self._log(draft, user_id, key=f"view:{view['id']}")
        except UserFacingError as exc:
            ack(response_action="errors", errors={Block.DESCRIPTION: str(exc)})
            return
        except DuplicateRequest:
            ack()
            return
        ack()

        def publish() -> None:
            if metadata.get("message_ts"):
                self._attach_permalink(client, complaint, metadata["channel"], metadata["message_ts"])
            problems = self._publish_new(client, complaint)
            channel = self.services.settings.complaints_channel
            text = views.confirmation(complaint, channel if channel and not problems else None)
            text += "".join(f"\n:warning: {problem}." for problem in problems)
            suggestions = complaint_suggestions(self.services, complaint.description)
            self._tell(client, user_id, metadata.get("channel", ""), text, views.confirmation_blocks(text, suggestions))

        self.services.after_ack(publish)

    # ----- buttons on the complaint message and their small forms ------------------------
    def on_button(self, ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = (body.get("channel") or {}).get("id", "")
        chosen = Action(action["action_id"])
        try:
            complaint_id = service.parse_reference(action.get("value", ""))
            if chosen in FORM_ACTIONS:
                with self.services.open_session() as session:
                    complaint = service.get_complaint(session, complaint_id)
                if chosen in MANAGE_ACTIONS and not self.services.permissions.can_manage(user_id, complaint):
                    raise service.refusal(complaint, chosen.removeprefix("complaint_"))
                client.views_open(trigger_id=body["trigger_id"], view=views.change_modal(chosen, complaint))
                return
            change = Change(chosen, complaint_id, user_id)
            complaint, previous_owner = self._apply(change, key=f"action:{body.get('trigger_id') or action.get('action_ts')}")
        except UserFacingError as exc:
            self._tell(client, user_id, channel_id, f":warning: {exc}")
            return
        except DuplicateRequest:
            return
        self._publish_change_later(
            client, complaint, previous_owner, user_id, tell=lambda text: self._tell(client, user_id, channel_id, text)
        )

    def on_change_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        values = input_values(view)
        value = values.get(Block.NOTE, "")
        action = Action(metadata["action"])
        score = int(values[Block.SCORE]) if values.get(Block.SCORE, "").isdigit() else None
        change = Change(action, int(metadata["id"]), user_id, text=value, score=score)
        try:
            if action is Action.REASSIGN:
                self._check_owner(value)
                change = Change(action, change.complaint_id, user_id, new_owner_id=value)
            complaint, previous_owner = self._apply(change, key=f"view:{view['id']}")
        except UserFacingError as exc:
            ack(response_action="errors", errors={Block.NOTE: str(exc)[:2000]})
            return
        except DuplicateRequest:
            ack()
            return
        ack()
        self._publish_change_later(
            client, complaint, previous_owner, user_id, tell=lambda text: self._tell(client, user_id, "", text)
        )

    # ----- shared steps -----------------------------------------------------------------
    def _sla(self, complaint: Complaint) -> SlaStatus:
        settings = self.services.settings
        return sla_status(complaint, now=self.services.clock(), targets=settings.targets, due_soon=settings.due_soon)

    def _check_owner(self, user_id: str) -> None:
        try:
            user = self.users.lookup(user_id)
        except PeopleUnavailable:
            logger.warning("users.info failed for %s; accepting the owner unchecked", user_id)
            return
        if user is None:
            raise InvalidInput(f"I can't find <@{user_id}> in this workspace.")
        if not user.can_own_work:
            raise InvalidInput(f"<@{user_id}> can't own complaints (a bot or a deactivated account).")

    def _log(self, draft: ComplaintDraft, reporter_id: str, *, key: str) -> Complaint:
        return run_once(
            self.services.open_session,
            key=key,
            now=self.services.clock(),
            work=lambda session: service.log_complaint(
                session, draft=draft, reporter_id=reporter_id, now=self.services.clock()
            ),
            summary=lambda complaint: f"logged as {complaint.reference}",
        )

    def _apply(self, change: Change, *, key: str) -> tuple[Complaint, str]:
        now = self.services.clock()
        permissions = self.services.permissions

        def work(session):
            previous_owner = service.get_complaint(session, change.complaint_id).owner_id
            common = {"complaint_id": change.complaint_id, "actor_id": change.actor_id, "now": now}
            match change.action:
                case Action.TAKE:
                    complaint = service.take(session, **common)
                case Action.REASSIGN:
                    complaint = service.assign(session, new_owner_id=change.new_owner_id, permissions=permissions, **common)
                case Action.RESPONDED:
                    complaint = service.record_response(session, note=change.text, **common)
                case Action.NOTE:
                    complaint = service.add_note(session, note=change.text, **common)
                case Action.RESOLVE:
                    complaint = service.resolve(
                        session, resolution=change.text, permissions=permissions, score=change.score, **common
                    )
                case Action.RATE:
                    complaint = service.rate(session, score=change.score, comment=change.text, **common)
                case Action.FOLLOWED_UP:
                    complaint = service.record_follow_up(session, note=change.text, **common)
                case Action.REOPEN:
                    complaint = service.reopen(session, permissions=permissions, **common)
            return complaint, previous_owner

        return run_once(
            self.services.open_session, key=key, now=now, work=work,
            summary=lambda result: f"{result[0].reference} was already updated",
        )

    def _publish_new(self, client: WebClient, complaint: Complaint) -> list[str]:
        """Post the team's copy and DM the owner; return what went wrong, in words."""
        problems = self._post_team_copy(client, complaint)
        if complaint.owner_id != complaint.reporter_id:
            problems += self._notify_owner(client, complaint, complaint.reporter_id)
        return problems

    def _post_team_copy(self, client: WebClient, complaint: Complaint) -> list[str]:
        channel = self.services.settings.complaints_channel
        if not channel:
            return []
        try:
            blocks = views.complaint_message(complaint, self._sla(complaint))
            posted = client.chat_postMessage(channel=channel, text=views.summary_text(complaint), blocks=blocks)
            with self.services.open_session() as session:
                current = service.set_message_location(
                    session, complaint_id=complaint.id, channel=posted["channel"], ts=posted["ts"]
                )
                session.commit()
            complaint.slack_channel, complaint.slack_ts = posted["channel"], posted["ts"]
        except Exception as exc:  # noqa: BLE001 — any failure is reported, the complaint is kept
            logger.warning("posting %s to %s failed: %s", complaint.reference, channel, exc)
            return [f"I couldn't post it to <#{channel}>: {slack_error_text(exc)}"]
        # A change made while the post was on its way had no message to update yet.
        if views.complaint_message(current, self._sla(current)) != blocks:
            return self._update_team_message(client, current)
        return []

    def post_missing_team_copies(self, client: WebClient) -> None:
        """Scheduled: post the team's copy of complaints whose first post failed (Slack
        down, the bot not yet in the channel), once per RETRY_EVERY, across processes."""
        if not self.services.settings.complaints_channel:
            return
        now = self.services.clock()
        with self.services.open_session() as session:
            waiting = service.unposted(session, logged_after=now - RETRY_FOR, logged_before=now - RETRY_AFTER)
        attempt = int(now.timestamp() // RETRY_EVERY.total_seconds())
        for complaint in waiting:
            try:
                run_once(self.services.open_session, key=f"team-copy:{complaint.id}:{attempt}", now=now,
                         work=lambda _: None)
            except DuplicateRequest:
                continue  # another process has this one
            if not self._post_team_copy(client, complaint):
                logger.info("posted the team's copy of %s on a later try", complaint.reference)

    def _publish_change_later(self, client: WebClient, complaint: Complaint, previous_owner: str, actor_id: str, *,
                              tell: Callable[[str], None]) -> None:
        """Update the team's copy and tell a new owner, on the publisher threads; problems go to `tell`."""

        def publish() -> None:
            for problem in self._publish_change(client, complaint, previous_owner, actor_id):
                tell(f":warning: The change is saved, but {problem}.")

        self.services.after_ack(publish)

    def _publish_change(self, client: WebClient, complaint: Complaint, previous_owner: str, actor_id: str) -> list[str]:
        if not complaint.slack_ts:
            # The team's copy may have been posted while this change was being made.
            with self.services.open_session() as session:
                complaint.slack_channel, complaint.slack_ts = service.message_location(session, complaint.id)
        problems = self._update_team_message(client, complaint) if complaint.slack_ts else []
        if complaint.owner_id not in (previous_owner, actor_id):
            problems += self._notify_owner(client, complaint, actor_id)
        return problems

    def _update_team_message(self, client: WebClient, complaint: Complaint) -> list[str]:
        try:
            client.chat_update(
                channel=complaint.slack_channel, ts=complaint.slack_ts,
                text=views.summary_text(complaint), blocks=views.complaint_message(complaint, self._sla(complaint)),
            )
        except Exception as exc:  # noqa: BLE001
            logger.warning("updating the message of %s failed: %s", complaint.reference, exc)
            return [f"I couldn't update the team's message: {slack_error_text(exc)}"]
        return []

    def _notify_owner(self, client: WebClient, complaint: Complaint, actor_id: str) -> list[str]:
        try:
            client.chat_postMessage(channel=complaint.owner_id, text=views.owner_notice(complaint, actor_id))
        except Exception as exc:  # noqa: BLE001
            return [f"I couldn't message the new owner: {slack_error_text(exc)}"]
        return []

    def _attach_permalink(self, client: WebClient, complaint: Complaint, channel: str, message_ts: str) -> None:
        try:
            permalink = client.chat_getPermalink(channel=channel, message_ts=message_ts)["permalink"]
        except Exception as exc:  # noqa: BLE001 — the link is a nicety
            logger.info("no permalink for %s: %s", complaint.reference, exc)
            return
        with self.services.open_session() as session:
            service.set_source_permalink(session, complaint_id=complaint.id, permalink=permalink)
            session.commit()
        complaint.source_permalink = permalink

    def _tell(self, client: WebClient, user_id: str, channel_id: str, text: str, blocks: list[dict] | None = None) -> None:
        tell(client, user_id, channel_id, text, blocks)


def input_values(view: dict) -> dict[str, str]:
    """The submitted value of every input block in a modal, by block_id."""
    values = {}
    for block_id, elements in (view.get("state") or {}).get("values", {}).items():
        element = elements.get(Action.INPUT) or {}
        values[block_id] = (
            element.get("value")
            or (element.get("selected_option") or {}).get("value")
            or element.get("selected_user")
            or ""
        )
    return values


def _choice(enum, value, default):
    try:
        return enum(value)
    except ValueError:
        return default


def register(app: App, services: Services) -> None:
    listeners = ComplaintListeners(services)
    app.command(Command.COMPLAINT.value)(listeners.on_command)
    app.shortcut(Shortcut.LOG_FROM_MESSAGE.value)(listeners.on_message_shortcut)
    app.view(View.LOG_COMPLAINT.value)(listeners.on_log_submitted)
    app.view(View.COMPLAINT_CHANGE.value)(listeners.on_change_submitted)
    app.action(re.compile("^complaint_(take|responded|note|reassign|resolve|reopen|followed_up)$"))(listeners.on_button)

    def post_missing_team_copies() -> None:
        listeners.post_missing_team_copies(app.client)

    services.scheduled_jobs.append(post_missing_team_copies)
