"""E-mailing a customer their survey link after resolution: once per complaint (claimed in
the delivery ledger), only to a contact that is an e-mail address, never to an address
that unsubscribed, and only over STARTTLS (a server that does not offer it gets nothing).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, col, select

from bot import delivery_ledger
from bot.people import first_name
from bot.services import Services
from bot.survey_links import SurveyLinks, address_fingerprint, links_for
from models.complaints import Complaint
from models.surveys import SurveyAnswer, Unsubscribe

logger = logging.getLogger(__name__)
MAIL_KIND = "survey-mail"
ADDRESS = re.compile(r"^[^@\s<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
SMTP_TIMEOUT = 10
# A link in a header is one long word: folded at 78 characters it would be turned into
# encoded words that mail programs do not read as a link; 998 is the line limit of RFC 5322.
MAIL_POLICY = policy.default.clone(max_line_length=998)


def is_email_address(contact: str) -> bool:
    return bool(ADDRESS.match(contact.strip()))


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://user:password@host:port (port 587 unless given); user and password may be %-encoded."""
        parts = urlsplit(url)
        return cls(parts.hostname or "", parts.port or 587, unquote(parts.username or ""), unquote(parts.password or ""))


def send_message(server: SmtpServer, message: EmailMessage, *, ca_file: str = "") -> None:
    """Send over STARTTLS, checking the server's certificate (against `ca_file` when given)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    with smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT) as smtp:
        smtp.ehlo()
        # Raises SMTPNotSupportedError when the server offers no STARTTLS: nothing goes in the clear.
        smtp.starttls(context=context)
        smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password)
        smtp.send_message(message)


def survey_email(*, to: str, sender: str, company: str, owner_name: str, logged_at: datetime, survey_url: str,
                 unsubscribe_url: str, days: int) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = formataddr((company, sender))
    message["To"] = to
    message["Subject"] = f"How did we do? A two-minute question from {company}"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # One-click unsubscribe (RFC 8058): mail programs show an Unsubscribe button.
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    who = f"{owner_name} and the team" if owner_name else "The team"
    message.set_content(
        f"Hello,\n\n"
        f"You told us about a problem on {logged_at:%d %B %Y}, and we have done our best to put it right.\n"
        f"Would you tell us how we did? It takes two minutes:\n\n{survey_url}\n\n"
        f"The link works for {days} days, and you can change your answer until then.\n\n"
        f"{who} at {company}\n\n"
        f"--\nNo more of these e-mails: {unsubscribe_url}\n"
    )
    return message


def sender_address(settings) -> str:
    return settings.smtp_from or f"servicedesk@{urlsplit(settings.public_url).hostname}"


def due_for_mail(session: Session, *, since: datetime) -> list[Complaint]:
    """Complaints resolved since `since` whose customer has not answered yet."""
    answered = select(SurveyAnswer.complaint_id).where(SurveyAnswer.complaint_id == Complaint.id).exists()
    statement = select(Complaint).where(
        col(Complaint.resolved_at) >= since, col(Complaint.status) == "resolved", Complaint.customer_contact != "", ~answered,
    ).order_by(col(Complaint.resolved_at))
    return [c for c in session.exec(statement) if is_email_address(c.customer_contact)]


def is_unsubscribed(session: Session, address: str) -> bool:
    return session.get(Unsubscribe, address_fingerprint(address)) is not None


def unsubscribe(session: Session, *, fingerprint: str, now: datetime) -> None:
    if session.get(Unsubscribe, fingerprint) is None:
        session.add(Unsubscribe(address_fingerprint=fingerprint, at=now))


class SurveyMailJob:
    """Scheduled: e-mail the survey link of each complaint resolved within SURVEY_DAYS, once."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def __call__(self) -> None:
        settings = self.services.settings
        links = links_for(settings)
        if links is None or not settings.smtp_url:
            return
        now = self.services.clock()
        with self.services.open_session() as session:
            due = due_for_mail(session, since=now - links.lifetime)
            due = [c for c in due if not is_unsubscribed(session, c.customer_contact)]
            settled = delivery_ledger.settled_keys(session, [f"{MAIL_KIND}:{c.id}" for c in due], now=now)
        for complaint in due:
            key = f"{MAIL_KIND}:{complaint.id}"
            if key in settled or not delivery_ledger.claim_once(self.services.open_session, key=key, kind=MAIL_KIND, now=now):
                continue
            error = self._send(links, complaint, now)
            delivery_ledger.finish(self.services.open_session, keys=[key], now=self.services.clock(), error=error)

    def _send(self, links: SurveyLinks, complaint: Complaint, now: datetime) -> str:
        settings = self.services.settings
        address = complaint.customer_contact.strip()
        message = survey_email(
            to=address, sender=sender_address(settings), company=settings.company_name,
            owner_name=first_name(self.services.people, complaint.owner_id), logged_at=complaint.created_at,
            survey_url=links.survey_url(complaint.id, issued_at=complaint.resolved_at),
            unsubscribe_url=links.unsubscribe_url(address, issued_at=now), days=settings.survey_days,
        )
        try:
            send_message(SmtpServer.from_url(settings.smtp_url), message, ca_file=settings.smtp_ca_file)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("the survey e-mail for %s failed: %s", complaint.reference, exc)
            return f"{type(exc).__name__}: {exc}"
        logger.info("e-mailed the survey of %s", complaint.reference)
        return ""

