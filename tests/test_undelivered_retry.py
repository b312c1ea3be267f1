"""A Web API call is sent again only when it surely never reached Slack
(bot/undelivered_retry.py): each failure made for real against the bot's own client."""

from __future__ import annotations

import socket
from urllib.error import URLError

import pytest
import urllib3
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator, RetryHandler

from bot.app.console.slack_emulator import SlackEmulator
from bot.undelivered_retry import UndeliveredRetry, surely_not_acted_on, surely_undelivered
from bot.web_api_client import PooledWebClient
from tests.running import free_port


@pytest.fixture
def emulator():
    slack = SlackEmulator().start()
    yield slack
    slack.stop()


class Attempts(RetryHandler):
    """First in the list, it sees every attempt (as bot/web_api_meter.py does)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Exception | None] = []

    def can_retry(self, *, state, request, response=None, error=None) -> bool:
        self.seen.append(error)
        return False


def client(base_url: str, *, timeout: float = 5, attempts: Attempts | None = None) -> PooledWebClient:
    retry = UndeliveredRetry(interval_calculator=FixedValueRetryIntervalCalculator(0))
    return PooledWebClient(token="xoxb-test", base_url=base_url, timeout=timeout,
                           retry_handlers=[attempts or Attempts(), retry])


def post(web: PooledWebClient) -> Exception:
    with pytest.raises(Exception) as raised:
        web.chat_postMessage(channel="C1", text="hello")
    return raised.value


def test_a_refused_connection_is_sent_again():
    attempts = Attempts()
    error = post(client(f"http://127.0.0.1:{free_port()}/api/", attempts=attempts))
    assert len(attempts.seen) == 2  # the first try and one more, both refused
    assert surely_undelivered(error) and surely_not_acted_on(error)


def test_a_call_cut_off_after_slack_acted_is_not_sent_again(emulator):
    emulator.cut("chat.postMessage")
    error = post(client(emulator.api_url))
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert len(emulator.messages) == 1  # it was posted, although the bot never heard
    assert not surely_undelivered(error) and not surely_not_acted_on(error)


def test_a_call_that_timed_out_waiting_for_the_answer_is_not_sent_again(emulator):
    stall = emulator.stall("chat.postMessage", seconds=5)
    error = post(client(emulator.api_url, timeout=0.3))
    stall.release()
    assert stall.answered.wait(5)
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert not surely_undelivered(error)


def test_an_error_slack_answered_was_not_acted_on(emulator):
    emulator.fail("chat.postMessage", "channel_not_found")
    error = post(client(emulator.api_url))
    assert isinstance(error, SlackApiError)
    assert surely_not_acted_on(error) and not surely_undelivered(error)


def wrapped(cause: Exception) -> URLError:
    """A URLError raised from urllib3's error, as bot/web_api_client.py raises it."""
    try:
        raise URLError(TimeoutError(str(cause))) from cause
    except URLError as error:
        return error


@pytest.mark.parametrize("error, undelivered", [
    (wrapped(urllib3.exceptions.ConnectTimeoutError(None, "connect timed out")), True),
    (wrapped(urllib3.exceptions.NameResolutionError("slack.com", None, socket.gaierror(-2, "Name unknown"))), True),
    (URLError(socket.gaierror(-2, "Name or service not known")), True),  # plain urllib's DNS failure
    (URLError(ConnectionRefusedError(111, "Connection refused")), True),
    (wrapped(urllib3.exceptions.ReadTimeoutError(None, "/api/chat.postMessage", "read timed out")), False),
    (URLError(ConnectionResetError(104, "Connection reset by peer")), False),
    (TimeoutError("timed out"), False),  # plain urllib's timeout while reading the answer
], ids=["connect-timeout", "dns-urllib3", "dns-urllib", "refused", "read-timeout", "reset", "urllib-read-timeout"])
def test_only_errors_before_any_byte_was_sent_count_as_undelivered(error, undelivered):
    assert surely_undelivered(error) is undelivered
