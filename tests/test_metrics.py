"""The metric definitions and their labels: bounded values only, and nothing counted before use."""

from __future__ import annotations

import struct

import pytest
from prometheus_client import Metric, multiprocess
from slack_sdk.http_retry.response import HttpResponse

from bot import metrics
from bot.app.listener_metrics import request_labels
from bot.app.metrics_endpoint import SettledFilesCollector
from bot.web_api_meter import failure_of


def test_every_metric_has_labels_so_none_holds_a_value_before_it_is_used():
    # share_between_processes relies on it: a labelled metric makes a value only for
    # each set of labels used, and one made before the workers fork would stay in the
    # memory of the process that made it.
    defined = [value for value in vars(metrics).values() if hasattr(value, "_labelnames")]
    assert len(defined) == 9
    assert all(metric._labelnames for metric in defined)


def test_request_labels_name_the_listener_or_say_other():
    assert request_labels({"command": "/kb", "text": "refunds"}) == ("command", "/kb")
    assert request_labels({"type": "block_actions", "actions": [{"action_id": "kb_helpful"}]}) == (
        "block_actions", "kb_helpful")
    assert request_labels({"type": "view_submission", "view": {"callback_id": "complaint_log"}}) == (
        "view_submission", "complaint_log")
    assert request_labels({"type": "message_action", "callback_id": "log_complaint_from_message"}) == (
        "message_action", "log_complaint_from_message")
    assert request_labels({"type": "event_callback", "event": {"type": "reaction_added"}}) == (
        "event", "reaction_added")
    assert request_labels({"type": "view_closed", "view": {"callback_id": "x" * 500}}) == ("view_closed", "other")
    assert request_labels({"type": "something_new"}) == ("other", "other")
    assert request_labels({"type": "block_actions", "actions": []}) == ("block_actions", "other")


def test_web_api_failures_are_named_by_a_few_words():
    def answer(status: int, body: dict | None = None) -> HttpResponse:
        return HttpResponse(status_code=status, headers={}, body=body)

    assert failure_of(answer(200, {"ok": True}), None) is None
    assert failure_of(answer(200, {"ok": False, "error": "channel_not_found"}), None) == "channel_not_found"
    assert failure_of(answer(200, {"ok": False, "error": "Not A Code <script>"}), None) == "other"
    assert failure_of(answer(429), None) == "ratelimited"
    assert failure_of(answer(503), None) == "http_503"
    assert failure_of(None, ConnectionRefusedError(111, "Connection refused")) == "connection_error"
    assert failure_of(None, TimeoutError("timed out")) == "timeout"


def test_a_cached_gauge_reads_once_per_ttl_and_is_left_out_when_the_read_fails():
    now, reads = [0.0], []

    def read() -> float:
        reads.append(now[0])
        if now[0] >= 60:
            raise ConnectionError("database unavailable")
        return 3

    gauge = metrics.CachedGauge("waiting", "Things waiting", read, ttl=30, monotonic=lambda: now[0])

    def values() -> list[float]:
        families: list[Metric] = list(gauge.collect())
        return [sample.value for family in families for sample in family.samples]

    assert values() == [3]
    now[0] = 29
    assert values() == [3] and reads == [0]
    now[0] = 30
    assert values() == [3] and reads == [0, 30]
    now[0] = 60
    assert values() == [] and reads == [0, 30, 60]


def test_a_workers_file_being_created_does_not_fail_the_scrape(tmp_path):
    # Another worker has just created its file and not yet allocated its first page.
    (tmp_path / "counter_4242.db").write_bytes(b"")
    with pytest.raises(struct.error):
        list(multiprocess.MultiProcessCollector(None, path=str(tmp_path)).collect())
    assert list(SettledFilesCollector(None, path=str(tmp_path)).collect()) == []
