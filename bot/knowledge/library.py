"""The knowledge folder, loaded and kept current with cheap change detection.

`refresh()` lists the folder and compares each Markdown file's modification time and
size with what it saw last; only changed files are read and parsed again, and the
search index is rebuilt only when something changed (and then only the shards holding
changed articles). `refresh(force=True)` reads every file again, for changes that kept
a file's time and size, but parses only those whose bytes differ. A file that turns broken keeps
serving its last good version, and its problems are reported. Readers see one
immutable `Snapshot` at a time, swapped in whole, so a search never sees half a
reload. `refresh_if_due()` does the same at most once per `min_interval` seconds, so
the bot can call it on every question; with `refresh_wait` set, that refresh runs on
the library's own thread and the question waits for it only that long, so a big
reload (thousands of changed files, or the semantic extra embedding new questions)
never holds up an answer Slack expects within 3 seconds. The first build fits the
search's calibration (bot.knowledge.calibration) before it serves; a later build whose
calibration must be fitted again serves the previous gate while the library's
calibration thread fits the new one, so an edit never waits for the fit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.articles import Article, Problem, parse_article
from bot.knowledge.checks import across_articles
from bot.knowledge.documents import Analyser, SearchDoc, SearchOutcome, SearchWeights
from bot.knowledge.search import SearchIndex
from bot.knowledge.semantic import Encoder

logger = logging.getLogger(__name__)

ARTICLE_SUFFIX = ".md"
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
MAX_ARTICLE_BYTES = 1_000_000
# The folder's own README explains the format; it is not an article.
NOT_ARTICLES = {"readme.md"}


@dataclass(frozen=True)
class Snapshot:
    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()
    index: SearchIndex = field(default_factory=lambda: SearchIndex([]))
    by_path: dict[str, Article] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_path.update((article.path, article) for article in self.articles)

    def article(self, path: str) -> Article | None:
        return self.by_path.get(path)


@dataclass(frozen=True)
class RefreshReport:
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    problems: tuple[Problem, ...]
    new_problems: tuple[Problem, ...]


@dataclass
class _FileState:
    signature: tuple[int, int]
    digest: bytes  # of the file's bytes, so a forced reload parses only what changed
    article: Article | None  # the last good version, served while the file is broken
    problems: list[Problem]
    doc: SearchDoc | None = field(init=False)  # what search needs of `article`, made once

    def __post_init__(self) -> None:
        self.doc = search_doc(self.article) if self.article is not None else None


class KnowledgeLibrary:
    def __init__(
        self,
        root: Path,
        *,
        weights: SearchWeights | None = None,
        min_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        encoder: Encoder | None = None,
        refresh_wait: float | None = None,
    ) -> None:
        self.root = Path(root)
        self.weights = weights or SearchWeights()
        self.min_interval = min_interval
        self._monotonic = monotonic
        self.encoder = encoder  # the semantic extra's model, when it is on
        self.refresh_wait = refresh_wait
        self._refresher: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._fitter: ThreadPoolExecutor | None = None
        self._fit: Future | None = None
        self._files: dict[str, _FileState] = {}
        self._analyser = Analyser()
        self._snapshot = Snapshot(index=SearchIndex([], self.weights))
        self._lock = threading.Lock()
        self._lock_pending = threading.Lock()
        self._last_refresh: float | None = None
        self._every_file: set[str] = set()
        self._built = False
        self.last_load_seconds = 0.0

    # ----- reading --------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def articles(self) -> tuple[Article, ...]:
        return self._snapshot.articles

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._snapshot.problems

    def search(self, query: str, limit: int = 3) -> SearchOutcome:
        return self._snapshot.index.search(query, limit)

    def search_docs(self) -> list[SearchDoc]:
        return list(self._snapshot.index.docs)

    # ----- loading --------------------------------------------------------------------------
    def refresh_if_due(self) -> RefreshReport | None:
        """Refresh unless that was done less than `min_interval` seconds ago.

        With `refresh_wait`, wait at most that long for the refresh (None: it goes on in
        the background, and the current snapshot is served meanwhile).
        """
        with self._lock_pending:
            pending = self._pending
            if pending is None or pending.done():
                now = self._monotonic()
                if self._last_refresh is not None and 0 <= now - self._last_refresh < self.min_interval:
                    return None
                if self.refresh_wait is None:
                    pending = None
                else:
                    self._refresher = self._refresher or ThreadPoolExecutor(1, thread_name_prefix="knowledge-refresh")
                    pending = self._pending = self._refresher.submit(self.refresh)
        if pending is None:
            return self.refresh()
        try:
            return pending.result(timeout=self.refresh_wait)
        except FutureTimeout:
            return None

    def finish_refresh(self, timeout: float | None = None) -> None:
        """Wait for a refresh going on in the background, if any."""
        if self._pending is not None:
            self._pending.result(timeout=timeout)

    def finish_calibration(self, timeout: float | None = None) -> None:
        """Wait until the index served has its own calibration (see `_fit_in_background`)."""
        if self._fit is not None:
            self._fit.result(timeout=timeout)

    def _fit_in_background(self, index: SearchIndex) -> None:
        # An index replaced before its fit began never needs that fit.
        if self._fit is not None:
            self._fit.cancel()
        self._fitter = self._fitter or ThreadPoolExecutor(1, thread_name_prefix="knowledge-calibration")
        self._fit = self._fitter.submit(_fit_calibration, index)

    def refresh(self, *, force: bool = False) -> RefreshReport:
        """Pick up changed, new and removed files; with `force`, read every file again."""
        with self._lock:
            started = time.perf_counter()
            self._last_refresh = self._monotonic()
            previous = self._snapshot
            markdown, every_file = self._scan()
            changed = [path for path, signature in markdown.items()
                       if force or path not in self._files or self._files[path].signature != signature]
            removed = [path for path in self._files if path not in markdown]
            for path in removed:
                del self._files[path]
            reloaded = [path for path in changed if self._load(path, markdown[path])]
            # A file that vanished while being read is gone, not broken.
            changed = [path for path in reloaded if path in self._files]
            removed += [path for path in reloaded if path not in self._files]
            if changed or removed or every_file != self._every_file or not self._built:
                self._snapshot = self._build(every_file)
                self._every_file, self._built = every_file, True
                if self._snapshot.index.calibration_pending:
                    self._fit_in_background(self._snapshot.index)
            self.last_load_seconds = time.perf_counter() - started
            known = set(previous.problems)
            new_problems = tuple(p for p in self._snapshot.problems if p not in known)
            return RefreshReport(tuple(changed), tuple(removed), self._snapshot.problems, new_problems)

    def _scan(self) -> tuple[dict[str, tuple[int, int]], set[str]]:
        """Signatures (mtime, size) of the article files, and every file's relative path."""
        markdown: dict[str, tuple[int, int]] = {}
        every_file: set[str] = set()
        if not self.root.is_dir():
            return markdown, every_file
        pending = [(str(self.root), "")]
        while pending:
            folder, prefix = pending.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                logger.warning("cannot list %s: %s", folder, exc)
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                relative = prefix + entry.name
                try:
                    if entry.is_dir():
                        pending.append((entry.path, relative + "/"))
                        continue
                    if not entry.is_file():
                        continue
                    every_file.add(relative)
                    if entry.name.lower().endswith(ARTICLE_SUFFIX) and entry.name.lower() not in NOT_ARTICLES:
                        stat = entry.stat()
                        markdown[relative] = (stat.st_mtime_ns, stat.st_size)
                except OSError:
                    continue  # deleted between listing and looking at it
        return markdown, every_file

    def _load(self, path: str, signature: tuple[int, int]) -> bool:
        """Read and parse the file again unless its bytes are the same; False when it
        did not change after all, or vanished while being read (it is gone, not broken)."""
        previous = self._files.get(path)
        last_good = previous.article if previous else None
        try:
            with open(self.root / path, "rb") as handle:
                data = handle.read(MAX_ARTICLE_BYTES + 1)
        except FileNotFoundError:
            self._files.pop(path, None)
            return previous is not None
        except OSError as exc:
            owner = last_good.owner if last_good else ""
            problem = Problem(path, 1, f"cannot be read: {exc.strerror or exc}", owner)
            self._files[path] = _FileState(signature, b"", last_good, [problem])
            return True
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if previous is not None and previous.digest == digest:
            previous.signature = signature
            return False
        if len(data) > MAX_ARTICLE_BYTES:
            problems = [Problem(path, 1, f"the file is over {MAX_ARTICLE_BYTES:,} bytes; split it into several articles")]
            self._files[path] = _FileState(signature, digest, last_good, problems)
            return True
        article, problems = parse_article(path, data)
        if problems and last_good is not None:
            # Keep answering from the last good version, and say who should fix this one.
            problems = [p if p.owner else Problem(p.path, p.line, p.message, last_good.owner) for p in problems]
            article = last_good
        elif problems:
            article = None
        self._files[path] = _FileState(signature, digest, article, problems)
        return True

    def _build(self, every_file: set[str]) -> Snapshot:
        states = [self._files[path] for path in sorted(self._files)]
        articles = tuple(state.article for state in states if state.article)
        problems = [problem for state in states for problem in state.problems]
        problems += across_articles(articles, every_file)
        docs = [state.doc for state in states if state.article]
        index = SearchIndex(docs, self.weights, self._analyser, previous=self._snapshot.index, encoder=self.encoder,
                            fit_later=True)
        return Snapshot(articles, tuple(problems), index)


def _fit_calibration(index: SearchIndex) -> None:
    started = time.perf_counter()
    try:
        index.fit_calibration()
    except Exception:  # the previous gate keeps serving; the next reload tries again
        logger.exception("knowledge base: fitting the search's calibration failed")
        return
    logger.info("knowledge base: calibration refitted in %.1f s", time.perf_counter() - started)


def search_doc(article: Article) -> SearchDoc:
    # Link targets are addresses, not words anyone asks with.
    body = _LINK_TARGET.sub("]", article.body)
    return SearchDoc(article.path, article.title, article.questions, article.tags, body)
