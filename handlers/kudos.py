"""Slack listeners for kudos: `/kudos`, its form, the Recognise button and emoji reactions.

Rules live in `bot.kudos`; this module parses payloads, looks people up (bots and
deactivated accounts can't receive kudos), and tells everyone concerned: the post in
KUDOS_CHANNEL, a direct message to each recipient, and a confirmation to the giver.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import kudos as service
from bot.services import Services
from bot.complaint_text import HelpRequest, OpenModal
from bot.complaints import parse_reference
from bot.errors import DuplicateRequest, UserFacingError
from bot.kudos import Gift, KudosDraft, KudosRefused, KudosRules
from bot.kudos_text import StatsRequest, help_text, parse, plain_reason
from handlers import kudos_views as views
from handlers.forms import input_values, private_metadata
from handlers.messaging import guarded, tell
from handlers.ids import Action, Block, Command, Event, View
from handlers.text import not_posted_text, slack_error_text, truncate
from bot.people import PeopleDirectory
from models.kudos import KudosSource

logger = logging.getLogger(__name__)

MESSAGE_IN_REASON = 300
# Which form field a refused rule is about.
FORM_BLOCKS = {
    "recipients": Block.KUDOS_RECIPIENTS,
    "value": Block.KUDOS_VALUE,
    "reason": Block.KUDOS_REASON,
    "complaint": Block.KUDOS_COMPLAINT,
}


class KudosListeners:
    def __init__(self, services: Services, users: PeopleDirectory) -> None:
        self.services = services
        self.settings = services.settings
        self.users = users
        self.rules = KudosRules.from_settings(services.settings)

    # ----- /kudos -----------------------------------------------------------------------
    def on_command(self, ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        user_id = command["user_id"]
        try:
            parsed = parse(command.get("text", ""), values=self.settings.kudos_values)
        except UserFacingError as exc:
            ack(text=f":warning: {exc}")
            return
        if isinstance(parsed, OpenModal):
            ack()
            client.views_open(
                trigger_id=command["trigger_id"],
                view=views.kudos_modal(values=self.settings.kudos_values, metadata={"channel": command.get("channel_id", "")}),
            )
        elif isinstance(parsed, HelpRequest):
            ack(text=help_text(parsed.hint, values=self.settings.kudos_values, emoji=self.settings.kudos_emoji))
        elif isinstance(parsed, StatsRequest):
            with self.services.open_session() as session:
                stats = service.stats(session, user_id=user_id, today=self.rules.day_of(self.services.clock()))
            ack(text=views.stats_text(stats), blocks=views.stats_blocks(stats))
        else:
            # Looking people up takes Web API calls: acknowledge first, answer through respond().
            ack()
            draft = KudosDraft(
                recipients=parsed.recipients,
                reason=plain_reason(parsed.reason, name_of=self.users.display_name),
                value=parsed.value,
                complaint_id=parsed.complaint_id,
            )
            try:
                gift = self._give(draft, user_id, KudosSource.COMMAND, key=f"command:{command['trigger_id']}")
            except UserFacingError as exc:
                respond(text=f":warning: {exc}")
                return
            except DuplicateRequest:
                respond(text="Already done: those kudos were given.")
                return
            respond(text=self._confirmation(gift, self._publish(client, gift)))

    # ----- the kudos form ------------------------------------------------------------------
    def on_form_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        metadata = private_metadata(view)
        state = (view.get("state") or {}).get("values", {})
        recipients = (state.get(Block.KUDOS_RECIPIENTS, {}).get(Action.INPUT) or {}).get("selected_users") or []
        values = input_values(view)
        try:
            reference = values.get(Block.KUDOS_COMPLAINT, "").strip()
            complaint_id = parse_reference(reference) if reference else None
        except UserFacingError as exc:
            ack(response_action="errors", errors={Block.KUDOS_COMPLAINT: str(exc)})
            return
        draft = KudosDraft(tuple(recipients), values.get(Block.KUDOS_REASON, ""), values.get(Block.KUDOS_VALUE, ""), complaint_id)
        try:
            gift = self._give(draft, user_id, KudosSource.MODAL, key=f"view:{view['id']}")
        except KudosRefused as exc:
            ack(response_action="errors", errors={FORM_BLOCKS[exc.about]: str(exc)[:2000]})
            return
        except DuplicateRequest:
            ack()
            return
        ack()
        tell(client, user_id, metadata.get("channel", ""), self._confirmation(gift, self._publish(client, gift)))

    # ----- the Recognise button on a resolved complaint -----------------------------------------
    def on_recognise(self, ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = (body.get("channel") or {}).get("id", "")
        try:
            complaint_id = parse_reference(action.get("value", ""))
            with self.services.open_session() as session:
                draft = service.resolution_draft(session, complaint_id=complaint_id)
            # One per person and complaint, however often the button is pressed.
            gift = self._give(draft, user_id, KudosSource.BUTTON, key=f"button:{complaint_id}:{user_id}")
        except UserFacingError as exc:
            tell(client, user_id, channel_id, f":warning: {exc}")
            return
        except DuplicateRequest:
            tell(client, user_id, channel_id, f"You have already recognised <@{draft.recipients[0]}> for C-{complaint_id}.")
            return
        tell(client, user_id, channel_id, self._confirmation(gift, self._publish(client, gift)))

    # ----- emoji reactions ------------------------------------------------------------------------
    def on_reaction_added(self, event: dict, client: WebClient, context: BoltContext) -> None:
        if not self._is_kudos_reaction(event, context):
            return
        giver_id, recipient_id = event["user"], event["item_user"]
        channel, message_ts = event["item"]["channel"], event["item"]["ts"]
        try:
            gift = service.give_for_reaction(
                self.services.open_session, giver_id=giver_id, recipient_id=recipient_id, channel=channel,
                message_ts=message_ts, reason=self._message_reason(client, channel, message_ts), rules=self.rules,
                now=self.services.clock(), ineligible_ids=self._ineligible([recipient_id]),
            )
        except UserFacingError as exc:
            tell(client, giver_id, channel, f":warning: {exc}")
            return
        except DuplicateRequest:
            return
        for problem in self._publish(client, gift):
            tell(client, giver_id, channel, f":warning: Your kudos counts, but {problem}.")

    def on_reaction_removed(self, event: dict, client: WebClient, context: BoltContext) -> None:
        if not self._is_kudos_reaction(event, context):
            return
        recognition = service.revoke_reaction(
            self.services.open_session, giver_id=event["user"], recipient_id=event["item_user"],
            channel=event["item"]["channel"], message_ts=event["item"]["ts"], now=self.services.clock(),
        )
        if recognition is not None and recognition.post_ts:
            try:
                client.chat_delete(channel=recognition.post_channel, ts=recognition.post_ts)
            except SlackApiError as exc:
                logger.warning("could not delete the withdrawn kudos post: %s", slack_error_text(exc))

    def _is_kudos_reaction(self, event: dict, context: BoltContext) -> bool:
        # Skin tones arrive as `thumbsup::skin-tone-2`; reactions on the bot's own posts
        # (people starring a kudos announcement) are applause, not new kudos.
        item = event.get("item") or {}
        return (
            (event.get("reaction") or "").split("::")[0] == self.settings.kudos_emoji
            and item.get("type") == "message"
            and bool(item.get("channel") and item.get("ts") and event.get("user") and event.get("item_user"))
            and event["item_user"] != context.bot_user_id
        )

    def _message_reason(self, client: WebClient, channel: str, message_ts: str) -> str:
        try:
            history = client.conversations_history(channel=channel, latest=message_ts, inclusive=True, limit=1)
            text = next((m.get("text", "") for m in history.get("messages", []) if m.get("ts") == message_ts), "")
        except SlackApiError as exc:
            logger.info("could not read the starred message: %s", slack_error_text(exc))
            text = ""
        text = truncate(plain_reason(text, name_of=self.users.display_name), MESSAGE_IN_REASON)
        return f"for their message: {text}" if text else "for one of their messages"

    # ----- shared steps -------------------------------------------------------------------------------
    def _give(self, draft: KudosDraft, giver_id: str, source: KudosSource, *, key: str) -> Gift:
        return service.give(
            self.services.open_session, giver_id=giver_id, draft=draft, source=source, dedup_key=key,
            rules=self.rules, now=self.services.clock(), ineligible_ids=self._ineligible(draft.recipients),
        )

    def _ineligible(self, user_ids: Iterable[str]) -> set[str]:
        user_ids = set(user_ids)
        return user_ids - set(self.users.people(user_ids))

    def _publish(self, client: WebClient, gift: Gift) -> list[str]:
        """Announce the kudos and tell each recipient; return what went wrong, in words."""
        problems = []
        emoji = self.settings.kudos_emoji
        giver_name = self.users.display_name(gift.giver_id)
        permalink = self._permalink(client, gift)
        channel = self.settings.kudos_channel
        if channel:
            try:
                posted = client.chat_postMessage(
                    channel=channel,
                    text=views.announcement_text(gift, giver_name=giver_name, emoji=emoji, permalink=permalink),
                    blocks=views.announcement(gift, giver_name=giver_name, emoji=emoji, permalink=permalink),
                )
                service.set_post_location(
                    self.services.open_session, recognition_ids=gift.recognition_ids, channel=posted["channel"], ts=posted["ts"]
                )
            except Exception as exc:  # noqa: BLE001 — the kudos is saved; say what failed
                logger.warning("posting kudos to %s failed: %s", channel, exc)
                problems.append(not_posted_text(exc, f"<#{channel}>"))
        for recipient in gift.recipients:
            try:
                client.chat_postMessage(
                    channel=recipient, text=views.recipient_notice(gift, giver_name=giver_name, emoji=emoji, permalink=permalink)
                )
            except Exception as exc:  # noqa: BLE001
                problems.append(not_posted_text(exc, f"<@{recipient}>"))
        return problems

    def _permalink(self, client: WebClient, gift: Gift) -> str:
        if not gift.message_ts:
            return ""
        try:
            return client.chat_getPermalink(channel=gift.message_channel, message_ts=gift.message_ts)["permalink"]
        except SlackApiError as exc:
            logger.info("no permalink for a starred message: %s", slack_error_text(exc))
            return ""

    def _confirmation(self, gift: Gift, problems: list[str]) -> str:
        posted_to = self.settings.kudos_channel if self.settings.kudos_channel and not problems else None
        text = views.giver_confirmation(gift, posted_to=posted_to)
        return text + "".join(f"\n:warning: Your kudos counts, but {problem}." for problem in problems)


def register(app: App, services: Services) -> None:
    listeners = KudosListeners(services, services.people)
    app.command(Command.KUDOS.value)(guarded(listeners.on_command))
    app.view(View.GIVE_KUDOS.value)(guarded(listeners.on_form_submitted))
    app.action(Action.RECOGNISE.value)(guarded(listeners.on_recognise))
    app.event(Event.REACTION_ADDED.value)(guarded(listeners.on_reaction_added))
    app.event(Event.REACTION_REMOVED.value)(guarded(listeners.on_reaction_removed))
