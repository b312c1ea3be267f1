"""The Slack app manifest declares exactly what the code uses."""

from __future__ import annotations

import inspect
import json
import re

import yaml
from slack_sdk import WebClient

from handlers.ids import Command, Event, Shortcut
from tests.harness import ALICE
from tests.shared import PROJECT_ROOT, shared_dir

MANIFEST = yaml.safe_load((PROJECT_ROOT / "manifest.yml").read_text(encoding="utf-8"))
FEATURES = MANIFEST["features"]
BOT_SCOPES = set(MANIFEST["oauth_config"]["scopes"]["bot"])
SOURCE_DIRS = ("bot", "handlers")
# The 2020 spec names pre-granular scopes; bots are granted these today.
MODERN_SCOPE = {"chat:write:bot": "chat:write", "chat:write:user": "chat:write"}
# Methods newer than the spec (shared/slack/SOURCE.md), with their documented scope.
SCOPES_NOT_IN_SPEC = {"files.getUploadURLExternal": {"files:write"}, "files.completeUploadExternal": {"files:write"}}


def manifest_commands() -> dict[str, dict]:
    return {entry["command"]: entry for entry in FEATURES.get("slash_commands", [])}


def manifest_events() -> set[str]:
    return set(MANIFEST["settings"].get("event_subscriptions", {}).get("bot_events", []))


def test_commands_shortcuts_and_events_match_the_code():
    assert set(manifest_commands()) == {command.value for command in Command}
    assert {s["callback_id"] for s in FEATURES.get("shortcuts", [])} == {s.value for s in Shortcut}
    assert manifest_events() == {event.value for event in Event}
    assert FEATURES["app_home"]["home_tab_enabled"] == ("app_home_opened" in manifest_events())


def test_commands_escape_mentions_so_user_ids_arrive():
    for name, entry in manifest_commands().items():
        assert entry.get("should_escape") is True, f"{name} must set should_escape: true"
        assert len(entry["description"]) <= 100


def web_api_methods_called() -> set[str]:
    """Every Web API method the project's code calls through a WebClient."""
    methods = set()
    for folder in SOURCE_DIRS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for name in re.findall(r"\bclient\.(\w+)\(", path.read_text(encoding="utf-8")):
                # Other things called `client` (the console's signed-request client) are not Slack's.
                if hasattr(WebClient, name):
                    methods |= api_methods_of(name)
    return methods


def api_methods_of(client_method: str) -> set[str]:
    if client_method == "files_upload_v2":
        return {"files.getUploadURLExternal", "files.completeUploadExternal"}
    source = inspect.getsource(getattr(WebClient, client_method))
    return set(re.findall(r'api_call\(\s*"([\w.]+)"', source))


def test_every_scope_the_code_needs_is_requested():
    spec = json.loads((shared_dir() / "slack" / "web_api_openapi_v2.json").read_text(encoding="utf-8"))
    called = web_api_methods_called()
    assert "chat.postMessage" in called  # the scan itself works
    if Command:
        assert "commands" in BOT_SCOPES
    for method in sorted(called):
        if method in SCOPES_NOT_IN_SPEC:
            alternatives = SCOPES_NOT_IN_SPEC[method]
        else:
            operation = next(iter(spec["paths"][f"/{method}"].values()))
            alternatives = {MODERN_SCOPE.get(s, s) for entry in operation.get("security", []) for s in entry["slackAuth"]}
            alternatives.discard("none")
        if alternatives:
            assert alternatives & BOT_SCOPES, f"{method} needs one of {sorted(alternatives)} in manifest.yml"


def test_manifest_urls_point_at_the_events_path():
    urls = [entry["url"] for entry in manifest_commands().values()]
    urls.append(MANIFEST["settings"]["interactivity"]["request_url"])
    assert all(url.endswith("/slack/events") for url in urls)


def test_the_app_answers_every_declared_command_shortcut_and_event(desk):
    for command in manifest_commands():
        assert desk.client.command("help", command=command).status == 200, command
    for shortcut in FEATURES.get("shortcuts", []):
        message = {"type": "message", "user": ALICE, "ts": "1700000000.000100", "text": "hello"}
        assert desk.client.message_shortcut(shortcut["callback_id"], message).status == 200
    for event in manifest_events():
        assert desk.client.event({"type": event, "user": ALICE, "event_ts": "1700000000.000100"}).status == 200, event
    desk.settle()
