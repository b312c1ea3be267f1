"""Parsing `/kudos` text and turning Slack's markup in a reason into plain words."""

from __future__ import annotations

import pytest

from bot.complaint_text import HelpRequest, OpenModal
from bot.errors import InvalidInput
from bot.kudos_text import KudosRequest, StatsRequest, parse, plain_reason

VALUES = ("ownership", "speed", "empathy", "extra-mile")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<@U1AAA|ann> <@U2BBB> #speed C-42 sorted it in minutes",
         KudosRequest(("U1AAA", "U2BBB"), "sorted it in minutes", "speed", 42)),
        ("#Extra-Mile <@U1AAA|ann> c42 came in early", KudosRequest(("U1AAA",), "came in early", "extra-mile", 42)),
        ("<@U1AAA|ann> <#C0SPEED|speed> answered fast", KudosRequest(("U1AAA",), "answered fast", "speed")),
        ("<@U1AAA|ann> <@U1AAA|ann> helped <@U2BBB|bo> a lot", KudosRequest(("U1AAA",), "helped <@U2BBB|bo> a lot")),
        ("<@U1AAA|ann> closed C-7 and C-8 today", KudosRequest(("U1AAA",), "closed C-7 and C-8 today", complaint_id=7)),
        ("<@U1AAA|ann>", KudosRequest(("U1AAA",), "")),
    ],
)
def test_recipients_value_and_complaint_come_before_the_reason(text, expected):
    assert parse(text, values=VALUES) == expected


def test_words_and_empty_text():
    assert parse("", values=VALUES) == OpenModal()
    assert parse("  Stats ", values=VALUES) == StatsRequest()
    assert parse("help", values=VALUES) == HelpRequest()


@pytest.mark.parametrize(
    "text, says",
    [
        ("great job everyone", "Start with the people"),
        ("<@U1AAA|ann> #teamwork covered my shift", "not one of our values"),
        ("<@U1AAA|ann> #speed #empathy quick and kind", "one value only"),
    ],
)
def test_mistakes_say_what_to_type(text, says):
    with pytest.raises(InvalidInput, match=says):
        parse(text, values=VALUES)


def test_plain_reason_shows_names_and_link_text_and_keeps_typed_markup_as_text():
    names = {"U2BBB": "Bo"}
    text = ("thanks <@U1AAA|ann> and <@U2BBB> for <https://example.com/faq|the FAQ> in <#C0GEN|general>, "
            "<!here> <!subteam^S0SUP|@support> &lt;!channel&gt; &amp;   done")
    assert plain_reason(text, name_of=names.get) == (
        "thanks @ann and @Bo for the FAQ in #general, @here @support <!channel> & done"
    )
