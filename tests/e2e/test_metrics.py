"""/metrics over HTTP: what the bot did shows in Prometheus' text format, label by label.

Counts belong to the process, and other tests in it count too, so each test reads
/metrics before and after and compares the difference.
"""

from __future__ import annotations

import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import BOB
from tests.knowledge_files import write_sample

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset], float]


def scrape(desk, headers: dict[str, str] | None = None) -> Samples:
    reply = desk.client.get("/metrics", headers=headers)
    assert reply.status == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.text) for sample in family.samples}


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
def kb_desk(tmp_path, make_desk):
    write_sample(tmp_path / "knowledge")
    return make_desk()


def test_metrics_count_commands_buttons_slack_failures_searches_and_jobs(kb_desk, slack, clock):
    desk = kb_desk
    before = scrape(desk)

    assert desk.client.command("#billing charged twice").status == 200
    desk.settle()
    desk.client.action("complaint_take", "1", user=BOB)
    desk.settle()
    slack.fail("chat.postMessage", "channel_not_found")  # the next complaint's team copy is refused
    assert desk.client.command("#delivery the van never came").status == 200
    desk.settle()
    assert desk.client.command("how long does a refund take", command="/kb").status == 200
    assert desk.client.command("where is the parking", command="/kb").status == 200
    desk.tick()
    clock.advance(minutes=1)  # past the half minute the waiting gauge is cached for
    after = scrape(desk)

    assert moved(before, after, "servicedesk_requests_total", kind="command", listener="/complaint") == 2
    assert moved(before, after, "servicedesk_requests_total", kind="command", listener="/kb") == 2
    assert moved(before, after, "servicedesk_requests_total", kind="block_actions", listener="complaint_take") == 1
    assert moved(before, after, "servicedesk_ack_seconds_count", kind="command", listener="/complaint") == 2
    assert moved(before, after, "servicedesk_ack_seconds_count", kind="block_actions", listener="complaint_take") == 1
    assert moved(before, after, "servicedesk_ack_seconds_bucket", kind="command", listener="/kb", le="3.0") == 2
    posts = len(slack.calls_to("chat.postMessage"))
    assert moved(before, after, "servicedesk_slack_api_requests_total", method="chat.postMessage") == posts >= 2
    assert moved(before, after, "servicedesk_slack_api_errors_total",
                 method="chat.postMessage", error="channel_not_found") == 1
    assert moved(before, after, "servicedesk_team_copy_posts_total", outcome="posted") == 1
    assert moved(before, after, "servicedesk_team_copy_posts_total", outcome="failed") == 1
    assert after[("servicedesk_team_copies_waiting", frozenset())] == 1
    assert moved(before, after, "servicedesk_knowledge_searches_total", outcome="answered") == 1
    assert moved(before, after, "servicedesk_knowledge_searches_total", outcome="unanswered") == 1
    assert moved(before, after, "servicedesk_scheduled_job_runs_total", job="post_missing_team_copies") == 1
    assert moved(before, after, "servicedesk_scheduled_job_failures_total", job="post_missing_team_copies") == 0


def test_a_web_api_that_refuses_connections_is_counted_as_connection_errors(make_desk):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        desk = make_desk(slack_api_url=f"http://127.0.0.1:{closed.getsockname()[1]}/api/")
        before = scrape(desk)
        assert desk.client.command("#billing charged twice").status == 200
        desk.settle()
        after = scrape(desk)
    # The first attempt and the one retry slack_sdk makes after a connection error.
    assert moved(before, after, "servicedesk_slack_api_errors_total",
                 method="chat.postMessage", error="connection_error") == 2
    assert moved(before, after, "servicedesk_slack_api_requests_total", method="chat.postMessage") == 2
    assert moved(before, after, "servicedesk_team_copy_posts_total", outcome="failed") == 1


def test_unknown_ids_are_counted_as_other(desk):
    before = scrape(desk)
    desk.client.action("made_up_action_" + "x" * 50, "1")
    desk.client.command("hello", command="/not-ours")
    desk.settle()
    after = scrape(desk)
    assert moved(before, after, "servicedesk_requests_total", kind="block_actions", listener="other") == 1
    assert moved(before, after, "servicedesk_requests_total", kind="command", listener="other") == 1
    assert not any("made_up_action" in str(labels) or "/not-ours" in str(labels) for _, labels in after)


def test_metrics_behind_a_token_refuse_a_scrape_without_it(make_desk):
    desk = make_desk(metrics_token="s3cret-scrape-token")
    refused = desk.client.get("/metrics")
    assert (refused.status, refused.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert desk.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status == 401
    assert "servicedesk_requests_total" in str(scrape(desk, {"Authorization": "Bearer s3cret-scrape-token"}))
    assert desk.client.post("", path="/metrics").status == 405
