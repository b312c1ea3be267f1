"""The Block Kit validator accepts Slack's own samples and rejects what Slack would."""

from __future__ import annotations

import json

import pytest

from bot.app.console.blockkit import block_kit_problems
from tests.shared import shared_dir


def test_slack_sdk_sample_views_are_valid():
    samples = sorted((shared_dir() / "slack" / "samples" / "python-slack-sdk").glob("*.json"))
    assert len(samples) >= 10
    for sample in samples:
        assert block_kit_problems(view=json.loads(sample.read_text(encoding="utf-8"))) == [], sample.name


SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


@pytest.mark.parametrize(
    "blocks, problem",
    [
        ([{"type": "no_such_block"}], "unknown type"),
        ([SECTION] * 51, "51 blocks in a message"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3000"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}], "over 2000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "150"),
        ({"type": "section"}, "not a JSON array"),
    ],
)
def test_invalid_message_blocks_are_reported(blocks, problem):
    problems = block_kit_problems(blocks=blocks)
    assert any(problem in p for p in problems), problems


def test_invalid_views_are_reported():
    view = {"type": "modal", "title": {"type": "plain_text", "text": "A title far longer than allowed"}, "blocks": [SECTION]}
    assert any("title" in p for p in block_kit_problems(view=view))
    assert any("101 blocks" in p for p in block_kit_problems(view={**view, "blocks": [SECTION] * 101}))
    assert block_kit_problems(view="not a view") == ["view is not a JSON object"]
