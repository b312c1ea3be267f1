"""Writing knowledge-base articles in tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_article(folder: Path, path: str, title: str | None, *, body: str = "Some useful text.", **meta) -> Path:
    """Write `folder/path` with front matter from `title` and `meta` (keys as in the format)."""
    front = ({"title": title} if title is not None else {}) | meta
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body + "\n"
    target.write_text(text, encoding="utf-8")
    return target


def write_sample(folder: Path) -> Path:
    """A small knowledge base: three categories, five articles."""
    write_article(folder, "returns/returns-and-exchanges.md", "Returns and exchanges",
                  tags=["returns", "exchange"], owner="UADMIN0005", updated="2026-01-10",
                  questions=["customer wants to return an item", "can they swap it for another size"],
                  body="Customers may return items within **30 days**.\n\n1. Check the receipt\n2. Offer an exchange first\n\n"
                       "See [refunds](refunds.md) and <https://example.com/policy>.")
    write_article(folder, "returns/refunds.md", "Refunds", tags=["refund", "money back"],
                  questions=["how long does a refund take", "customer was charged twice"],
                  body="Refunds reach the customer's account in 5 working days. Use `REFUND-FAST` for urgent cases.")
    write_article(folder, "complaints/taking-ownership.md", "Taking ownership of a complaint", owner="UBOB00002",
                  updated="2026-11-01", tags=["ownership"],
                  questions=["who owns this complaint", "how do I take a complaint"],
                  body="Press **Take ownership** on the complaint, or type `/complaint take C-42`.")
    write_article(folder, "complaints/escalation.md", "Escalation paths", questions=["when do I escalate to a manager"],
                  body="- Safety issues: call the duty manager\n- Legal threats: tell legal the same day")
    write_article(folder, "privacy-requests.md", "Privacy and data requests",
                  questions=["customer asks for a copy of their data", "delete my personal data"],
                  body="Forward every data request to privacy@example.com within one day.")
    return folder
