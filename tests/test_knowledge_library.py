"""Loading the knowledge folder: change detection, last good versions, odd files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from bot.knowledge.library import KnowledgeLibrary
from bot.knowledge.semantic import Encoder
from tests.knowledge_files import write_article, write_sample


class Ticker:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bump(path: Path) -> None:
    """Make sure a rewrite is seen even on file systems with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def delete_when_opened(monkeypatch, victim: Path) -> None:
    """Make `victim` vanish just as the library opens it."""
    real_open = open

    def open_after_deleting(path, *args, **kwargs):
        if Path(path) == victim and victim.exists():
            victim.unlink()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", open_after_deleting)


def test_loads_a_folder_with_categories(tmp_path):
    library = KnowledgeLibrary(write_sample(tmp_path))
    report = library.refresh()
    assert [a.path for a in library.articles] == [
        "complaints/escalation.md", "complaints/taking-ownership.md", "privacy-requests.md",
        "returns/refunds.md", "returns/returns-and-exchanges.md",
    ]
    assert {a.category for a in library.articles} == {"complaints", "returns", ""}
    assert report.problems == () and len(report.changed) == 5


def test_missing_or_empty_folders_are_empty_knowledge_bases(tmp_path):
    missing = KnowledgeLibrary(tmp_path / "nowhere")
    missing.refresh()
    assert missing.articles == () and not missing.search("refund").answered
    (tmp_path / "empty").mkdir()
    empty = KnowledgeLibrary(tmp_path / "empty")
    empty.refresh()
    outcome = empty.search("refund")
    assert outcome.hits == [] and outcome.reason == "the knowledge base has no articles yet"


def test_readme_hidden_and_other_files_are_not_articles(tmp_path):
    write_sample(tmp_path)
    (tmp_path / "README.md").write_text("# About this folder\n", encoding="utf-8")
    (tmp_path / ".draft.md").write_text("not yet", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text("no", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\x00")
    library = KnowledgeLibrary(tmp_path)
    report = library.refresh()
    assert len(library.articles) == 5 and report.problems == ()


def test_changes_are_picked_up_and_unchanged_refreshes_reuse_the_index(tmp_path):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    library.refresh()
    before = library.snapshot
    assert library.refresh().changed == () and library.snapshot is before

    path = write_article(tmp_path, "returns/refunds.md", "Refunds and chargebacks", questions=["what is a chargeback"])
    bump(path)
    report = library.refresh()
    assert report.changed == ("returns/refunds.md",)
    assert library.snapshot.article("returns/refunds.md").title == "Refunds and chargebacks"
    assert library.search("chargeback").hits[0].key == "returns/refunds.md"

    path.unlink()
    assert library.refresh().removed == ("returns/refunds.md",)
    assert library.snapshot.article("returns/refunds.md") is None


def test_a_broken_edit_keeps_the_last_good_version_and_reports_it(tmp_path):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    library.refresh()
    path = tmp_path / "returns" / "returns-and-exchanges.md"
    path.write_text("---\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    bump(path)
    report = library.refresh()
    assert library.snapshot.article("returns/returns-and-exchanges.md").title == "Returns and exchanges"
    [problem] = report.new_problems
    assert str(problem).startswith("returns/returns-and-exchanges.md:3: bad YAML")
    assert problem.owner == "UADMIN0005"  # from the last good version
    assert library.refresh().new_problems == ()  # reported once, still listed
    assert len(library.problems) == 1


def test_a_new_broken_file_is_not_served(tmp_path):
    write_article(tmp_path, "bad.md", None, tags=["x"])
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\nx".encode("latin-1"))
    library = KnowledgeLibrary(tmp_path)
    report = library.refresh()
    assert library.articles == ()
    assert sorted(p.path for p in report.problems) == ["bad.md", "binary.md", "latin1.md"]


def test_a_file_deleted_while_being_read_is_simply_gone(tmp_path, monkeypatch):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    victim = tmp_path / "returns" / "refunds.md"
    delete_when_opened(monkeypatch, victim)
    report = library.refresh()
    assert len(library.articles) == 4 and report.problems == ()


def test_a_loaded_file_deleted_while_being_read_is_removed(tmp_path, monkeypatch):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    library.refresh()
    victim = tmp_path / "returns" / "refunds.md"
    bump(victim)
    delete_when_opened(monkeypatch, victim)
    report = library.refresh()
    assert report.removed == ("returns/refunds.md",) and report.changed == ()
    assert library.snapshot.article("returns/refunds.md") is None
    assert "returns/refunds.md" not in {hit.key for hit in library.search("refund", limit=5).hits}


def test_a_forced_reload_reads_every_file_and_catches_edits_that_kept_time_and_size(tmp_path):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    library.refresh()
    before = library.snapshot
    report = library.refresh(force=True)
    assert report.changed == () and library.snapshot is before  # same bytes: nothing parsed or rebuilt

    path = tmp_path / "returns" / "refunds.md"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("title: Refunds", "title: Rebates"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert library.refresh().changed == ()  # same time and size: cheap detection misses it
    assert library.refresh(force=True).changed == ("returns/refunds.md",)
    assert library.snapshot.article("returns/refunds.md").title == "Rebates"


def test_after_edits_additions_and_deletions_search_ranks_as_a_fresh_load(tmp_path):
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path)
    library.refresh()
    bump(write_article(tmp_path, "returns/refunds.md", "Refunds and chargebacks",
                       questions=["what is a chargeback", "customer was charged twice"], body="Chargebacks take weeks."))
    (tmp_path / "complaints" / "escalation.md").unlink()
    write_article(tmp_path, "loyalty/points.md", "Loyalty points", tags=["loyalty"],
                  questions=["how do customers earn points", "points missing after a refund"], body="Points arrive in a day.")
    library.refresh()
    library.finish_calibration(timeout=60)  # the edits' refit runs on the library's calibration thread
    fresh = KnowledgeLibrary(tmp_path)
    fresh.refresh()
    assert [a.path for a in library.articles] == [a.path for a in fresh.articles]
    for question in ("chargeback", "charged twice refund", "when do I escalate", "loyalty points missing",
                     "refnud", "who owns this complaint", "customer data copy", "earn points"):
        got, expected = library.search(question, limit=5), fresh.search(question, limit=5)
        assert (got.answered, got.reason) == (expected.answered, expected.reason), question
        assert [(h.key, h.score, h.confidence) for h in got.hits] == [(h.key, h.score, h.confidence) for h in expected.hits]


def test_refresh_if_due_checks_at_most_once_per_interval(tmp_path):
    ticker = Ticker()
    library = KnowledgeLibrary(tmp_path, min_interval=1.0, monotonic=ticker)
    assert library.refresh_if_due() is not None
    write_article(tmp_path, "new.md", "New article")
    ticker.now += 0.5
    assert library.refresh_if_due() is None and library.articles == ()
    ticker.now += 0.6
    assert library.refresh_if_due().changed == ("new.md",)


class GatedModel:
    """Stands in for the sentence-embedding model (a third-party dependency): it answers
    only while its gate is open, so a test can hold a reload in the middle."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()

    def encode(self, texts, **_options) -> np.ndarray:
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        return one_hot(texts)


def one_hot(texts) -> np.ndarray:
    vectors = np.zeros((len(texts), 8), dtype=np.float32)
    vectors[np.arange(len(texts)), [hash(text) % 8 for text in texts]] = 1.0
    return vectors


def test_a_slow_reload_does_not_hold_up_questions(tmp_path):
    ticker, model = Ticker(), GatedModel()
    write_article(tmp_path, "refunds.md", "Refunds", questions=["customer was charged twice"])
    library = KnowledgeLibrary(tmp_path, monotonic=ticker, encoder=Encoder(model), refresh_wait=0.05)
    library.refresh()

    model.gate.clear()  # the next reload gets stuck embedding the new article's question
    write_article(tmp_path, "lockers.md", "Parcel lockers", questions=["can I send it to a parcel locker"])
    ticker.now += 2
    assert library.refresh_if_due() is None  # waited 0.05 s, then served what it had
    assert [a.path for a in library.articles] == ["refunds.md"]
    ticker.now += 2
    assert library.refresh_if_due() is None  # joins the reload under way; no second one
    model.gate.set()
    library.finish_refresh(timeout=10)
    assert [a.path for a in library.articles] == ["lockers.md", "refunds.md"]


class HeldQuestionModel(GatedModel):
    """Holds only a call for one question on its own, which is how the calibration asks
    an article's question (a reload embeds an article's texts together)."""

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def encode(self, texts, **_options) -> np.ndarray:
        return super().encode(texts) if list(texts) == [self.question] else one_hot(texts)


def test_a_reload_serves_new_articles_at_once_and_the_previous_gate_until_the_refit_is_done(tmp_path):
    question = "can I send it to a parcel locker"
    model = HeldQuestionModel(question)
    write_sample(tmp_path)
    library = KnowledgeLibrary(tmp_path, encoder=Encoder(model))
    library.refresh()
    assert not library.snapshot.index.calibration_pending  # the first build is fitted before it serves
    first_gate = library.snapshot.index.calibration

    model.gate.clear()  # the refit will be held when it asks the new article's question
    write_article(tmp_path, "lockers.md", "Parcel lockers", questions=[question, "locker is full"])
    library.refresh()
    index = library.snapshot.index
    assert "lockers.md" in [a.path for a in library.articles]
    assert index.calibration_pending and index.calibration is first_gate
    # It answers meanwhile (which article ranks first depends on the stand-in model's vectors).
    assert library.search("customer was charged twice").hits
    assert "lockers.md" in {hit.key for hit in library.search("parcel locker", limit=6).hits}

    model.gate.set()
    library.finish_calibration(timeout=60)
    assert not index.calibration_pending and index.calibration is not first_gate
    fresh = KnowledgeLibrary(tmp_path, encoder=Encoder(model))
    fresh.refresh()
    assert index.calibration == fresh.snapshot.index.calibration


def test_huge_files_are_refused(tmp_path):
    write_article(tmp_path, "huge.md", "Huge", body="x" * 1_100_000)
    library = KnowledgeLibrary(tmp_path)
    assert "over 1,000,000 bytes" in str(library.refresh().problems[0])


def test_a_complaint_after_the_articles_change_is_not_answered_from_a_remembered_analysis(tmp_path):
    # Suggestions on the ack path remember each complaint's lexical stage per sequence of
    # words the index knows (bot/knowledge/search.py); after an edit reloaded while the bot
    # runs, a complaint made of the same known words must be matched against the new articles.
    from bot.knowledge.suggestions import articles_for_complaint
    from bot.knowledge.text import normalise, terms

    ticker = Ticker()
    library = KnowledgeLibrary(write_sample(tmp_path), min_interval=1.0, monotonic=ticker)
    library.refresh()
    library.finish_calibration(timeout=60)
    first, complaint = "Jane Roe: the customer was charged twice, 1182", "Li Wei: the customer was charged twice, 90417"
    before = [hit.key for hit in library.search(first, limit=5).hits]
    old_index = library.snapshot.index
    bump(write_article(tmp_path, "billing/double-charges.md", "Double charges", tags=["billing"],
                       questions=["customer was charged twice", "two payments for one purchase"],
                       body="Void the second payment the same day."))
    ticker.now += 2
    library.refresh_if_due()
    library.finish_calibration(timeout=60)
    after = articles_for_complaint(library, complaint)
    fresh = KnowledgeLibrary(tmp_path)
    fresh.refresh()
    words = terms(normalise(complaint), drop_stopwords=False)
    assert old_index._analysis_key(words) == library.snapshot.index._analysis_key(words)  # what a stale memo would match
    got, expected = library.search(complaint, limit=5), fresh.search(complaint, limit=5)
    assert "billing/double-charges.md" not in before and got.hits[0].key == "billing/double-charges.md"
    assert [a.path for a in after] == [a.path for a in articles_for_complaint(fresh, complaint)]
    assert [(h.key, h.score, h.confidence) for h in got.hits] == [(h.key, h.score, h.confidence) for h in expected.hits]
