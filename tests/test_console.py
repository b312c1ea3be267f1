"""`servicedesk console`: the sample scenario, typing mistakes, and the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import func, select

from bot.app.cli import main
from bot.app.console.render import render_text
from bot.app.console.session import plain_label
from models.complaints import Complaint, ComplaintEvent
from models.kudos import Recognition

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample.txt"


def play(capsys, database_url: str, script: Path) -> str:
    assert main(["console", "--db", database_url, str(script)]) == 0
    return capsys.readouterr().out


def play_text(capsys, database_url: str, tmp_path: Path, text: str) -> str:
    """Play `text` as a scenario file."""
    script = tmp_path / "scenario.txt"
    script.write_text(text, encoding="utf-8")
    return play(capsys, database_url, script)


def test_sample_scenario_runs_the_real_handlers(capsys, database_url, open_session):
    out = play(capsys, database_url, SAMPLE)

    assert "Slack would reject" not in out and "!" + " I don't know" not in out
    # Buttons are numbered, and pressing one changed the owner.
    assert "] Take ownership" in out
    assert "Sorry, only the owner of C-1 (@bob) or a manager can resolve it" in out
    assert "servicedesk in a DM to @bob" in out
    assert "@bob responded to the customer: called Jane, refund on its way" in out
    with open_session() as session:
        first, second = session.exec(select(Complaint).order_by(Complaint.id)).all()
        kinds = session.exec(
            select(ComplaintEvent.kind).where(ComplaintEvent.complaint_id == first.id).order_by(ComplaintEvent.id)
        ).all()
    assert (first.reference, first.owner_id, first.status, first.category) == ("C-1", "U0BOB", "resolved", "billing")
    assert kinds == ["logged", "assigned", "responded", "resolved"]
    # The second came through the form, with the fields the script filled in.
    assert (second.owner_id, second.category, second.reporter_id) == ("U0BOB", "delivery", "U0CAROL")
    assert second.description == "Parcel for order 2207 left in the rain, box soaked"


def test_mistakes_get_a_clear_answer_and_write_nothing(capsys, database_url, open_session, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "as zed\npress 99\nsubmit x=1\ncancel\nfrobnicate\n/nothing here\n"
        "/complaint\nsubmit severity=extreme\nsubmit owner=@nobody\nsubmit nofield=1\n"
        'submit description="unclosed\ncancel\nshortcut\nreact 7 star\nsay hello\nreact 1\n/complaint take C-404\n'
    ))

    for expected in (
        "nobody called 'zed' here",
        "there is no button [99]",
        "no form is open",
        "I don't know 'frobnicate'",
        "nothing here answers that; the bot's commands are /complaint",
        "'extreme' is not one of the choices (low, normal, high, urgent)",
        "nobody called '@nobody' here",
        "'nofield=1': write FIELD=VALUE with a field of this form",
        "could not read that",
        "(form closed)",
        "say what?",
        "there is no message '7'",
        "which emoji?",
        "C-404",
    ):
        assert expected in out, expected
    with open_session() as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == 0


def test_message_shortcut_and_mentions_in_commands(capsys, database_url, open_session, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "as carol\nshortcut the zip on my new coat broke on day one\nsubmit severity=high\n"
        "/complaint !urgent #delivery @alice van driver was rude <!channel>\n"
    ))

    assert "Original message (https://example.slack.com/archives/C0GENERAL/" in out
    assert "<!channel>" in out  # shown as the text it is, and the emulator raised no ping
    assert "Slack would reject" not in out
    with open_session() as session:
        complaints = session.exec(select(Complaint).order_by(Complaint.id)).all()
    assert [(c.severity, c.owner_id) for c in complaints] == [("high", "U0CAROL"), ("urgent", "U0ALICE")]
    assert complaints[0].source_permalink.startswith("https://example.slack.com/archives/C0GENERAL/")


def test_console_command_reads_stdin_and_rejects_bad_options(tmp_path):
    database = tmp_path / "console.db"
    run = [sys.executable, "-m", "bot.app.cli", "console", "--db", f"sqlite:///{database}"]
    played = subprocess.run(
        [*run, "--fresh", "-"], input="/complaint !low #website search box is broken\n/complaint list\n",
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert played.returncode == 0, played.stderr
    assert "alice> /complaint list" in played.stdout and "C-1" in played.stdout
    assert played.stderr == ""

    missing = subprocess.run([*run, "no-such-scenario.txt"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert missing.returncode == 2 and "no such scenario file" in missing.stderr

    postgres = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "console", "--db", "postgresql://x@127.0.0.1:1/x", "--fresh", "-"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert postgres.returncode == 2 and "--fresh only works with a SQLite file" in postgres.stderr


def test_mrkdwn_is_shown_as_a_person_reads_it():
    text = "<@U0BOB|bob> took <https://x.example/a|the case> on <!date^1795000000^{date}|2026-11-18> &lt;ok&gt;"
    assert render_text(text) == "@bob took the case (https://x.example/a) on 2026-11-18 <ok>"


def console_session(database_url: str, script: str, cwd: Path) -> str:
    """One `servicedesk console` process playing `script` from stdin, as a person types it."""
    played = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "console", "--db", database_url, "-"],
        input=script, capture_output=True, text=True, cwd=cwd, timeout=120,
    )
    assert played.returncode == 0, played.stderr
    return played.stdout


def test_a_second_session_on_the_same_database_saves_every_command(database_url, open_session, tmp_path):
    # Each session is a new process whose requests are de-duplicated by their IDs
    # (trigger, view, event, message ts): none of the second's may repeat the first's.
    first = console_session(database_url, (
        "/complaint !high #billing charged twice for order 1182\n"
        "/complaint note C-1 called the customer back\n"
        "as bob\npress Take ownership\n"
        "as carol\n/complaint\nsubmit description=\"Parcel for order 2207 soaked\" category=delivery\n"
        "as alice\n/kudos @bob #ownership took C-1 at once\n"
        "as bob\nsay refund is on its way\nas mona\nreact 1 star\n"
    ), tmp_path)
    second = console_session(database_url, (
        "/complaint !low #website search box is broken\n"
        "as bob\npress Take ownership\n"
        "/complaint note C-3 asked for a screenshot\n"
        "/complaint note C-1 refund issued\n"
        "as carol\n/complaint\nsubmit description=\"Wrong size sent for order 3001\" category=delivery\n"
        "as alice\n/kudos @bob #ownership fixed the search box\n"
        "as bob\nsay screenshot received\nas mona\nreact 1 star\n"
    ), tmp_path)

    for out in (first, second):
        assert "Already done" not in out and "Slack would reject" not in out
    with open_session() as session:
        complaints = session.exec(select(Complaint).order_by(Complaint.id)).all()
        notes = session.exec(
            select(ComplaintEvent.complaint_id, ComplaintEvent.note).where(ComplaintEvent.kind == "noted").order_by(ComplaintEvent.id)
        ).all()
        kudos = session.exec(
            select(Recognition.source).where(Recognition.recipient_id == "U0BOB").order_by(Recognition.id)
        ).all()
    assert [(c.reference, c.owner_id, c.reporter_id) for c in complaints] == [
        ("C-1", "U0BOB", "U0ALICE"), ("C-2", "U0CAROL", "U0CAROL"), ("C-3", "U0BOB", "U0ALICE"), ("C-4", "U0CAROL", "U0CAROL"),
    ]
    assert complaints[3].description == "Wrong size sent for order 3001"
    notes = [(f"C-{complaint_id}", note) for complaint_id, note in notes]
    assert notes == [("C-1", "called the customer back"), ("C-3", "asked for a screenshot"), ("C-1", "refund issued")]
    assert kudos == ["command", "reaction", "command", "reaction"]


def test_a_form_the_bot_rejects_stays_open_as_typed_and_errors_name_people(capsys, database_url, open_session, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "/complaint\n"
        'submit description="Parcel for order 2207 soaked" category=delivery owner=U0GHOST\n'
        "submit severity=extreme\n"
        "submit owner=@carol\n"
        "as mona\npress Reassign\nsubmit owner=@carol\nsubmit owner=@bob\n"
    ))

    assert "owner: I can't find @U0GHOST in this workspace." in out
    assert "the form is still open with what you typed: description='Parcel for order 2207 soaked'" in out
    assert "'extreme' is not one of the choices" in out
    assert "owner: @carol already owns C-1." in out
    # The Reassign form's one field says what it holds and what it takes.
    assert "│ owner: New owner * (a person: @alice, @bob, …)" in out
    assert "│ severity: Severity * (one of: low, normal, high, urgent)" in out
    assert "<@" not in out
    with open_session() as session:
        [complaint] = session.exec(select(Complaint)).all()
    # Logged on the third try with what the first one typed; then reassigned on the second.
    assert (complaint.description, complaint.category, complaint.severity) == ("Parcel for order 2207 soaked", "delivery", "normal")
    assert (complaint.reporter_id, complaint.owner_id) == ("U0ALICE", "U0BOB")


def test_an_open_form_belongs_to_whoever_opened_it(capsys, database_url, open_session, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "/complaint\nas bob\nsubmit description=\"not mine to log\"\ncancel\n"
        "as alice\nsubmit description=\"Parcel for order 2207 soaked\"\n"
    ))

    assert out.count("the open form is alice's, not yours; `as alice` goes back to it") == 2
    with open_session() as session:
        complaints = session.exec(select(Complaint)).all()
    assert [(c.description, c.reporter_id) for c in complaints] == [("Parcel for order 2207 soaked", "U0ALICE")]


def test_press_by_label_ignores_emoji_and_case_and_picks_the_latest(capsys, database_url, open_session, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "/complaint first one\n/complaint second one\nas bob\npress take OWNERSHIP\n"
        "/kb how do I refund a customer\npress helpful\npress :+1: Helpful\npress Helpful 👍\npress no such label\n"
    ))

    with open_session() as session:
        owners = session.exec(select(Complaint.id, Complaint.owner_id).order_by(Complaint.id)).all()
    assert owners == [(1, "U0ALICE"), (2, "U0BOB")]
    assert out.count("Thanks! Noted that") == 3  # the 👍 Helpful button, pressed three ways
    assert "Not helpful" not in out.split("press helpful", 1)[1].split("bob> press no such label")[0]
    assert "there is no button labelled 'no such label'" in out


def test_button_labels_lose_their_emoji_for_matching():
    assert plain_label("👍 Helpful") == plain_label(":thumbsup:  helpful") == "helpful"
    assert plain_label("✅ Resolve") == "resolve" and plain_label("👎🏽 Not  helpful") == "not helpful"
    assert plain_label("1️⃣ First") == "first"


def test_thread_replies_and_followers_messages_show_where_they_go(capsys, database_url, tmp_path):
    out = play_text(capsys, database_url, tmp_path, (
        "/complaint #billing charged twice\n"
        "as bob\n/complaint follow C-1\n/complaint note C-1 called @alice back\n"
        "as alice\n/complaint resolve C-1 refunded\n"
    ))
    assert "You now follow C-1" in out
    thread = "servicedesk in #complaints, in the thread of “🔵 C-1 · normal · #billing ·"
    assert f"{thread} open”\n  │ 📝 *Bob* added a note: called @alice back\n" in out
    assert f"{thread} resolved”\n  │ ✅ *Alice* resolved it: refunded\n" in out
    assert "servicedesk in a DM to @bob" in out.split("*Alice* resolved it")[1]
