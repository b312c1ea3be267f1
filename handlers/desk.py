"""`/desk`: managers' tools, one entry per subcommand in `SUBCOMMANDS`.

Every subcommand is for managers and admins only (MANAGER_IDS, ADMIN_IDS); anyone
else gets a polite refusal. Features add their subcommands to the table (the digest
adds `digest` and `export`); `help` lists them. Slow work happens after `ack()` and
its result comes back through `respond`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Services
from bot.complaint_text import plain_text
from bot.errors import UserFacingError
from bot.morale import morale_report, report_end
from handlers import morale_views
from handlers.complaints import slack_error_text
from handlers.ids import Command
from handlers.text import escape
from handlers.users import UserDirectory, channel_members, shared_directory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeskRequest:
    user_id: str
    args: list[str]
    ack: Ack
    respond: Respond
    client: WebClient


@dataclass(frozen=True)
class Subcommand:
    usage: str
    run: Callable[[DeskListeners, DeskRequest], None]


class DeskListeners:
    def __init__(self, services: Services, users: UserDirectory) -> None:
        self.services = services
        self.users = users

    def on_command(self, ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        user_id = command["user_id"]
        words = plain_text(command.get("text", "")).split()
        name = words[0].lower() if words else "help"
        if not self.services.settings.is_manager(user_id):
            ack(text="Sorry, `/desk` is for managers and admins. If you need a report, ask one of them.")
            return
        subcommand = SUBCOMMANDS.get(name)
        if subcommand is None:
            ack(text=help_text(f"I don't know `/desk {escape(name[:30])}`." if name != "help" else ""))
            return
        try:
            subcommand.run(self, DeskRequest(user_id, words[1:], ack, respond, client))
        except UserFacingError as exc:
            ack(text=f":warning: {exc}")

    # ----- /desk morale ------------------------------------------------------------------------
    def morale(self, request: DeskRequest) -> None:
        request.ack()
        settings = self.services.settings
        staff, note = self._staff_channel_people(request.client)
        with self.services.open_session() as session:
            report = morale_report(
                session, end=report_end(self.services.clock(), settings.zone), zone=settings.zone,
                daily_limit=settings.kudos_daily_limit, staff_ids=staff,
            )
        names = {user_id: self.users.display_name(user_id) for user_id in morale_views.people_shown(report)}
        request.respond(
            text=morale_views.morale_text(report), blocks=morale_views.morale_blocks(report, names, note=note),
            response_type="ephemeral", replace_original=False,
        )

    def _staff_channel_people(self, client: WebClient) -> tuple[list[str], str]:
        """People in STAFF_CHANNEL (bots left out), and a note for the reader if it couldn't be read."""
        channel = self.services.settings.staff_channel
        if not channel:
            return [], ""
        try:
            members = channel_members(client, channel)
        except SlackApiError as exc:
            logger.warning("conversations.members failed for %s: %s", channel, exc)
            return [], (
                f":warning: I couldn't read the members of <#{channel}> ({slack_error_text(exc)}), "
                "so only people with recent activity count as staff."
            )
        return self.users.people(members), ""


SUBCOMMANDS: dict[str, Subcommand] = {
    "morale": Subcommand("`/desk morale` — kudos this week, who has gone unrecognised, and what looks gamed", DeskListeners.morale),
}


def help_text(hint: str = "") -> str:
    lines = [hint] if hint else []
    lines.append("*Managers' desk*:")
    lines += [f"• {subcommand.usage}" for subcommand in SUBCOMMANDS.values()]
    lines.append("• `/desk help` — this list")
    return "\n".join(lines)


def register(app: App, services: Services) -> None:
    app.command(Command.DESK.value)(DeskListeners(services, shared_directory(app.client)).on_command)
