"""`/desk`: commands for managers and admins, one entry per subcommand in `SUBCOMMANDS`.

Other features add their subcommands (`digest`, `export`, …) to the table; `help`
lists them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import Services
from bot.morale import morale_report, report_end
from handlers import morale_views
from handlers.complaints import slack_error_text
from handlers.ids import Command
from handlers.text import escape
from handlers.users import UserDirectory, channel_members, shared_directory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeskRequest:
    """One `/desk` call from a manager, already acknowledged: answer through `respond`."""

    services: Services
    users: UserDirectory
    client: WebClient
    respond: Respond
    user_id: str
    args: str
    bot_user_id: str


@dataclass(frozen=True)
class DeskSubcommand:
    usage: str
    run: Callable[[DeskRequest], None]


def staff_channel_people(request: DeskRequest) -> tuple[list[str], str]:
    """People in STAFF_CHANNEL (no bots), and a note for the reader if they couldn't be read."""
    channel = request.services.settings.staff_channel
    if not channel:
        return [], ""
    try:
        members = channel_members(request.client, channel)
    except SlackApiError as exc:
        logger.warning("conversations.members failed for %s: %s", channel, exc)
        return [], f":warning: I couldn't read the members of <#{channel}> ({slack_error_text(exc)}), so only activity counts as staff."
    return request.users.people(m for m in members if m != request.bot_user_id), ""


def run_morale(request: DeskRequest) -> None:
    settings = request.services.settings
    staff, note = staff_channel_people(request)
    with request.services.open_session() as session:
        report = morale_report(
            session, end=report_end(request.services.clock(), settings.zone), zone=settings.zone,
            daily_limit=settings.kudos_daily_limit, staff_ids=staff,
        )
    names = {user_id: request.users.display_name(user_id) for user_id in morale_views.people_shown(report)}
    request.respond(text=morale_views.morale_text(report), blocks=morale_views.morale_blocks(report, names, note=note))


SUBCOMMANDS: dict[str, DeskSubcommand] = {
    "morale": DeskSubcommand("`/desk morale` — kudos this week, who has gone unrecognised, and what looks gamed", run_morale),
}


def help_text(hint: str = "") -> str:
    lines = [hint] if hint else []
    lines.append("*Manager commands*")
    lines += [f"• {subcommand.usage}" for subcommand in SUBCOMMANDS.values()]
    lines.append("• `/desk help` — this message")
    return "\n".join(lines)


def register(app: App, services: Services) -> None:
    users = shared_directory(app.client)

    def on_desk(ack: Ack, command: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
        user_id = command["user_id"]
        if not services.settings.is_manager(user_id):
            ack(text="Sorry, `/desk` is for managers and admins. If you need a report, ask one of them.")
            return
        word, _, args = (command.get("text") or "").strip().partition(" ")
        subcommand = SUBCOMMANDS.get(word.lower())
        if subcommand is None:
            hint = f"I don't know `{escape(word[:30])}`." if word and word.lower() != "help" else ""
            ack(text=help_text(hint))
            return
        ack()
        subcommand.run(DeskRequest(services, users, client, respond, user_id, args.strip(), context.bot_user_id or ""))

    app.command(Command.DESK.value)(on_desk)
