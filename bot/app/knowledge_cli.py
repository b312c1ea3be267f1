"""`servicedesk kb lint` and `servicedesk kb search`: the knowledge base at the terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.knowledge.library import KnowledgeLibrary
from bot.knowledge.semantic import SemanticUnavailable, load_encoder


def register_cli(subparsers) -> None:
    kb = subparsers.add_parser("kb", help="check and search the knowledge base")
    commands = kb.add_subparsers(dest="kb_command", required=True, metavar="COMMAND")

    lint = commands.add_parser("lint", help="report every problem in the articles (exit 1 if any)")
    lint.add_argument("dir", nargs="?", type=Path, help="knowledge folder (default KNOWLEDGE_DIR)")
    lint.add_argument("--dir", dest="dir_option", type=Path, help="the same as DIR")
    lint.set_defaults(run=run_lint)

    search = commands.add_parser("search", help="rank articles for a question, with scores")
    search.add_argument("question", nargs="*", help="the question (with --json and none: one per line on stdin)")
    search.add_argument("--dir", dest="dir_option", type=Path, help="knowledge folder (default KNOWLEDGE_DIR)")
    search.add_argument("--json", action="store_true", help="one JSON object per question")
    search.add_argument("--limit", type=int, default=5, help="how many articles to list (default 5)")
    search.add_argument("--semantic", action="store_true",
                        help="re-rank by meaning, as the bot does with KNOWLEDGE_SEMANTIC=true (needs the semantic extra)")
    search.set_defaults(run=run_search)


def _folder(args) -> Path:
    given = getattr(args, "dir", None) or args.dir_option
    if given is not None:
        return given
    from bot.config import load_settings

    return load_settings().knowledge_dir


def _load(folder: Path, semantic: bool = False) -> KnowledgeLibrary | None:
    if not folder.is_dir():
        print(f"servicedesk: {folder}: no such folder", file=sys.stderr)
        return None
    encoder = None
    if semantic:
        try:
            from bot.config import load_settings
            from bot.services import model_choice

            # The model as the bot would choose it, from the same settings (and .env).
            encoder = load_encoder(model_choice(load_settings()))
        except SemanticUnavailable as exc:
            print(f"servicedesk: searching by words only: {exc}", file=sys.stderr)
    library = KnowledgeLibrary(folder, encoder=encoder)
    library.refresh()
    return library


def run_lint(args) -> int:
    library = _load(_folder(args))
    if library is None:
        return 1
    for problem in library.problems:
        print(problem)
    summary = f"{len(library.articles)} article(s), {len(library.problems)} problem(s) in {library.root}"
    print(summary, file=sys.stderr)
    return 1 if library.problems else 0


def run_search(args) -> int:
    library = _load(_folder(args), semantic=args.semantic)
    if library is None:
        return 1
    limit = max(1, min(args.limit, 50))
    if args.question:
        questions = [" ".join(args.question)]
    elif args.json:
        questions = (line.rstrip("\r\n") for line in sys.stdin)
    else:
        print("servicedesk: give a question, or --json to read questions from stdin", file=sys.stderr)
        return 2
    titles = {article.path: article.title for article in library.articles}
    for question in questions:
        outcome = library.search(question, limit=limit)
        if args.json:
            results = [{"path": hit.key, "title": titles[hit.key], "score": hit.score} for hit in outcome.hits]
            print(json.dumps({"query": question, "results": results, "answered": outcome.answered}), flush=True)
            continue
        verdict = "answered" if outcome.answered else f"no confident answer ({outcome.reason})"
        print(f"{question!r}: {verdict}")
        for rank, hit in enumerate(outcome.hits, start=1):
            print(f"{rank:>3}. score {hit.score:.3f}  confidence {hit.confidence:.2f}  {hit.key}  {titles[hit.key]}")
    return 0
