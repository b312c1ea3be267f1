"""Slack listeners for complaints: `/complaint`, its modals, buttons and message shortcut.

Each listener parses the payload into a `ComplaintDraft` or a `Change`, calls the
domain (`bot.complaints`, `bot.complaint_changes`) and renders with
`handlers.complaint_views`. Database work happens before `ack()` (it takes
milliseconds and means a complaint is saved before anyone is told so); Web API calls
happen after it: on the publisher threads (`Services.after_ack`) for the listeners run
on the request's thread, which include posting or updating the team's copy
(`handlers.team_copy`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import complaints as service
from bot.complaint_changes import Applied, Change, Verb, apply_change, check_allowed
from bot.complaint_text import HelpRequest, OpenModal, Subcommand, help_text, parse, parse_edit, parse_merge, plain_text
from bot.complaints import ComplaintDraft
from bot.customer_history import customer_history, earlier_complaints
from bot.errors import DuplicateRequest, InvalidInput, UserFacingError
from bot.knowledge.suggestions import articles_for_complaint
from bot.mentions import mentioned_users
from bot.people import PeopleUnavailable
from bot.request_dedup import run_once
from bot.scheduler import every
from bot.services import Services
from bot.team_copies import RETRY_TICK_SECONDS
from handlers import complaint_form_views as form_views
from handlers import complaint_followers, complaint_search, complaint_thread, surveys, team_copy
from handlers import complaint_views as views
from handlers.complaint_edit_form import EditForm
from handlers.forms import choice, input_values, private_metadata
from handlers.ids import Action, Block, Command, Shortcut, View
from handlers.knowledge_views import suggestion_blocks
from handlers.messaging import guarded, replace_answer, tell
from models.complaints import Complaint, ContactChannel, Severity

logger = logging.getLogger(__name__)

# The buttons that open a small form first; the others change the complaint at once.
FORM_ACTIONS = (Action.NOTE, Action.RESPONDED, Action.RESOLVE, Action.REASSIGN, Action.FOLLOWED_UP,
                Action.WAITING, Action.CUSTOMER_REPLIED)
VERB_OF_ACTION = {
    Action.TAKE: Verb.TAKE,
    Action.REASSIGN: Verb.ASSIGN,
    Action.RESPONDED: Verb.RESPONDED,
    Action.NOTE: Verb.NOTE,
    Action.RESOLVE: Verb.RESOLVE,
    Action.FOLLOWED_UP: Verb.FOLLOWED_UP,
    Action.REOPEN: Verb.REOPEN,
    Action.WAITING: Verb.WAIT,
    Action.CUSTOMER_REPLIED: Verb.CUSTOMER_REPLIED,
    Action.RESUME: Verb.RESUME,
}
VERB_OF_SUBCOMMAND = {
    "take": Verb.TAKE,
    "assign": Verb.ASSIGN,
    "responded": Verb.RESPONDED,
    "note": Verb.NOTE,
    "resolve": Verb.RESOLVE,
    "reopen": Verb.REOPEN,
    "rate": Verb.RATE,
    "followed-up": Verb.FOLLOWED_UP,
    "edit": Verb.EDIT,
    "merge": Verb.MERGE,
    "waiting": Verb.WAIT,
    "customer-replied": Verb.CUSTOMER_REPLIED,
    "resume": Verb.RESUME,
}


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
                modal = form_views.log_complaint_modal(
                    categories=self.services.settings.complaint_categories,
                    reporter_id=user_id,
                    metadata={"channel": command.get("channel_id", "")},
                )
                # Within the trigger's 3 s life: the publisher threads are never that far behind.
                self.services.after_ack(lambda: client.views_open(trigger_id=command["trigger_id"], view=modal))
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
        suggestions = self._suggestions(complaint)
        repeat = self._repeat_line(complaint)
        text = views.confirmation(complaint, channel, posted=None, repeat=repeat)
        ack(text=text, blocks=views.confirmation_blocks(text, suggestions))

        def publish() -> None:
            posted, problems = team_copy.publish_new(self.services, client, complaint)
            if (not channel or posted is None) and not problems:
                return  # still true: the copy is on its way (the retry job posts it, and says so)
            # The confirmation said the copy is on its way; now say what happened.
            text = views.confirmation(complaint, channel, posted=posted, repeat=repeat)
            text += "".join(f"\n:warning: {complaint.reference} is saved, but {problem}." for problem in problems)
            if not replace_answer(respond, text, views.confirmation_blocks(text, suggestions)) and problems:
                tell(client, user_id, "", text)

        if channel or complaint.owner_id != complaint.reporter_id:  # else there is nothing to post
            self.services.after_ack(publish)

    def _run_subcommand(self, ack, respond, client, sub: Subcommand, user_id: str, trigger_id: str) -> None:
        if sub.name in complaint_search.SUBCOMMANDS:
            text, blocks = complaint_search.listing(self.services, sub, user_id=user_id)
            ack(text=text, blocks=blocks)
            return
        if sub.name == "customer":
            with self.services.open_session() as session:
                history = customer_history(session, customer=plain_text(sub.rest))
            ack(text=f"Complaints from {plain_text(sub.rest)[:100]}", blocks=views.customer_history_blocks(
                history, asked=plain_text(sub.rest)))
            return
        if not sub.args:
            raise InvalidInput(f"Which complaint? For example `/complaint {sub.name} C-42`.")
        complaint_id = service.parse_reference(sub.args[0])
        if sub.name == "survey":
            ack(text=surveys.survey_link_again(self.services, complaint_id))
            return
        if sub.name in complaint_followers.SUBCOMMANDS:
            ack(text=complaint_followers.answer(self.services, sub.name, complaint_id=complaint_id, user_id=user_id))
            return
        if sub.name == "show":
            with self.services.open_session() as session:
                complaint = service.get_complaint(session, complaint_id)
                events = service.history(session, complaint_id)
                earlier = earlier_complaints(session, complaint=complaint)
            sla = team_copy.sla_now(self.services, complaint)
            # The reply is seen by the asker alone; the contact only by those who work on it.
            show_contact = self.services.permissions.can_manage(user_id, complaint)
            ack(text=views.summary_text(complaint), blocks=views.complaint_details(
                complaint, events, sla, earlier=earlier, show_contact=show_contact))
            return
        change = self._typed_change(VERB_OF_SUBCOMMAND[sub.name], complaint_id, user_id, sub.rest)
        applied = self._apply(change, key=f"command:{trigger_id}")
        survey = team_copy.survey_line(self.services, applied.complaint) if applied.verb is Verb.RESOLVE else ""
        ack(text=views.done_text(applied) + survey)
        self._publish_change_later(client, applied, user_id, tell=lambda text: respond(text=text), survey_told=True)

    def _typed_change(self, verb: Verb, complaint_id: int, user_id: str, rest: str) -> Change:
        """`/complaint <verb> C-42 <what follows>` as a change."""
        after_reference = plain_text(rest.partition(" ")[2]).strip()
        if verb is Verb.ASSIGN:
            owners = mentioned_users(rest)
            if len(owners) != 1:
                raise InvalidInput("Mention the new owner, e.g. `/complaint assign C-42 @alex`.")
            self._check_owner(owners[0])
            return Change(verb, complaint_id, user_id, new_owner_id=owners[0])
        if verb is Verb.RATE:
            score, _, comment = after_reference.partition(" ")
            return Change(verb, complaint_id, user_id, text=comment.strip(), score=service.parse_score(score))
        if verb is Verb.EDIT:
            edit = parse_edit(after_reference, categories=self.services.settings.complaint_categories)
            return Change(verb, complaint_id, user_id, edit=edit)
        if verb is Verb.MERGE:
            return Change(verb, complaint_id, user_id, into_id=parse_merge(after_reference.split()))
        return Change(verb, complaint_id, user_id, text=after_reference)

    # ----- the log modal ------------------------------------------------------------
    def on_message_shortcut(self, ack: Ack, shortcut: dict, client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        client.views_open(
            trigger_id=shortcut["trigger_id"],
            view=form_views.log_complaint_modal(
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
        metadata = private_metadata(view)
        draft = ComplaintDraft(
            description=plain_text(values.get(Block.DESCRIPTION, "")),
            customer_name=values.get(Block.CUSTOMER_NAME, ""),
            customer_contact=values.get(Block.CUSTOMER_CONTACT, ""),
            contact_channel=choice(ContactChannel, values.get(Block.CONTACT_CHANNEL), ContactChannel.OTHER),
            category=values.get(Block.CATEGORY) if values.get(Block.CATEGORY) in self.services.settings.complaint_categories else "other",
            severity=choice(Severity, values.get(Block.SEVERITY), Severity.NORMAL),
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
            posted, problems = team_copy.publish_new(self.services, client, complaint)
            channel = self.services.settings.complaints_channel
            text = views.confirmation(complaint, channel, posted=posted, repeat=self._repeat_line(complaint))
            text += "".join(f"\n:warning: {problem}." for problem in problems)
            blocks = views.confirmation_blocks(text, self._suggestions(complaint))
            tell(client, user_id, metadata.get("channel", ""), text, blocks)

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
                check_allowed(verb=VERB_OF_ACTION[chosen], actor_id=user_id, complaint=complaint,
                              permissions=self.services.permissions)
                client.views_open(trigger_id=body["trigger_id"], view=form_views.change_modal(chosen, complaint))
                return
            change = Change(VERB_OF_ACTION[chosen], complaint_id, user_id)
            applied = self._apply(change, key=f"action:{body.get('trigger_id') or action.get('action_ts')}")
        except UserFacingError as exc:
            tell(client, user_id, channel_id, f":warning: {exc}")
            return
        except DuplicateRequest:
            return
        self._publish_change_later(client, applied, user_id, tell=lambda text: tell(client, user_id, channel_id, text))

    def on_change_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        metadata = private_metadata(view)
        values = input_values(view)
        verb = VERB_OF_ACTION[Action(metadata["action"])]
        score = int(values[Block.SCORE]) if values.get(Block.SCORE, "").isdigit() else None
        complaint_id = int(metadata["id"])
        if verb is Verb.ASSIGN:
            new_owner_id = values.get(Block.OWNER, "")
            try:
                self._check_owner(new_owner_id)
            except UserFacingError as exc:
                ack(response_action="errors", errors={Block.OWNER: str(exc)[:2000]})
                return
            change = Change(verb, complaint_id, user_id, new_owner_id=new_owner_id)
            error_block = Block.OWNER
        else:
            change = Change(verb, complaint_id, user_id, text=values.get(Block.NOTE, ""), score=score)
            error_block = Block.NOTE
        self.save_from_form(ack, client, view, change, error_block=error_block)

    # ----- shared steps -----------------------------------------------------------------
    def save_from_form(self, ack: Ack, client: WebClient, view: dict, change: Change, *, error_block: str) -> None:
        """Apply what a form asked for: a refusal stays on the form, beside `error_block`."""
        try:
            applied = self._apply(change, key=f"view:{view['id']}")
        except UserFacingError as exc:
            ack(response_action="errors", errors={error_block: str(exc)[:2000]})
            return
        except DuplicateRequest:
            ack()
            return
        ack()
        user_id = change.actor_id
        self._publish_change_later(client, applied, user_id, tell=lambda text: tell(client, user_id, "", text))

    def _repeat_line(self, complaint: Complaint) -> str:
        if not complaint.customer_key:
            return ""  # an unknown customer has no earlier complaints, and no session is needed to say so
        with self.services.open_session() as session:
            return views.repeat_line(earlier_complaints(session, complaint=complaint))

    def _suggestions(self, complaint: Complaint) -> list[dict]:
        return suggestion_blocks(articles_for_complaint(self.services.knowledge, complaint.description))

    def _check_owner(self, user_id: str) -> None:
        try:
            user = self.users.lookup(user_id, quick=True)
        except PeopleUnavailable:
            logger.warning("users.info failed for %s; accepting the owner unchecked", user_id)
            return
        if user is None:
            raise InvalidInput(f"I can't find <@{user_id}> in this workspace.")
        if not user.can_own_work:
            raise InvalidInput(f"<@{user_id}> can't own complaints (a bot or a deactivated account).")

    def _log(self, draft: ComplaintDraft, reporter_id: str, *, key: str) -> Complaint:
        now = self.services.clock()
        row = service.new_complaint_row(draft=draft, reporter_id=reporter_id, now=now)
        return self.services.complaint_writer.log(row, key=key, now=now)

    def _apply(self, change: Change, *, key: str) -> Applied:
        now = self.services.clock()
        return run_once(
            self.services.open_session, key=key, now=now,
            work=lambda session: apply_change(session, change=change, permissions=self.services.permissions, now=now),
            summary=lambda applied: f"{applied.complaint.reference} was already updated",
        )

    def _publish_change_later(self, client: WebClient, applied: Applied, actor_id: str, *,
                              tell: Callable[[str], None], survey_told: bool = False) -> None:
        """Update the team's copy (and its thread), tell a new owner and the followers, on the
        publisher threads; problems go to `tell`, and so does a resolution's survey link unless
        the answer had it (`survey_told`)."""

        def publish() -> None:
            if applied.verb is Verb.RESOLVE and not survey_told:
                survey = team_copy.survey_line(self.services, applied.complaint).strip()
                if survey:
                    tell(survey)
            problems = team_copy.publish_change(
                self.services, client, applied.complaint, applied.previous_owner_id, actor_id,
                resolved=applied.verb is Verb.RESOLVE,
            )
            for other in applied.also_changed:
                problems += team_copy.publish_change(self.services, client, other, other.owner_id, actor_id)
            problems += complaint_followers.tell_followers(self.services, client, applied, actor_id)
            for problem in problems:
                tell(f":warning: The change is saved, but {problem}.")

        self.services.after_ack(publish)

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


def register(app: App, services: Services) -> None:
    listeners = ComplaintListeners(services)
    # These hand every Web API call after their ack to the publisher threads.
    app.command(Command.COMPLAINT.value)(guarded(listeners.on_command, on_request_thread=True))
    app.view(View.LOG_COMPLAINT.value)(guarded(listeners.on_log_submitted, on_request_thread=True))
    app.view(View.COMPLAINT_CHANGE.value)(guarded(listeners.on_change_submitted, on_request_thread=True))
    app.shortcut(Shortcut.LOG_FROM_MESSAGE.value)(guarded(listeners.on_message_shortcut))
    edit_form = EditForm(services, save=listeners.save_from_form)
    app.action(Action.EDIT.value)(guarded(edit_form.on_button))
    app.view(View.EDIT_COMPLAINT.value)(guarded(edit_form.on_submitted))
    app.action(re.compile(f"^({'|'.join(VERB_OF_ACTION)})$"))(guarded(listeners.on_button))

    def post_missing_team_copies() -> None:
        team_copy.post_missing_team_copies(services, app.client)

    def post_due_thread_replies() -> None:
        complaint_thread.post_due_replies(services, app.client)

    services.scheduled_jobs.extend([every(RETRY_TICK_SECONDS, post_missing_team_copies), post_due_thread_replies])
