"""`servicedesk report WHICH`: reports for managers, printed in the terminal."""

from __future__ import annotations

from bot.app import morale_cli, quality_cli


def register_cli(subparsers) -> None:
    report = subparsers.add_parser("report", help="print a report for managers")
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="WHICH")
    morale_cli.add_report(kinds)
    quality_cli.add_report(kinds)
