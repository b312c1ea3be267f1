"""Retrying a Web API call only when Slack surely never had it.

slack_sdk's `ConnectionErrorRetryHandler` sends a request again after any connection
error, also a reset or an end of stream after the request went out. By then Slack may
have acted on it: a chat.postMessage re-sent that way posts the team's copy or a DM
twice. `UndeliveredRetry` sends it again only when no request can have reached Slack:
the connection was refused, the host's name did not resolve, or connecting timed out
(no connection, so no request). A connection cut after sending, or an answer that did
not come in time, may have been acted on: the caller is told (the exception is raised)
and decides, knowing the outcome is unknown (handlers/team_copy.py looks in the channel
before posting again; a DM is not sent again, bot/owner_notices.py).

The errors come in two shapes: bot/web_api_client.py raises urllib's URLError `from`
urllib3's own error (NewConnectionError, NameResolutionError, ConnectTimeoutError);
urllib itself (slack_sdk's plain WebClient) wraps the connect step's OSError in a
URLError and raises what breaks while reading the answer as it is.
"""

from __future__ import annotations

import socket
from urllib.error import URLError

import urllib3
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# urllib3's errors raised before any byte of the request was sent.
_NEVER_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
# The socket's errors that mean no connection was made.
_NO_CONNECTION = (ConnectionRefusedError, socket.gaierror)


def surely_undelivered(error: BaseException) -> bool:
    """Whether the call surely never reached Slack (no connection was made)."""
    seen: BaseException | None = error
    for _ in range(6):  # a short chain: URLError, urllib3's error, the socket's error
        if seen is None:
            return False
        if isinstance(seen, _NEVER_SENT + _NO_CONNECTION):
            return True
        if isinstance(seen, URLError) and isinstance(seen.reason, _NO_CONNECTION):
            return True
        seen = seen.__cause__
    return False


def surely_not_acted_on(error: BaseException) -> bool:
    """Slack answered with an error, or never had the call: nothing was posted or changed.
    Anything else (a timeout, a connection dropped mid-call) leaves it unknown."""
    return isinstance(error, SlackApiError) or surely_undelivered(error)


class UndeliveredRetry(RetryHandler):
    """Tries a call again (once, after a short back-off, by default) when it surely
    never reached Slack; never when Slack may have acted on it."""

    def _can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and error is not None and surely_undelivered(error)
