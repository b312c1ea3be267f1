"""`servicedesk kb lint` and `servicedesk kb search`, run as a person would."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.app.cli import main
from tests.knowledge_files import write_article, write_sample
from tests.shared import PROJECT_ROOT


def test_lint_passes_a_clean_folder_and_fails_with_file_and_line(tmp_path, capsys):
    write_sample(tmp_path)
    assert main(["kb", "lint", str(tmp_path)]) == 0
    assert "5 article(s), 0 problem(s)" in capsys.readouterr().err

    write_article(tmp_path, "dup.md", "Refunds", body="See [gone](gone.md).", extra="x")
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00")
    assert main(["kb", "lint", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "bin.md:1: this is a binary file, not Markdown text",
        "dup.md:3: unknown key `extra` (known keys: title, tags, questions, owner, updated)",
    ]


def test_lint_reports_problems_across_articles(tmp_path, capsys):
    write_sample(tmp_path)
    write_article(tmp_path, "dup.md", "REFUNDS", questions=["How long does a refund take?"], body="See [gone](gone.md).")
    assert main(["kb", "lint", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "dup.md:6: broken link: gone.md does not exist",
        "returns/refunds.md:2: the same title as dup.md; titles must differ",
        "returns/refunds.md:7: duplicate question “how long does a refund take” (also dup.md:4)",
    ]


def test_lint_of_a_missing_or_empty_folder(tmp_path, capsys):
    assert main(["kb", "lint", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["kb", "lint", str(tmp_path)]) == 0
    assert "0 article(s)" in capsys.readouterr().err


def test_search_shows_the_ranking_with_scores(tmp_path, capsys):
    write_sample(tmp_path)
    assert main(["kb", "search", "--dir", str(tmp_path), "how long does a refund take"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "'how long does a refund take': answered"
    assert "returns/refunds.md  Refunds" in lines[1] and "score 1.000" in lines[1]
    assert main(["kb", "search", "--dir", str(tmp_path), "🙂"]) == 0
    assert "no confident answer" in capsys.readouterr().out


def test_search_json_reads_questions_from_stdin_one_object_per_line(tmp_path):
    write_sample(tmp_path)
    questions = "how long does a refund take\n\n🙂🙂\nКак дела\n" + "x" * 5000 + "\ndelete my personal data\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "kb", "search", "--json", "--dir", str(tmp_path)],
        input=questions, capture_output=True, text=True, encoding="utf-8", cwd=PROJECT_ROOT, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["query"][:30] for row in rows] == ["how long does a refund take", "", "🙂🙂", "Как дела", "x" * 30,
                                                     "delete my personal data"]
    assert [row["answered"] for row in rows] == [True, False, False, False, False, True]
    first = rows[0]
    assert set(first) == {"query", "results", "answered"}
    assert first["results"][0] == {"path": "returns/refunds.md", "title": "Refunds", "score": 1.0}
    assert all(set(result) == {"path", "title", "score"} for row in rows for result in row["results"])
    assert rows[-1]["results"][0]["path"] == "privacy-requests.md"


def test_search_without_a_question_or_json_explains(tmp_path, capsys):
    assert main(["kb", "search", "--dir", str(tmp_path)]) == 2
    assert "give a question" in capsys.readouterr().err


def test_the_default_folder_comes_from_knowledge_dir(tmp_path, monkeypatch, capsys):
    write_sample(tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path / "kb"))
    assert main(["kb", "lint"]) == 0
    assert "5 article(s)" in capsys.readouterr().err


def test_the_starter_articles_lint_clean(capsys):
    assert main(["kb", "lint", str(PROJECT_ROOT / "knowledge")]) == 0
    summary = capsys.readouterr().err
    count = int(summary.split(" article")[0])
    assert 15 <= count <= 25, summary
