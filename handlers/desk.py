"""`/desk`: managers' tools — the morale report, a preview of the weekly digest, the daily
service-quality index, and exports.

A small table of subcommands, each for managers and admins only (MANAGER_IDS,
ADMIN_IDS); anyone else gets a polite refusal. Slow work (figures over the whole
history, writing a CSV) happens after `ack()`, and its result comes back through
`respond` or as a file in a DM.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.complaint_text import plain_text
from bot.digest import compute_digest
from bot.errors import InvalidInput, UserFacingError
from bot.export import settings_rows, write_csv
from bot.morale import named_report, report_end
from bot.quality_index import daily_index
from bot.services import Services
from bot.weeks import IsoWeek, next_scheduled_week
from handlers import digest_views, morale_views, quality_index_views
from handlers.digest import upload_chart
from handlers.ids import Command
from handlers.messaging import guarded
from handlers.text import escape, slack_error_text

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
    def __init__(self, services: Services) -> None:
        self.services = services

    def on_command(self, ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        user_id = command["user_id"]
        words = plain_text(command.get("text", "")).split()
        name = words[0].lower() if words else "help"
        if not self.services.permissions.is_manager(user_id):
            ack(text="Sorry, `/desk` is for managers and admins. Ask one of them if you need the digest or an export.")
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
        services, settings = self.services, self.services.settings
        named = named_report(
            open_session=services.open_report_session, people=services.people, staff_channel=settings.staff_channel,
            end=report_end(services.clock(), settings.zone), zone=settings.zone,
            daily_limit=settings.kudos_daily_limit, shown=morale_views.people_shown,
        )
        request.respond(
            text=morale_views.morale_text(named.report),
            blocks=morale_views.morale_blocks(named.report, named.names, note=morale_views.staff_note(named.staff)),
            response_type="ephemeral", replace_original=False,
        )

    # ----- /desk digest [YYYY-Www] -----------------------------------------------------------
    def digest(self, request: DeskRequest) -> None:
        settings, now = self.services.settings, self.services.clock()
        if request.args:
            week = IsoWeek.parse(request.args[0])
        else:
            week = next_scheduled_week(now, schedule=settings.digest_schedule, zone=settings.zone)
        request.ack(text=f"Working out the digest for {week}…")
        digest = compute_digest(
            open_session=self.services.open_report_session, settings=settings, people=self.services.people, week=week,
            now=now, articles=self.services.knowledge.articles, shown=morale_views.people_shown,
        )
        request.respond(
            text=digest_views.digest_text(digest), blocks=digest_views.digest_blocks(digest),
            response_type="ephemeral", replace_original=False,
        )
        # matplotlib adds about 40 MB to a process: load it only when a chart is drawn.
        from bot.digest_chart import trend_chart

        try:
            dm = request.client.conversations_open(users=request.user_id)["channel"]["id"]
            upload_chart(request.client, dm, digest, trend_chart(digest),
                         comment=f"The chart for your preview of the {digest.week} digest.")
        except Exception as exc:  # noqa: BLE001
            logger.warning("digest chart for %s failed: %s", request.user_id, exc)
            request.respond(text=f":warning: The chart could not be delivered: {slack_error_text(exc)}.",
                            response_type="ephemeral", replace_original=False)

    # ----- /desk sqi [YYYY-MM-DD] --------------------------------------------------------------
    def sqi(self, request: DeskRequest) -> None:
        settings, now = self.services.settings, self.services.clock()
        today = now.astimezone(settings.zone).date()
        day = _day(request.args[0]) if request.args else today
        if day > today:
            raise InvalidInput(f"{day} is still to come: give today's date or an earlier one, like {today}.")
        request.ack()
        rules = settings.sqi_rules
        with self.services.open_report_session() as session:
            index = daily_index(session, day=day, zone=settings.zone, now=now, rules=rules)
        request.respond(
            text=quality_index_views.index_text([index]), blocks=quality_index_views.index_blocks([index], rules),
            response_type="ephemeral", replace_original=False,
        )

    # ----- /desk export complaints [from] [to] -------------------------------------------------
    def export(self, request: DeskRequest) -> None:
        kind, *dates = request.args or [""]
        if kind.lower() != "complaints":
            raise InvalidInput("Say what to export: `/desk export complaints [from] [to]`, dates like 2026-11-01.")
        if len(dates) > 2:
            raise InvalidInput("Give at most two dates: `/desk export complaints 2026-11-01 2026-11-30`.")
        first, last = (_day(text) for text in (dates + ["", ""])[:2])
        if first and last and last < first:
            raise InvalidInput(f"The export would end ({last}) before it starts ({first}).")
        zone = self.services.settings.zone
        since = datetime.combine(first, time.min, tzinfo=zone) if first else None
        until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone) if last else None
        span = f" from {first or 'the start'} to {last or 'today'}" if first or last else ""
        request.ack(text=f"Preparing the complaints export{span}; it will arrive as a file in your DMs.")
        filename = f"complaints-{first or 'start'}-to-{last or 'now'}.csv"
        try:
            with tempfile.NamedTemporaryFile("w+", suffix=".csv", encoding="utf-8", newline="") as out:
                rows = self._write_csv(out, since=since, until=until)
                out.flush()
                dm = request.client.conversations_open(users=request.user_id)["channel"]["id"]
                request.client.files_upload_v2(
                    channel=dm, file=out.name, filename=filename, title=f"Complaints{span}",
                    initial_comment=f"Your export: {rows:,} complaint{'s' if rows != 1 else ''}{span}.",
                )
        except Exception as exc:  # noqa: BLE001
            logger.warning("export for %s failed: %s", request.user_id, exc)
            request.respond(text=f":warning: The export could not be delivered: {slack_error_text(exc)}.",
                            response_type="ephemeral", replace_original=False)

    def _write_csv(self, out, *, since: datetime | None, until: datetime | None) -> int:
        """Stream the rows to `out` (memory stays flat however many there are); return how many."""
        with self.services.open_session() as session:
            settings, now = self.services.settings, self.services.clock()
            return write_csv(settings_rows(session, settings, now=now, since=since, until=until), out)


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"“{text[:20]}” is not a date; write it like 2026-11-01.") from None


SUBCOMMANDS: dict[str, Subcommand] = {
    "morale": Subcommand("`/desk morale` — kudos this week, who has gone unrecognised, and what looks gamed", DeskListeners.morale),
    "digest": Subcommand("`/desk digest [2026-W47]` — preview the weekly digest (the coming one by default), its chart in your DMs", DeskListeners.digest),
    "sqi": Subcommand("`/desk sqi [2026-11-20]` — the service-quality index of a day (today so far by default)", DeskListeners.sqi),
    "export": Subcommand("`/desk export complaints [from] [to]` — every complaint as CSV, sent to you in a DM", DeskListeners.export),
}


def help_text(hint: str = "") -> str:
    lines = [hint] if hint else []
    lines.append("*Managers' desk*:")
    lines += [f"• {subcommand.usage}" for subcommand in SUBCOMMANDS.values()]
    return "\n".join(lines)


def register(app: App, services: Services) -> None:
    app.command(Command.DESK.value)(guarded(DeskListeners(services).on_command))
