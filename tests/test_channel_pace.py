"""Slack's pace for posting in a channel (bot/channel_pace.py): a short burst at once,
then one slot a second; a post that would wait too long is refused a slot, and a 429's
Retry-After holds every channel back."""

from __future__ import annotations

from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.channel_pace import ChannelPacer, RetryAfterHold


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_one_a_second():
    clock = Monotonic()
    pacer = ChannelPacer(1.0, burst=3, monotonic=clock)
    assert [pacer.reserve("C1", max_wait=None) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    # Another channel has its own pace.
    assert pacer.reserve("C2", max_wait=None) == 0.0
    clock.now += 10
    assert pacer.reserve("C1", max_wait=None) == 0.0


def test_a_slot_too_far_away_is_not_taken():
    clock = Monotonic()
    pacer = ChannelPacer(0.5, burst=1, monotonic=clock)
    assert pacer.reserve("C1", max_wait=2.0) == 0.0
    assert pacer.reserve("C1", max_wait=2.0) == 2.0
    assert pacer.backlog("C1") == 4.0
    assert pacer.reserve("C1", max_wait=2.0) is None
    assert pacer.backlog("C1") == 4.0  # the refusal took nothing
    clock.now += 4
    assert pacer.reserve("C1", max_wait=2.0) == 0.0


def test_a_429_to_chat_post_message_holds_every_channel_for_its_retry_after():
    clock = Monotonic()
    pacer = ChannelPacer(1.0, monotonic=clock)
    hold = RetryAfterHold(pacer)
    request = HttpRequest(method="POST", url="https://slack.com/api/chat.postMessage", headers={})
    limited = HttpResponse(status_code=429, headers={"Retry-After": ["7"]})
    assert hold.can_retry(state=RetryState(), request=request, response=limited) is False  # never retries itself
    assert pacer.reserve("C1", max_wait=None) == 7.0
    assert pacer.reserve("C9", max_wait=1.0) is None
    other = HttpRequest(method="POST", url="https://slack.com/api/chat.update", headers={})
    fresh = ChannelPacer(1.0, monotonic=clock)
    RetryAfterHold(fresh).can_retry(state=RetryState(), request=other, response=limited)
    assert fresh.reserve("C1", max_wait=None) == 0.0
