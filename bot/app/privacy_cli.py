"""`servicedesk privacy export|erase|log`: answering a customer's request to see or
erase their data, and the audit trail of every such request."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import replace

from bot import privacy, redactions
from bot.clock import system_clock
from bot.config import load_settings
from bot.services import build_services, make_client
from handlers.privacy import pending_line, redact_in_slack
from handlers.users import UserDirectory
from models.db import make_engine, session_factory, unit_of_work, upgrade


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _open_session():
    settings = load_settings()
    upgrade(settings.database_url)
    return settings, make_engine(settings.database_url)


def run_export(args: argparse.Namespace) -> int:
    _, engine = _open_session()
    try:
        with unit_of_work(session_factory(engine)) as session:
            data = privacy.export_customer(session, customer=args.customer, actor=_actor(), now=system_clock())
    finally:
        engine.dispose()
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def run_erase(args: argparse.Namespace) -> int:
    settings, engine = _open_session()
    try:
        open_session = session_factory(engine)
        with open_session() as session:
            found = privacy.customer_complaints(session, customer=args.customer)
        if any(complaint.slack_ts for complaint in found) and not settings.slack_bot_token:
            print("servicedesk: the customer's complaints are shown in Slack; set SLACK_BOT_TOKEN so their "
                  "team messages are redacted too. Nothing was erased.", file=sys.stderr)
            return 2
        if not args.yes:
            references = ", ".join(complaint.reference for complaint in found) or "no complaints"
            print(f"This redacts the customer in {references}. Run again with --yes to do it.", file=sys.stderr)
            return 1
        with unit_of_work(open_session) as session:
            erasure = privacy.erase_customer(session, customer=args.customer, actor=_actor(), now=system_clock())
    finally:
        engine.dispose()
    if not erasure.complaint_ids:
        print("No complaints from that customer; nothing to erase (the request is recorded).")
        return 0
    print(f"Redacted the customer in {', '.join(erasure.references)}.")
    return _refresh_slack(settings, erasure.complaint_ids)


def _refresh_slack(settings, complaint_ids: list[int]) -> int:
    """Show the redacted complaints again in Slack (their team messages and the thread
    replies that named the customer); 1 if some could not be, with one line saying which
    (they stay pending: the running bot tries them again, handlers/privacy.py)."""
    if not settings.slack_bot_token:
        return 0  # checked before erasing: none of them is in Slack
    engine = make_engine(settings.database_url)
    try:
        client = make_client(settings)
        # Thread replies name people, so the directory is needed to show them again.
        services = replace(build_services(settings, engine=engine, clock=system_clock), people=UserDirectory(client))
        redact_in_slack(services, client, complaint_ids=complaint_ids)
        problem = pending_line(services, complaint_ids)
    finally:
        engine.dispose()
    if problem:
        print(f"servicedesk: {problem}", file=sys.stderr)
    return 1 if problem else 0


def run_log(args: argparse.Namespace) -> int:
    _, engine = _open_session()
    try:
        with session_factory(engine)() as session:
            records = privacy.privacy_log(session, limit=args.limit)
            waiting = redactions.pending(session)
    finally:
        engine.dispose()
    for redaction in waiting:
        print(f"pending: {redaction.what}, still to be redacted in Slack; tried {redaction.tries} time(s), next "
              f"{redaction.due_at.isoformat(timespec='seconds')}" + (f" ({redaction.error})" if redaction.error else ""))
    for record in records:
        print(f"{record.at.isoformat(timespec='seconds')}  {record.action:<9}  {record.actor or '-':<20}  "
              f"{record.customer_fingerprint or '-':<40}  {record.complaint_ids or '-'}")
    return 0


def _customer(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("give the customer's e-mail address, phone number or name")
    return text


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser("privacy", help="see or erase what is held about a customer; the audit log")
    commands = parser.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    export = commands.add_parser("export", help="print everything held about a customer as JSON")
    export.add_argument("--customer", required=True, type=_customer, help="their e-mail address, phone number or name")
    export.set_defaults(run=run_export)
    erase = commands.add_parser("erase", help="redact a customer everywhere (complaints, history, notes)")
    erase.add_argument("--customer", required=True, type=_customer, help="their e-mail address, phone number or name")
    erase.add_argument("--yes", action="store_true", help="do it (without it, only say what would be redacted)")
    erase.set_defaults(run=run_erase)
    log = commands.add_parser("log", help="every export, erasure and retention run, newest first")
    log.add_argument("--limit", type=int, default=100)
    log.set_defaults(run=run_log)
