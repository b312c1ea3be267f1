"""The Slack side of the morale report: STAFF_CHANNEL's members, people's names, and
the morale section of the weekly digest."""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk import WebClient
from sqlmodel import Session

from bot.services import Services
from bot.digest import DigestSection, Period, SectionProvider
from bot.morale import MoraleReport, morale_report
from handlers import morale_views
from bot.people import PeopleUnavailable
from handlers.users import UserDirectory

logger = logging.getLogger(__name__)


def staff_channel_people(services: Services, client: WebClient) -> tuple[list[str], str]:
    """People in STAFF_CHANNEL (bots left out), and a note for the reader if it couldn't be read."""
    channel = services.settings.staff_channel
    if not channel:
        return [], ""
    people = directory(services, client)
    try:
        members = people.members(channel)
    except PeopleUnavailable as exc:
        logger.warning("conversations.members failed for %s: %s", channel, exc)
        return [], (
            f":warning: I couldn't read the members of <#{channel}> ({exc}), "
            "so only people with recent activity count as staff."
        )
    return people.people(members), ""


def directory(services: Services, client: WebClient):
    """The app's directory, or (at the terminal, with no app) one over `client`."""
    return services.people or UserDirectory(client)


def named_report(services: Services, session: Session, *, end: date, client: WebClient | None) -> tuple[MoraleReport, dict[str, str], str]:
    """The report for the days before `end`, the names it shows, and a note on staff (or "").

    Without a client (the terminal, without a token) people are shown by ID.
    """
    settings = services.settings
    staff, note = staff_channel_people(services, client) if client else ([], "")
    report = morale_report(session, end=end, zone=settings.zone, daily_limit=settings.kudos_daily_limit, staff_ids=staff)
    if client is None:
        return report, {}, note
    users = directory(services, client)
    return report, {user_id: users.display_name(user_id) for user_id in morale_views.people_shown(report)}, note


def digest_section(services: Services, client: WebClient | None) -> SectionProvider:
    """The morale report for the digest's week (its Monday to Sunday, in TZ)."""

    def provide(session: Session, period: Period) -> DigestSection:
        report, names, note = named_report(services, session, end=period.end.astimezone(period.zone).date(), client=client)
        lines = morale_views.morale_lines(report, names) + ([note] if note else [])
        return DigestSection("morale", "Morale", lines, report.as_dict(names))

    return provide
