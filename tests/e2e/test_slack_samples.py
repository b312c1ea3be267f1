"""Slack's own payload samples (shared/slack/samples), filled in and sent to the real app.

The harness writes its own payloads; these prove the handlers also accept the full
shapes Slack sends, with every optional field present.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sqlmodel import select

from models.complaints import Complaint
from tests.harness import ALICE, BOB, GENERAL, TEAM
from tests.shared import load_sample


def with_identity(payload: dict, user: str) -> dict:
    payload.update(team={**payload.get("team", {}), "id": TEAM, "domain": "service"}, is_enterprise_install=False)
    payload.pop("enterprise", None)
    # Present only when a workflow function runs the interaction; blank here they would
    # make Bolt call the Web API with an empty token.
    for key in ("bot_access_token", "function_data", "interactivity"):
        payload.pop(key, None)
    payload["user"] = {**payload.get("user", {}), "id": user, "team_id": TEAM}
    return payload


def saved(desk) -> list[Complaint]:
    with desk.open_session() as session:
        return list(session.exec(select(Complaint)))


def test_slash_command_sample(desk):
    payload = load_sample("app-backend/slash-commands/SlashCommandPayload.json")
    payload.update(
        team_id=TEAM, user_id=ALICE, user_name="alice", channel_id=GENERAL, command="/complaint",
        text="!urgent #delivery courier left the parcel outside", trigger_id="1.2.sample",
        response_url=desk.client.response_url, is_enterprise_install="false", enterprise_id="",
    )
    reply = desk.client.post(urlencode(payload))
    desk.settle()
    assert reply.status == 200 and "C-1" in reply.text
    [complaint] = saved(desk)
    assert (complaint.severity, complaint.category) == ("urgent", "delivery")


def test_message_shortcut_and_view_submission_samples(desk):
    shortcut = with_identity(load_sample("app-backend/interactive-components/MessageShortcutPayload.json"), ALICE)
    shortcut.update(callback_id="log_complaint_from_message", trigger_id="2.3.sample", message_ts="1700000000.000200",
                    channel={"id": GENERAL, "name": "general"}, response_url=desk.client.response_url)
    shortcut["message"].update(text="The app charged me twice", ts="1700000000.000200", user=BOB)
    assert desk.client.interactive(shortcut).status == 200
    desk.settle()
    opened = desk.opened_view()

    submission = with_identity(load_sample("app-backend/views/ViewSubmissionPayload.json"), ALICE)
    view = submission["view"]
    view.update(id="VSAMPLE001", callback_id=opened["callback_id"], private_metadata=opened["private_metadata"],
                title=opened["title"], submit=opened["submit"], close=opened["close"], type="modal")
    view["state"] = {"values": {
        "description": {"value": {"type": "plain_text_input", "value": "The app charged me twice"}},
        "category": {"value": {"type": "static_select", "selected_option": {"value": "billing"}}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "contact_channel": {"value": {"type": "static_select", "selected_option": {"value": "chat"}}},
        "owner": {"value": {"type": "users_select", "selected_user": BOB}},
    }}
    reply = desk.client.interactive(submission)
    desk.settle()
    assert reply.status == 200
    [complaint] = saved(desk)
    assert (complaint.owner_id, complaint.category, complaint.severity) == (BOB, "billing", "high")
    assert complaint.source_permalink


def test_block_action_sample(desk):
    desk.client.command("#billing charged twice")
    desk.settle()
    payload = with_identity(load_sample("app-backend/interactive-components/BlockActionPayload.json"), BOB)
    payload.update(trigger_id="3.4.sample", channel={"id": GENERAL, "name": "general"}, response_url=desk.client.response_url)
    payload.pop("view", None)
    payload["actions"] = [{**payload["actions"][0], "type": "button", "action_id": "complaint_take", "value": "1",
                           "block_id": "complaint_actions", "action_ts": "1700000000.1"}]
    payload["container"].update(type="message", channel_id=GENERAL, message_ts="1700000000.000300")
    assert desk.client.post(urlencode({"payload": json.dumps(payload)})).status == 200
    desk.settle()
    [complaint] = saved(desk)
    assert complaint.owner_id == BOB
