"""Block Kit for kudos: pure functions from data to messages and the kudos form."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.kudos import MAX_REASON, MAX_RECIPIENTS, STATS_DAYS, Gift, KudosStats
from handlers.blocks import plain, section
from handlers.ids import Action, Block, View
from handlers.text import escape, truncate

REASON_SHOWN = 2_000


def _people(user_ids: Sequence[str]) -> str:
    mentions = [f"<@{user_id}>" for user_id in user_ids]
    return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]


def _details(gift: Gift, permalink: str = "") -> str:
    """`for #value (C-42): “reason”`, the reason escaped so it can't ping anyone."""
    value = f" for *#{gift.value}*" if gift.value else ""
    reference = f" ({gift.complaint_reference})" if gift.complaint_id else ""
    link = f" <{permalink}|See the message>" if permalink else ""
    return f"{value}{reference}: “{escape(truncate(gift.reason, REASON_SHOWN))}”{link}"


def received_line(gift: Gift) -> str:
    """One kudos on the recipient's App Home."""
    return f"• from <@{gift.giver_id}>{_details(gift)}"


def announcement_text(gift: Gift, *, giver_name: str, emoji: str, permalink: str = "") -> str:
    """The public post in KUDOS_CHANNEL: recipients are mentioned, the giver is named."""
    return f":{emoji}: *{escape(giver_name)}* recognised {_people(gift.recipients)}{_details(gift, permalink)}"


def announcement(gift: Gift, *, giver_name: str, emoji: str, permalink: str = "") -> list[dict]:
    how = {"command": "/kudos", "modal": "the kudos form", "button": "a resolved complaint", "reaction": f"a :{emoji}: reaction"}
    return [
        section(announcement_text(gift, giver_name=giver_name, emoji=emoji, permalink=permalink)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Given with {how.get(gift.source, gift.source)}."}]},
    ]


def recipient_notice(gift: Gift, *, giver_name: str, emoji: str, permalink: str = "") -> str:
    return f":{emoji}: *{escape(giver_name)}* gave you kudos{_details(gift, permalink)}"


def giver_confirmation(gift: Gift, *, posted_to: str | None) -> str:
    where = f" It's posted in <#{posted_to}>." if posted_to else ""
    return f"Thank you! You recognised {_people(gift.recipients)}{_details(gift)}.{where}"


def stats_blocks(stats: KudosStats) -> list[dict]:
    def lines(counts: tuple[tuple[str, int], ...]) -> str:
        if not counts:
            return "none yet"
        return "\n".join(f"• {f'#{value}' if value else 'no value'}: {count}" for value, count in counts)

    return [
        section(f"*Your kudos in the last {STATS_DAYS} days*"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Received: {stats.received_total}*\n{lines(stats.received)}"},
                {"type": "mrkdwn", "text": f"*Given: {stats.given_total}*\n{lines(stats.given)}"},
            ],
        },
    ]


def stats_text(stats: KudosStats) -> str:
    return f"In the last {STATS_DAYS} days you received {stats.received_total} kudos and gave {stats.given_total}."


def kudos_modal(*, values: Sequence[str], metadata: dict | None = None) -> dict:
    def text_input(block_id: str, label: str, *, optional: bool, multiline: bool, max_length: int, placeholder: str) -> dict:
        return {
            "type": "input", "block_id": block_id, "optional": optional, "label": plain(label, 2000),
            "element": {
                "type": "plain_text_input", "action_id": Action.INPUT, "multiline": multiline,
                "max_length": max_length, "placeholder": plain(placeholder, 150),
            },
        }

    options = [{"text": plain(f"#{value}", 75), "value": value} for value in values[:100]]
    return {
        "type": "modal",
        "callback_id": View.GIVE_KUDOS,
        "title": plain("Give kudos", 24),
        "submit": plain("Give kudos", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(metadata or {})[:3000],
        "blocks": [
            {
                "type": "input", "block_id": Block.KUDOS_RECIPIENTS, "label": plain("Who are you recognising?", 2000),
                "element": {"type": "multi_users_select", "action_id": Action.INPUT, "max_selected_items": MAX_RECIPIENTS},
            },
            {
                "type": "input", "block_id": Block.KUDOS_VALUE, "optional": True, "label": plain("Which value did they show?", 2000),
                "element": {"type": "static_select", "action_id": Action.INPUT, "options": options},
            },
            text_input(Block.KUDOS_REASON, "What did they do?", optional=False, multiline=True, max_length=MAX_REASON,
                       placeholder="Calmed a furious customer and had the refund sorted in ten minutes"),
            text_input(Block.KUDOS_COMPLAINT, "For a complaint? (optional)", optional=True, multiline=False, max_length=20,
                       placeholder="C-42"),
        ],
    }
