"""Putting user text into Slack messages safely."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError


def escape(text: str) -> str:
    """Escape user text for mrkdwn: `<!channel>` and `<@U1>` typed by a person stay text.

    Slack asks for exactly these three characters to be escaped.
    """
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, marker: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(marker)].rstrip() + marker


def slack_date(moment: datetime, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A date Slack shows in each reader's own time zone."""
    return (
        f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|"
        f"{moment.strftime(fallback_format)}>"
    )


def slack_error_text(exc: Exception) -> str:
    """What went wrong with a Web API call, in words for the person who asked."""
    if isinstance(exc, SlackApiError):
        if exc.response.status_code == 429:
            return "Slack is rate-limiting the bot right now (HTTP 429)"
        return f"Slack answered `{exc.response.get('error', 'unknown_error')}`"
    return "the bot could not reach Slack"
