"""Counting the bot's Web API requests and their errors (bot/metrics.py).

slack_sdk shows the outcome of every attempt to its retry handlers, and Bolt gives
the client it builds for each request the app client's handlers, so one handler,
first in the list, sees every call the bot makes; it never asks for a retry itself.
"""

from __future__ import annotations

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import SLACK_API_ERRORS, SLACK_API_REQUESTS, slack_error, slack_method


class WebApiMeter(RetryHandler):
    def can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = slack_method(request.url.split("?", 1)[0].rsplit("/", 1)[-1])
        SLACK_API_REQUESTS.labels(method).inc()
        failure = failure_of(response, error)
        if failure:
            SLACK_API_ERRORS.labels(method, failure).inc()
        return False


def failure_of(response: HttpResponse | None, error: Exception | None) -> str | None:
    """What went wrong with one attempt, as a bounded label value; None if nothing did."""
    if response is None:
        if error is None:
            return None
        # urllib wraps a socket timeout in URLError(reason=TimeoutError(...)).
        return "timeout" if isinstance(getattr(error, "reason", error), TimeoutError) else "connection_error"
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    return slack_error(body.get("error")) if body.get("ok") is False else None
