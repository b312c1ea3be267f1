"""The weekly digest goes out once per week with its chart; `/desk digest` and `/desk export`.

The clock starts on Monday 2026-11-23 09:00 UTC, when the digest for 2026-W47 falls due.
"""

from __future__ import annotations

import csv
import io
import threading

import pytest

from tests.digest_data import load_known_history
from tests.harness import ALICE, MANAGER

MANAGERS = "CMANAGERS1"


def digests(slack) -> list[tuple[str, str]]:
    return [
        (c.args["channel"], c.args["text"]) for c in slack.calls_to("chat.postMessage")
        if c.args["text"].startswith("Weekly digest")
    ]


@pytest.fixture
def digest_desk(make_desk):
    def make(**overrides):
        return make_desk(**{"manager_channel": MANAGERS, "quiet_hours": "", **overrides})

    return make


def test_the_digest_goes_to_the_channel_and_each_manager_once_with_its_chart(digest_desk, slack, clock):
    desk = digest_desk()
    load_known_history(desk.open_session)
    clock.now = clock.now.replace(hour=8, minute=59)
    desk.tick()  # the bot's first tick: last Monday's digest (for W46) never went out
    slack.reset()
    slack.uploads.clear()
    desk.tick()
    assert digests(slack) == []
    clock.now = clock.now.replace(hour=9, minute=0)
    desk.tick()
    desk.tick()
    clock.advance(days=2)
    desk.tick()
    headline = "Weekly digest 2026-W47: 6 logged, 5 resolved, 3 open"
    assert digests(slack) == [(MANAGERS, headline), (MANAGER, headline)]
    message = [c for c in slack.calls_to("chat.postMessage") if c.args["text"].startswith("Weekly digest")][-1]
    text = str(message.args["blocks"])
    assert "▲ 4 vs 2 the week before" in text and "+25 (4 answers)" in text and "C-8" in text
    # The answers in the words a score has everywhere (bot/satisfaction.py).
    assert "+25 (4 answers)\\n2 very happy · 1 satisfied · 1 unhappy" in text
    uploads = slack.calls_to("files.completeUploadExternal")
    assert [u.args["channel_id"] for u in uploads] == [MANAGERS, "D" + MANAGER[1:]]
    assert all(png.startswith(b"\x89PNG") for png in slack.uploads.values()) and len(slack.uploads) == 2

    clock.now = clock.now.replace(day=30, hour=9)  # next Monday: the next week's digest
    desk.tick()
    assert [text for _, text in digests(slack)][-1].startswith("Weekly digest 2026-W48")
    assert len(digests(slack)) == 4


def test_a_digest_missed_while_the_bot_was_down_is_sent_on_start_under_its_week(digest_desk, slack, clock):
    clock.now = clock.now.replace(day=25, hour=15)  # Wednesday: Monday's digest never went out
    desk = digest_desk(digest_delivery="channel")
    desk.tick()
    assert digests(slack) == [(MANAGERS, "Weekly digest 2026-W47: 0 logged, 0 resolved, 0 open")]


def test_two_bots_on_one_database_send_one_digest(digest_desk, slack, clock):
    first, second = digest_desk(digest_delivery="channel"), digest_desk(digest_delivery="channel")
    threads = [threading.Thread(target=desk.tick) for desk in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.tick()
    assert len(digests(slack)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


def test_schedule_and_time_zone_are_configurable(digest_desk, slack, clock):
    # Friday 17:00 in New York (22:00 UTC): covers the last full week before it.
    desk = digest_desk(digest_schedule="0 17 * * 5", tz="America/New_York", digest_delivery="channel")
    clock.now = clock.now.replace(day=27, hour=21, minute=59)
    desk.tick()
    assert [text for _, text in digests(slack)] == ["Weekly digest 2026-W46: 0 logged, 0 resolved, 0 open"]
    clock.now = clock.now.replace(hour=22, minute=0)
    desk.tick()
    assert [text for _, text in digests(slack)][-1].startswith("Weekly digest 2026-W47")


def test_a_failed_digest_post_is_retried_on_the_next_tick(digest_desk, slack, clock):
    desk = digest_desk(digest_delivery="channel")
    slack.fail("chat.postMessage", "channel_not_found")
    desk.tick()
    desk.tick()
    desk.tick()
    assert len(digests(slack)) == 2  # the refused one, and the retry that went out


# ----- /desk ---------------------------------------------------------------------------------
def test_the_digest_lists_the_top_knowledge_gaps_and_kudos_received_reach_the_app_home(digest_desk, slack, clock):
    desk = digest_desk()
    clock.advance(days=-2)  # in week 47, which the digest due now covers
    for asker in (ALICE, MANAGER):
        desk.client.command("can we ship to the moon <!here>", command="/kb", user=asker)
    desk.client.command(f"<@{MANAGER}|mona> #empathy calmed a furious caller down", command="/kudos", user=ALICE)
    desk.settle()
    clock.advance(days=2)
    desk.client.command("digest 2026-W47", command="/desk", user=MANAGER)
    desk.settle()
    preview = str(slack.calls_to("response_url")[-1].args["blocks"])
    assert "Knowledge gaps, last 30 days" in preview
    assert "*2×* “can we ship to the moon &lt;!here&gt;” (2 unanswered)" in preview
    assert f"asked by <@{MANAGER}>, <@{ALICE}>" in preview  # most recent asker first

    desk.client.event({"type": "app_home_opened", "user": MANAGER, "tab": "home", "channel": "DMANAGER04"})
    desk.settle()
    home = str(slack.calls_to("views.publish")[-1].args["view"])
    assert f"from <@{ALICE}> for *#empathy*: “calmed a furious caller down”" in home


def test_desk_digest_previews_for_managers_only(digest_desk, slack):
    desk = digest_desk()
    load_known_history(desk.open_session)
    refused = desk.client.command("digest", command="/desk", user=ALICE)
    assert "for managers and admins" in refused.text
    reply = desk.client.command("digest 2026-W47", command="/desk", user=MANAGER)
    desk.settle()
    assert "2026-W47" in reply.text
    [preview] = slack.calls_to("response_url")
    assert preview.args["text"].startswith("Weekly digest 2026-W47: 6 logged")
    assert preview.args["response_type"] == "ephemeral"
    assert digests(slack) == []  # a preview is not a send
    # Its chart goes to the manager's DM, before Monday's digest.
    [upload] = slack.calls_to("files.completeUploadExternal")
    assert upload.args["channel_id"] == "D" + MANAGER[1:]
    assert "preview of the 2026-W47 digest" in upload.args["initial_comment"]
    [chart] = slack.uploads.values()
    assert chart.startswith(b"\x89PNG")


def test_desk_digest_says_when_its_chart_could_not_be_delivered(digest_desk, slack):
    desk = digest_desk()
    slack.fail("conversations.open", "missing_scope")
    desk.client.command("digest 2026-W47", command="/desk", user=MANAGER)
    desk.settle()
    preview, warning = slack.calls_to("response_url")
    assert preview.args["text"].startswith("Weekly digest 2026-W47")
    assert warning.args["text"] == ":warning: The chart could not be delivered: Slack answered `missing_scope`."


@pytest.mark.parametrize(
    "text, expected",
    [
        ("digest 2026-W60", "not an ISO week"),
        ("digets", "I don't know `/desk digets`"),
        ("", "Managers' desk"),
        ("export", "Say what to export"),
        ("export kudos", "Say what to export"),
        ("export complaints 2026-13-01", "not a date"),
        ("export complaints 2026-11-30 2026-11-01", "before it starts"),
        ("export complaints 2026-11-01 2026-11-02 2026-11-03", "at most two dates"),
    ],
)
def test_desk_answers_bad_input_clearly(digest_desk, slack, text, expected):
    desk = digest_desk()
    assert expected in desk.client.command(text, command="/desk", user=MANAGER).text
    desk.settle()
    assert slack.calls_to("files.completeUploadExternal") == []


def test_desk_export_sends_a_csv_with_sla_and_satisfaction_columns_to_the_caller(digest_desk, slack):
    desk = digest_desk()
    load_known_history(desk.open_session)
    reply = desk.client.command("export complaints 2026-11-16 2026-11-22", command="/desk", user=MANAGER)
    desk.settle()
    assert "in your DMs" in reply.text
    [opened] = slack.calls_to("conversations.open")
    assert opened.args["users"] == MANAGER
    [upload] = slack.calls_to("files.completeUploadExternal")
    assert upload.args["channel_id"] == "D" + MANAGER[1:] and "6 complaints" in upload.args["initial_comment"]
    [content] = slack.uploads.values()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert [row["reference"] for row in rows] == ["C-1", "C-2", "C-3", "C-4", "C-5", "C-9"]
    first = rows[0]
    assert (first["first_response_sla"], first["resolution_sla"], first["satisfaction_score"]) == ("met", "met", "10")
    assert rows[1]["first_response_sla"] == "breached"


def test_desk_export_failure_is_reported_to_the_caller(digest_desk, slack):
    desk = digest_desk()
    slack.fail("conversations.open", "missing_scope")
    desk.client.command("export complaints", command="/desk", user=MANAGER)
    desk.settle()
    [told] = slack.calls_to("response_url")
    assert "missing_scope" in told.args["text"]
