"""Putting user text into Slack messages safely."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.undelivered_retry import surely_not_acted_on, surely_undelivered


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
    if surely_undelivered(exc):
        return "the bot could not reach Slack"
    if _timed_out(exc):
        return "Slack did not answer in time"
    return "the connection to Slack broke before Slack answered"


def _timed_out(exc: BaseException | None) -> bool:
    for _ in range(6):
        if exc is None:
            return False
        if isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
            return True
        exc = exc.__cause__
    return False


def not_posted_text(exc: Exception, where: str) -> str:
    """Why a message did not go to `where` ("<#C1>", "the new owner"), in words that stay
    true when Slack may have taken it after all (the call was cut off, or timed out)."""
    if surely_not_acted_on(exc):
        return f"I couldn't post it to {where}: {slack_error_text(exc)}" if where.startswith("<#") \
            else f"I couldn't message {where}: {slack_error_text(exc)}"
    return f"I couldn't tell whether it reached {where} ({slack_error_text(exc)})"
