"""Kudos through Slack: the command, the form, the Recognise button and emoji reactions."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from models.kudos import Recognition
from tests.harness import ADMIN, ALICE, BOB, BOT_USER, CAROL, COMPLAINTS, GENERAL, GONE, MANAGER

KUDOS = "CKUDOS0001"
BOB_MENTION, CAROL_MENTION = "<@UBOB00002|bob>", "<@UCAROL0003|carol>"


@pytest.fixture
def desk(make_desk):
    return make_desk(kudos_channel=KUDOS, kudos_daily_limit=3)


def recognitions(desk) -> list[Recognition]:
    with desk.open_session() as session:
        return list(session.exec(select(Recognition).order_by(Recognition.id)))


def kudos(desk, text: str, *, user: str = ALICE):
    reply = desk.client.command(text, user=user, command="/kudos")
    desk.settle()
    return reply


def answers(slack) -> list[str]:
    """What the bot said back through response_url about kudos, in order (a complaint's
    logging confirmation, updated once its team copy is posted, is not among them)."""
    return [call.args.get("text", "") for call in slack.calls_to("response_url")
            if not call.args.get("text", "").startswith("Logged ")]


def posts_to(slack, channel: str) -> list[dict]:
    return [call.args for call in slack.calls_to("chat.postMessage") if call.args["channel"] == channel]


def mentioned(args: dict) -> set[str]:
    return set(re.findall(r"<@([UW][A-Z0-9]+)", str(args)))


def log_and_resolve(desk, *, owner_mention: str = BOB_MENTION, resolver: str = BOB) -> None:
    desk.client.command(f"#billing {owner_mention} charged twice for order 1182")
    desk.settle()
    desk.client.command("resolve C-1 refunded the duplicate charge", user=resolver)
    desk.settle()


# ----- the command ------------------------------------------------------------------------
def test_command_gives_kudos_posts_them_tells_each_recipient_and_thanks_the_giver(desk, slack):
    log_and_resolve(desk)
    kudos(desk, f"{BOB_MENTION} {CAROL_MENTION} #empathy C-1 calmed a furious customer and fixed the refund")

    rows = recognitions(desk)
    assert [(r.giver_id, r.recipient_id, r.value, r.complaint_id, r.source) for r in rows] == [
        (ALICE, BOB, "empathy", 1, "command"), (ALICE, CAROL, "empathy", 1, "command"),
    ]
    assert rows[0].reason == "calmed a furious customer and fixed the refund"
    [post] = posts_to(slack, KUDOS)
    assert mentioned(post) == {BOB, CAROL}
    assert "*Alice* recognised" in post["text"] and "#empathy" in post["text"] and "C-1" in post["text"]
    assert {(r.post_channel, r.post_ts) for r in rows} == {(KUDOS, next(k for k in slack.messages if k[0] == KUDOS)[1])}
    for person in (BOB, CAROL):
        [dm] = [args for args in posts_to(slack, person) if "gave you kudos" in args["text"]]
        assert "calmed a furious customer" in dm["text"]
    [thanks] = answers(slack)
    assert thanks.startswith("Thank you! You recognised") and f"<#{KUDOS}>" in thanks


def test_a_complaint_mentioned_in_the_reason_links_the_kudos(desk):
    log_and_resolve(desk)
    kudos(desk, f"{BOB_MENTION} sorted c-1 for the customer brilliantly")
    assert recognitions(desk)[0].complaint_id == 1


RULE_BREAKERS = [
    ("<@UALICE0001|alice> handled everything today so well", "can't give kudos to yourself"),
    ("<@UROBOT0006|helperbot> answers customers all night long", "kudos are for people"),
    ("<@UGONE00007|gone> was great before leaving us", "kudos are for people"),
    (f"{BOB_MENTION} great", "in a few words"),
    (f"{BOB_MENTION}", "in a few words"),
    (f"{BOB_MENTION} #teamwork covered my shift without being asked", "not one of our values"),
    (f"{BOB_MENTION} #speed #empathy quick and kind with a customer", "one value only"),
    (f"{BOB_MENTION} C-99 closed a complaint that never existed", "no complaint C-99"),
    ("thanks everyone for a great week", "Start with the people"),
]


def test_each_rule_refuses_with_a_clear_reply_and_saves_nothing(desk, slack):
    for text, says in RULE_BREAKERS:
        slack.reset()
        reply = kudos(desk, text)
        assert says in reply.text + " ".join(answers(slack)), text
    assert recognitions(desk) == []
    assert posts_to(slack, KUDOS) == []


def test_the_daily_limit_counts_recipients_and_resets_the_next_day(desk, slack, clock):
    kudos(desk, f"{BOB_MENTION} {CAROL_MENTION} covered the phones over lunch")
    kudos(desk, f"<@UADMIN0005|adam> <@UMANAGER04|mona> fixed the printer and the rota")
    assert "You can give 1 more kudos today" in answers(slack)[-1]
    kudos(desk, f"{BOB_MENTION} stayed late to finish the refunds")
    kudos(desk, f"{CAROL_MENTION} answered a customer on her day off")
    assert "You have given your 3 kudos for today" in answers(slack)[-1]
    assert len(recognitions(desk)) == 3

    clock.advance(days=1)
    kudos(desk, f"{CAROL_MENTION} answered a customer on her day off")
    assert len(recognitions(desk)) == 4


def test_mentions_and_channel_pings_in_the_reason_never_notify_anyone(desk, slack):
    kudos(desk, f"{BOB_MENTION} told <!channel> and <!here|here> how <@UCAROL0003|carol> and <@UADMIN0005> "
                "fixed it &lt;@UMANAGER04&gt; &amp; more")

    [row] = recognitions(desk)
    assert row.reason == "told @channel and @here how @carol and @Adam fixed it <@UMANAGER04> & more"
    for args in [*posts_to(slack, KUDOS), *posts_to(slack, BOB), *(c.args for c in slack.calls_to("response_url"))]:
        assert mentioned(args) <= {BOB}, args
    # The emulator fails the test if anything would have pinged a whole channel.


def test_a_retried_command_gives_kudos_once(desk, slack):
    body = desk.client.command_body(f"{BOB_MENTION} #speed refunded a customer in two minutes",
                                    user=ALICE, command="/kudos", channel=GENERAL)
    desk.client.post(body)
    desk.client.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    desk.settle()
    assert len(recognitions(desk)) == 1
    assert len(posts_to(slack, KUDOS)) == 1 and len(posts_to(slack, BOB)) == 1
    assert "Already done" in " ".join(answers(slack))


def test_a_missing_kudos_channel_or_a_refusing_slack_still_counts_and_says_so(make_desk, slack):
    quiet = make_desk(kudos_channel="")
    quiet.client.command(f"{BOB_MENTION} took the angriest call of the day", command="/kudos")
    quiet.settle()
    assert posts_to(slack, BOB) and answers(slack)[-1].startswith("Thank you!")

    loud = make_desk(kudos_channel=KUDOS)
    slack.fail("chat.postMessage", "not_in_channel")
    loud.client.command(f"{CAROL_MENTION} took the second angriest call", command="/kudos")
    loud.settle()
    assert len(recognitions(loud)) == 2
    assert "couldn't post it to" in answers(slack)[-1] and "not_in_channel" in answers(slack)[-1]


def test_stats_show_what_you_gave_and_received_by_value(desk, slack):
    kudos(desk, f"{BOB_MENTION} #speed refunded a customer in two minutes")
    kudos(desk, f"{BOB_MENTION} #speed and again the next customer too")
    kudos(desk, "<@UALICE0001|alice> #empathy listened to a long story kindly", user=BOB)
    reply = kudos(desk, "stats").json()
    received, given = (field["text"] for field in reply["blocks"][1]["fields"])
    assert "Received: 1" in received and "#empathy: 1" in received
    assert "Given: 2" in given and "#speed: 2" in given
    bob = kudos(desk, "stats", user=BOB).json()
    assert "Received: 2" in bob["blocks"][1]["fields"][0]["text"]


def test_help_lists_values_and_the_reaction_emoji(desk):
    text = kudos(desk, "help").text
    assert "#extra-mile" in text and ":star:" in text


# ----- the form -----------------------------------------------------------------------------------
def open_form(desk):
    kudos(desk, "")
    return desk.opened_view()


def test_the_form_gives_kudos_to_everyone_picked(desk, slack):
    log_and_resolve(desk)
    form = open_form(desk)
    assert form["callback_id"] == "kudos_give"
    reply = desk.client.submit_view(form, {
        "kudos_recipients": f"{BOB},{CAROL}", "kudos_value": "extra-mile",
        "kudos_reason": "came in on a Sunday for a customer <!channel>", "kudos_complaint": "C-1",
    })
    desk.settle()
    assert reply.status == 200 and reply.body == b""
    rows = recognitions(desk)
    assert [(r.recipient_id, r.value, r.complaint_id, r.source) for r in rows] == [
        (BOB, "extra-mile", 1, "modal"), (CAROL, "extra-mile", 1, "modal"),
    ]
    [thanks] = slack.calls_to("chat.postEphemeral")
    assert thanks.args["channel"] == GENERAL and "Thank you!" in thanks.args["text"]


FORM_MISTAKES = [
    ({"kudos_recipients": ALICE, "kudos_reason": "did all of it myself"}, "kudos_recipients", "yourself"),
    ({"kudos_recipients": BOT_USER, "kudos_reason": "never sleeps at all"}, "kudos_recipients", "for people"),
    ({"kudos_recipients": BOB, "kudos_reason": "nice"}, "kudos_reason", "few words"),
    ({"kudos_recipients": BOB, "kudos_reason": "fixed the refund fast", "kudos_complaint": "banana"},
     "kudos_complaint", "not a complaint reference"),
    ({"kudos_recipients": BOB, "kudos_reason": "fixed the refund fast", "kudos_complaint": "C-7"},
     "kudos_complaint", "no complaint C-7"),
]


def test_the_form_points_at_the_field_to_fix(desk):
    form = open_form(desk)
    for values, block, says in FORM_MISTAKES:
        reply = desk.client.submit_view(form, values).json()
        assert reply["response_action"] == "errors"
        assert says in reply["errors"][block], values
    assert recognitions(desk) == []


def test_a_form_submitted_twice_counts_once(desk, slack):
    form = open_form(desk)
    values = {"kudos_recipients": BOB, "kudos_reason": "talked a customer down from a chargeback"}
    desk.client.submit_view(form, values, view_id="VSAMEKUDOS")
    desk.client.submit_view(form, values, view_id="VSAMEKUDOS")
    desk.settle()
    assert len(recognitions(desk)) == 1 and len(posts_to(slack, KUDOS)) == 1


# ----- the Recognise button ---------------------------------------------------------------------------
def test_recognise_on_a_resolved_complaint_thanks_its_owner_once(desk, slack):
    log_and_resolve(desk)
    with desk.open_session() as session:
        from models.complaints import Complaint

        complaint = session.get(Complaint, 1)
    buttons = slack.messages[(complaint.slack_channel, complaint.slack_ts)]["blocks"][-1]["elements"]
    assert "kudos_recognise" in [b["action_id"] for b in buttons]

    desk.client.action("kudos_recognise", "1", user=CAROL, channel=COMPLAINTS)
    desk.client.action("kudos_recognise", "1", user=CAROL, channel=COMPLAINTS)
    desk.settle()
    [row] = recognitions(desk)
    assert (row.giver_id, row.recipient_id, row.complaint_id, row.source) == (CAROL, BOB, 1, "button")
    assert row.reason == "resolved C-1: refunded the duplicate charge"
    told = [call.args["text"] for call in slack.calls_to("chat.postEphemeral") if call.args["user"] == CAROL]
    # The two clicks race each other; whichever loses is told it was already done.
    assert sorted(text[:27] for text in told) == ["Thank you! You recognised <", "You have already recognised"]

    desk.client.action("kudos_recognise", "1", user=BOB, channel=COMPLAINTS)
    desk.settle()
    [refusal] = [call for call in slack.calls_to("chat.postEphemeral") if call.args["user"] == BOB]
    assert refusal.args["channel"] == COMPLAINTS and "yourself" in refusal.args["text"]
    assert len(recognitions(desk)) == 1


# ----- reactions ------------------------------------------------------------------------------------------
MESSAGE_TS = "1700000000.000100"


def react(desk, kind: str = "reaction_added", *, user: str = ALICE, item_user: str = BOB, emoji: str = "star",
          event_id: str | None = None, retry_num: int | None = None, message_ts: str = MESSAGE_TS):
    event = {"type": kind, "user": user, "reaction": emoji, "item_user": item_user,
             "item": {"type": "message", "channel": GENERAL, "ts": message_ts}, "event_ts": "1700000001.000200"}
    reply = desk.client.event(event, event_id=event_id, retry_num=retry_num)
    desk.settle()
    return reply


@pytest.fixture
def bobs_message(slack) -> str:
    slack.add_message(GENERAL, "an earlier message, not the one starred", user=CAROL)
    return slack.add_message(GENERAL, "Refund sent to <@UCAROL0003>'s customer &lt;3 <!here>", user=BOB)


def test_a_star_on_a_message_gives_its_author_kudos_for_it(desk, slack, bobs_message):
    slack.add_message(GENERAL, "a later message, not the one starred", user=CAROL)
    assert react(desk, message_ts=bobs_message).status == 200
    [row] = recognitions(desk)
    assert (row.giver_id, row.recipient_id, row.source, row.message_ts) == (ALICE, BOB, "reaction", bobs_message)
    assert row.reason == "for their message: Refund sent to @Carol's customer <3 @here"
    [post] = posts_to(slack, KUDOS)
    assert mentioned(post) == {BOB} and "See the message" in post["text"]


def test_duplicate_events_and_a_second_reaction_count_once(desk, slack, bobs_message):
    react(desk, message_ts=bobs_message, event_id="EvSAME0001")
    react(desk, message_ts=bobs_message, event_id="EvSAME0001", retry_num=1)  # Slack's retry of the same event
    react(desk, message_ts=bobs_message)                                        # the same reaction delivered again
    assert len(recognitions(desk)) == 1 and len(posts_to(slack, KUDOS)) == 1
    assert slack.calls_to("chat.postEphemeral") == []


def test_removing_the_reaction_takes_the_kudos_back_and_adding_it_restores_it(desk, slack, bobs_message):
    react(desk, message_ts=bobs_message)
    react(desk, "reaction_removed", message_ts=bobs_message)
    [row] = recognitions(desk)
    assert row.revoked_at is not None
    [deleted] = slack.calls_to("chat.delete")
    assert (deleted.args["channel"], deleted.args["ts"]) == (row.post_channel, row.post_ts)
    assert "Received: 0" in kudos(desk, "stats", user=BOB).json()["blocks"][1]["fields"][0]["text"]

    react(desk, message_ts=bobs_message)
    [row] = recognitions(desk)
    assert row.revoked_at is None


def test_reactions_that_are_not_kudos_are_ignored_or_refused(desk, slack, bobs_message):
    react(desk, message_ts=bobs_message, emoji="thumbsup")
    react(desk, message_ts=bobs_message, item_user="UBOT")                  # starring the bot's own announcement
    react(desk, "reaction_removed", message_ts=bobs_message)                 # nothing to take back
    assert recognitions(desk) == [] and slack.calls_to("chat.postEphemeral") == []
    react(desk, message_ts=bobs_message, user=BOB)                           # starring your own message
    [refusal] = slack.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == BOB and "yourself" in refusal.args["text"]
    assert recognitions(desk) == []


def test_an_unreadable_message_still_gives_kudos(desk, slack):
    slack.fail("conversations.history", "not_in_channel")
    react(desk)
    assert recognitions(desk)[0].reason == "for one of their messages"


# ----- /desk -----------------------------------------------------------------------------------------------
def desk_command(desk, text: str, *, user: str = MANAGER):
    reply = desk.client.command(text, user=user, command="/desk")
    desk.settle()
    return reply


def test_desk_is_for_managers_and_admins_only(desk, slack):
    for who in (ALICE, BOB):
        assert "Sorry, `/desk` is for managers and admins" in desk_command(desk, "morale", user=who).text
    assert slack.calls_to("response_url") == []


def test_desk_help_and_unknown_words(desk):
    assert "`/desk morale`" in desk_command(desk, "help", user=ADMIN).text
    unknown = desk_command(desk, "<!channel>").text
    assert "I don't know `/desk @channel`" in unknown and "`/desk morale`" in unknown


def test_desk_morale_shows_the_report_with_names_and_staff_channel_members(make_desk, slack):
    staff = "CSTAFF0001"
    slack.members[staff] = [CAROL, BOT_USER, GONE, "UBOT"]
    desk = make_desk(kudos_channel=KUDOS, staff_channel=staff)
    log_and_resolve(desk)
    kudos(desk, f"{BOB_MENTION} #ownership C-1 owned the refund from start to finish")

    desk_command(desk, "morale")
    [report] = [call.args for call in slack.calls_to("response_url") if "blocks" in call.args]
    text = " ".join(block.get("text", {}).get("text", "") for block in report["blocks"])
    assert "*Kudos this week*: 1, up 1 on the week before (0)" in text
    # Active: Alice (logged, gave), Bob (owned, resolved), and Carol from the staff channel;
    # only Bob was recognised.
    assert "33% of active staff recognised in 30 days (1 of 3)" in text
    assert "Active but not recognised in 30 days* (2): Alice, Carol" in text
    assert "#ownership (1)" in text and "100% of 1 kudos" in text
    assert "Helperbot" not in text and "Gone" not in text


def test_desk_morale_copes_with_an_unreadable_staff_channel(make_desk, slack):
    desk = make_desk(staff_channel="CNOSUCH001")
    desk_command(desk, "morale")
    [report] = [call.args for call in slack.calls_to("response_url") if "blocks" in call.args]
    assert "couldn't read the members of <#CNOSUCH001>" in str(report["blocks"][-1])


def test_the_weekly_digest_carries_the_morale_section_with_names(desk, slack, clock):
    clock.advance(days=-2)  # Saturday 21 November, in week 2026-W47
    kudos(desk, f"{BOB_MENTION} #speed answered every chat within a minute")
    clock.advance(days=2)
    desk_command(desk, "digest 2026-W47")
    [preview] = [call.args for call in slack.calls_to("response_url") if "blocks" in call.args]
    [morale] = [b["text"]["text"] for b in preview["blocks"] if b.get("text", {}).get("text", "").startswith("*Morale*")]
    assert "*Kudos this week*: 1, up 1 on the week before (0)" in morale
    assert "*Active but not recognised in 30 days* (1): Alice" in morale


def test_a_slash_command_sample_with_every_field_reaches_kudos(desk, slack):
    from tests.shared import load_sample

    payload = load_sample("app-backend/slash-commands/SlashCommandPayload.json")
    payload.update(
        team_id="T0SERVICE", user_id=ALICE, user_name="alice", channel_id=GENERAL, command="/kudos",
        text=f"{BOB_MENTION} #speed answered within a minute", trigger_id="1.2.kudos-sample",
        response_url=desk.client.response_url, is_enterprise_install="false", enterprise_id="",
    )
    desk.client.post(urlencode(payload))
    desk.settle()
    assert [r.recipient_id for r in recognitions(desk)] == [BOB]
