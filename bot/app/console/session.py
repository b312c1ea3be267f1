"""`servicedesk console`: try the bot with no Slack workspace.

The real app runs in-process behind the same HTTP endpoint gunicorn serves; what you
type becomes signed Slack requests (`bot.app.console.loopback`), and everything the bot sends to
Slack's Web API lands in the local emulator (`bot.app.console.slack_emulator`), which this module
prints as plain text. Buttons get numbers you can `press`; a modal that opens can be
filled in and submitted. Complaints go to a local SQLite file unless `--db` says
otherwise. The same commands run from a script file or stdin, so a scenario is one
command (`servicedesk console scenarios/sample.txt`).
"""

from __future__ import annotations

import re
import shlex
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from bot.app.console.loopback import LoopbackDesk, Reply
from bot.app.console.render import form_values, render_blocks, render_text
from bot.app.console.slack_emulator import ApiCall, SlackEmulator
from bot.app.console.workspace import CHANNEL_NAMES, GENERAL, NAMES_BY_ID, PEOPLE, Person
from handlers.ids import Command

# Web API calls that are plumbing, not something a person would see in Slack.
UNSEEN_METHODS = {
    "users.info", "conversations.open", "chat.getPermalink", "auth.test", "files.getUploadURLExternal",
    "conversations.history", "conversations.members",
}

HELP = """\
Commands (you act as one person at a time; everyone is in #general):
  as NAME                 act as alice, bob, carol (staff), mona (manager) or adam (admin)
  /complaint ...          any slash command, exactly as in Slack (@name mentions someone)
  press N                 press button [N] (or just type N); press LABEL presses the latest
                          button with that label (emoji aside), e.g. press Take ownership
  submit FIELD=VALUE ...  submit your open form; fields keep their values unless given, and
                          a form the bot sends back with errors stays open as you typed it
  cancel                  close your open form
  say TEXT                post a message in #general (they are numbered)
  shortcut N|TEXT         "Log as complaint" on message N, or on a new message saying TEXT
  react N EMOJI           react to message N (unreact N EMOJI takes it back)
  home                    open your App Home tab
  help, quit
Lines starting with # are comments."""


class ConsoleError(Exception):
    """Something the person typed cannot be done; the message says why."""


@dataclass
class Button:
    label: str
    action_id: str
    value: str
    block_id: str
    channel: str
    message_ts: str


@dataclass
class OpenForm:
    """A modal open for one person, as Slack keeps it: under one view ID until it
    closes, with what they typed so far (kept when the bot answers with errors)."""

    view: dict
    view_id: str
    values: dict[str, str]


# Emoji as Slack writes them in text (:tada:), keycaps (1️⃣), and as characters:
# symbols, their modifiers and the joiners and selectors between them.
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:|[0-9#*]\ufe0f?\u20e3")
_EMOJI_CATEGORIES = {"So", "Sk", "Cf", "Me", "Mn"}


def plain_label(label: str) -> str:
    """A button label as a person types it: no emoji, no case, single spaces."""
    text = _EMOJI_CODE.sub(" ", label)
    text = "".join(char for char in text if unicodedata.category(char) not in _EMOJI_CATEGORIES)
    return " ".join(text.casefold().split())


@dataclass
class Console:
    desk: LoopbackDesk
    slack: SlackEmulator
    out: TextIO
    person: Person = PEOPLE["alice"]
    buttons: dict[int, Button] = field(default_factory=dict)
    # Open forms by the user ID of whoever opened them: a form is that person's alone.
    forms: dict[str, OpenForm] = field(default_factory=dict)
    said: list[dict] = field(default_factory=list)
    _seen_calls: int = 0
    _seen_problems: int = 0

    # ----- reading commands --------------------------------------------------------------
    def run(self, lines: Iterable[str], *, echo: bool) -> None:
        for line in lines:
            line = line.strip()
            if echo and line:
                self.write(line if line.startswith("#") else f"{self.person.name}> {line}")
            if not line or line.startswith("#"):
                continue
            if line in ("quit", "exit"):
                return
            try:
                self.execute(line)
            except ConsoleError as exc:
                self.write(f"  ! {exc}")
            if echo:
                self.write("")

    def prompt_lines(self) -> Iterator[str]:
        try:
            import readline  # noqa: F401 — line editing and history for input()
        except ImportError:
            pass
        while True:
            try:
                yield input(f"{self.person.name}> ")
            except EOFError:
                self.write("")
                return

    def execute(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word.startswith("/"):
            self.show(self.desk.client.command(self.slack_text(rest), command=word, user=self.person.user_id))
        elif word == "as":
            self.switch_to(rest)
        elif word == "press" or word.isdigit():
            self.press(rest if word == "press" else word)
        elif word == "submit":
            self.submit(rest)
        elif word == "cancel":
            self.cancel()
        elif word == "say":
            self.say(rest)
        elif word == "shortcut":
            self.shortcut(rest)
        elif word in ("react", "unreact"):
            self.react(rest, added=word == "react")
        elif word == "home":
            self.open_home()
        elif word == "help":
            self.write(HELP)
        else:
            raise ConsoleError(f"I don't know {word!r}; type help to see what you can do")

    def switch_to(self, name: str) -> None:
        person = PEOPLE.get(name.lower().lstrip("@"))
        if person is None:
            raise ConsoleError(f"nobody called {name!r} here; try one of: {', '.join(PEOPLE)}")
        self.person = person
        self.write(f"  (you are now {person.name}, {person.role})")

    def press(self, choice: str) -> None:
        """Press button [N], or the latest button labelled `choice` (scenarios read better)."""
        if choice.isdigit():
            button = self.buttons.get(int(choice))
            if button is None:
                raise ConsoleError(f"there is no button [{choice}]")
        else:
            # Buttons are numbered as they are shown, so the last one is the latest.
            labelled = [b for b in self.buttons.values() if plain_label(b.label) == plain_label(choice)]
            if not labelled:
                raise ConsoleError(f"there is no button labelled {choice!r}")
            button = labelled[-1]
        self.show(self.desk.client.action(
            button.action_id, button.value, user=self.person.user_id, channel=button.channel,
            message_ts=button.message_ts, block_id=button.block_id,
        ))

    def submit(self, assignments: str) -> None:
        form = self.my_form()
        try:
            pairs = shlex.split(assignments)
        except ValueError as exc:
            raise ConsoleError(f"could not read that: {exc}") from None
        typed = dict(form.values)
        for pair in pairs:
            name, equals, value = pair.partition("=")
            if not equals or name not in typed:
                raise ConsoleError(f"{pair!r}: write FIELD=VALUE with a field of this form: {', '.join(typed)}")
            typed[name] = self.user_id_for(value) if value.startswith("@") else value
        try:
            reply = self.desk.client.submit_view(form.view, typed, user=self.person.user_id, view_id=form.view_id)
        except ValueError as exc:  # a value Slack's form could not hold: the line is not taken
            raise ConsoleError(str(exc)) from None
        form.values = typed
        del self.forms[self.person.user_id]
        answer = reply.json() if reply.status == 200 and reply.body.lstrip().startswith(b"{") else {}
        rejected = answer.get("response_action") == "errors"
        if rejected:
            self.forms[self.person.user_id] = form
        self.show(reply)
        if rejected:
            self.write(f"  (the form is still open with what you typed: {self.describe_fields(form.values)};"
                       " submit FIELD=VALUE ... again, or cancel)")

    def cancel(self) -> None:
        self.my_form()
        del self.forms[self.person.user_id]
        self.write("  (form closed)")

    def my_form(self) -> OpenForm:
        """The current person's open form; if only others have one, say whose it is."""
        form = self.forms.get(self.person.user_id)
        if form is not None:
            return form
        others = [NAMES_BY_ID.get(user_id, user_id) for user_id in self.forms]
        if others:
            forms = "form is" if len(others) == 1 else "forms are"
            whose = " and ".join(f"{name}'s" for name in others)
            raise ConsoleError(f"the open {forms} {whose}, not yours; `as {others[-1]}` goes back to it")
        raise ConsoleError("no form is open")

    def say(self, text: str) -> int:
        """Post a message in #general as the current person; returns its number."""
        if not text:
            raise ConsoleError("say what? For example: say the customer's zip broke")
        ts = self.slack.add_message(GENERAL, text, user=self.person.user_id)
        self.said.append({"type": "message", "user": self.person.user_id, "ts": ts, "text": text})
        self.write(f"  (message {len(self.said)} in #general)")
        return len(self.said)

    def said_message(self, number: str) -> dict:
        if not number.isdigit() or not 1 <= int(number) <= len(self.said):
            raise ConsoleError(f"there is no message {number!r}; `say TEXT` posts one")
        return self.said[int(number) - 1]

    def shortcut(self, text: str) -> None:
        """'Log as complaint' on message N, or on a new message saying TEXT."""
        message = self.said_message(text if text.isdigit() else str(self.say(text)))
        self.show(self.desk.client.message_shortcut(
            "log_complaint_from_message", message, user=self.person.user_id, channel=GENERAL
        ))

    def react(self, arguments: str, *, added: bool) -> None:
        number, _, emoji = arguments.partition(" ")
        message, emoji = self.said_message(number), emoji.strip().strip(":")
        if not emoji:
            raise ConsoleError("which emoji? For example: react 1 star")
        self.show(self.desk.client.event({
            "type": "reaction_added" if added else "reaction_removed", "user": self.person.user_id,
            "reaction": emoji, "item_user": message["user"],
            "item": {"type": "message", "channel": GENERAL, "ts": message["ts"]},
            "event_ts": f"{time.time():.6f}",
        }))

    def open_home(self) -> None:
        self.show(self.desk.client.event({
            "type": "app_home_opened", "user": self.person.user_id, "tab": "home",
            "channel": "D" + self.person.user_id[1:], "event_ts": f"{time.time():.6f}",
        }))

    def user_id_for(self, mention: str) -> str:
        person = PEOPLE.get(mention.lstrip("@").lower())
        if person is None:
            raise ConsoleError(f"nobody called {mention!r} here; try one of: {', '.join(PEOPLE)}")
        return person.user_id

    @staticmethod
    def slack_text(text: str) -> str:
        """What Slack sends for `text` from a command with `should_escape`: escaped mentions."""
        def mention(match: re.Match) -> str:
            person = PEOPLE.get(match.group(1).lower())
            return f"<@{person.user_id}|{person.name}>" if person else match.group(0)

        return re.sub(r"(?<![\w<])@(\w+)", mention, text)

    # ----- showing what the bot did ----------------------------------------------------------
    def show(self, reply: Reply) -> None:
        self.desk.settle()
        if reply.status == 404:
            self.write(f"  ! nothing here answers that; the bot's commands are {', '.join(Command)}")
        elif reply.status >= 400:
            self.write(f"  ! the bot answered HTTP {reply.status}")
        elif reply.body.lstrip().startswith(b"{"):
            self.show_ack(reply.json())
        elif reply.body.strip():
            self.write_message("only you can see this", {"text": reply.text})
        for call in self.new_calls():
            self.show_call(call)
        for problem in self.new_problems():
            self.write(f"  ! the bot sent Slack something Slack would reject: {problem}")

    def show_ack(self, body: dict) -> None:
        if body.get("response_action") == "errors":
            self.write("  ! the form needs another look:")
            for name, error in body.get("errors", {}).items():
                self.write(f"    {name}: {render_text(error)}")
        elif body.get("response_action") in ("update", "push"):
            self.show_view(body["view"])
        elif body.get("text") or body.get("blocks"):
            visibility = "everyone in the channel" if body.get("response_type") == "in_channel" else "only you"
            self.write_message(f"{visibility} can see this", body)

    def new_calls(self) -> list[ApiCall]:
        calls = self.slack.calls[self._seen_calls:]
        self._seen_calls += len(calls)
        return calls

    def new_problems(self) -> list[str]:
        problems = self.slack.problems[self._seen_problems:]
        self._seen_problems += len(problems)
        return problems

    def show_call(self, call: ApiCall) -> None:
        args, method = call.args, call.method
        if method in UNSEEN_METHODS:
            return
        if method == "response_url":
            private = args.get("response_type") != "in_channel"
            self.write_message("only you can see this" if private else "to the channel", args)
        elif method == "chat.postMessage":
            where = self.place(args.get("channel", ""))
            if args.get("thread_ts"):
                where += ", in the thread of " + self.thread_title(args["channel"], args["thread_ts"])
            self.write_message(f"servicedesk in {where}", args, channel=args.get("channel", ""))
        elif method == "chat.postEphemeral":
            self.write_message(f"only {self.name_of(args.get('user', ''))} can see this", args)
        elif method == "chat.update":
            self.write_message(f"message in {self.place(args.get('channel', ''))} updated", args,
                               channel=args.get("channel", ""), ts=args.get("ts", ""))
        elif method in ("views.open", "views.push", "views.update"):
            self.show_view(args["view"])
        elif method == "views.publish":
            self.write_message(f"App Home of {self.name_of(args.get('user_id', ''))}", args["view"])
        elif method == "files.completeUploadExternal":
            names = ", ".join(f.get("title", "") for f in args.get("files", []))
            self.write(f"  [file uploaded to {self.place(args.get('channel_id', ''))}: {names}]")
        else:
            self.write(f"  [{method}]")

    def show_view(self, view: dict) -> None:
        """Show a form the bot opened for the current person; it is theirs until it closes."""
        view_id = view.get("id") or self.desk.client.next_id("VCONSOLE")
        self.forms[self.person.user_id] = OpenForm(view, view_id, form_values(view))
        title = (view.get("title") or {}).get("text", "form")
        self.write(f"  ┌ form: {title}")
        for line in render_blocks(view.get("blocks", []), self.buttons_for("", "")):
            self.write(f"  │ {line}")
        fields = form_values(view)
        if fields:
            self.write(f"  │ fields: {self.describe_fields(fields)}")
            self.write("  └ type: submit FIELD=VALUE ... (or cancel)")
        else:
            self.write("  └ (cancel to close)")

    def write_message(self, heading: str, message: dict, *, channel: str = "", ts: str = "") -> None:
        ts = ts or self.latest_ts(channel)
        self.write(f"  ┌ {heading}")
        lines = list(render_blocks(message.get("blocks") or [], self.buttons_for(channel, ts)))
        for line in lines or render_text(message.get("text", "")).splitlines():
            self.write(f"  │ {line}")
        self.write("  └")

    def thread_title(self, channel: str, ts: str) -> str:
        """What the message a thread hangs off starts with, for the reader to place it."""
        parent = self.slack.messages.get((channel, ts)) or {}
        blocks = parent.get("blocks") or []
        header = next((block["text"]["text"] for block in blocks if block.get("type") == "header"), "")
        return f"“{header or parent.get('text', '')[:60]}”"

    def describe_fields(self, values: dict[str, str]) -> str:
        return ", ".join(f"{name}={self.name_of(value) if value in NAMES_BY_ID else repr(value)}"
                         for name, value in values.items())

    def latest_ts(self, channel: str) -> str:
        keys = [ts for (where, ts) in self.slack.messages if where == channel]
        return keys[-1] if keys else ""

    def buttons_for(self, channel: str, ts: str):
        def numbered(button: dict, block_id: str) -> int:
            number = len(self.buttons) + 1
            self.buttons[number] = Button(
                button["text"]["text"], button["action_id"], button.get("value", ""), block_id, channel or GENERAL, ts
            )
            return number

        return numbered

    def place(self, channel: str) -> str:
        if channel[:1] in ("U", "W", "D"):
            return f"a DM to {self.name_of('U' + channel[1:])}"
        return "#" + CHANNEL_NAMES.get(channel, channel)

    @staticmethod
    def name_of(user_id: str) -> str:
        return "@" + NAMES_BY_ID.get(user_id, user_id)

    def write(self, text: str) -> None:
        print(text, file=self.out, flush=True)
