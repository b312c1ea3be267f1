"""The customer's answer to “how likely are you to recommend us?” (0–10), in words.

The bands are the Net Promoter Score's: 9–10 promoters, 7–8 passives, 0–6 detractors.
Each band has one name here, so a score reads the same wherever it shows (`show`, the
team's message, a customer's history, the digest): “9/10 — very happy”.
"""

from __future__ import annotations

import re

PROMOTER_FROM = 9
PASSIVE_FROM = 7
VERY_HAPPY, SATISFIED, UNHAPPY = "very happy", "satisfied", "unhappy"
# A score in the history is kept as its event's note: `9/10`, or `9/10: their comment`.
RATED_NOTE = re.compile(r"^(\d{1,2})/10(?:: (.*))?$", re.DOTALL)


def band(score: int) -> str:
    if score >= PROMOTER_FROM:
        return VERY_HAPPY
    return SATISFIED if score >= PASSIVE_FROM else UNHAPPY


def score_text(score: int) -> str:
    """`9/10 — very happy`."""
    return f"{score}/10 — {band(score)}"


def rated_note(score: int, comment: str) -> str:
    """What a score's event keeps: `9/10` or `9/10: their comment`."""
    return f"{score}/10" + (f": {comment}" if comment else "")


def read_rated_note(note: str) -> tuple[int | None, str]:
    """A score's event note back as (score, comment); (None, note) for any other text."""
    match = RATED_NOTE.match(note or "")
    if not match:
        return None, note
    return int(match.group(1)), match.group(2) or ""
