"""Complaint search over a million complaints: the full-text index against a LIKE scan.

Builds a database with the app's own migrations up to the one before the search index,
bulk-loads N complaints (descriptions and notes are BANKING77 customer utterances, see
../shared/datasets/banking77/SOURCE.md, CC BY 4.0; customers, owners, categories,
resolutions and two years of dates are generated), then upgrades to the newest revision,
so migration 0008 backfills the index as it would on a live database, and times it.

Then it runs a few hundred mixed searches through `bot.complaint_search.search_complaints`
(words, typo'd words, words with filters, filters alone, customers, pages 2-5) on the
project's own engine settings (SQLite: WAL, synchronous=NORMAL; PostgreSQL: a throwaway
server with its durable defaults, fsync on), and, in the same run, the baseline: the
same words as `description LIKE '%word%'` scans over a sample of `--baseline-rows`.

    .venv/bin/python -m bench.complaint_search                     # 1,000,000 complaints
    .venv/bin/python -m bench.complaint_search --quick             # 20,000: a smoke run
    .venv/bin/python -m bench.complaint_search --postgres-url URL  # an existing server (superuser)

SQLite's file is kept in --workdir for the next run (delete it after changing the data).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from bench.digest import COMPLAINT_COLUMNS, EVENT_COLUMNS, _values, insert_history_sqlite
from bot.complaint_search import SearchQuery, search_complaints
from bot.complaint_search_query import words_of
from models.db import alembic_config, make_engine, session_factory, upgrade
from tests.shared import PROJECT_ROOT

# The revision that adds the index (the integrator may renumber it): data is loaded
# before it, so the benchmark also times the migration's backfill.
SEARCH_REVISION = "0008"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
CATEGORIES = ["billing", "delivery", "product", "service", "website", "other"]
SEVERITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
OWNERS = [f"U{n:08d}" for n in range(200)]
FIRST = ("jane omar wei priya lucas amara sofia mateo chloe yusuf elena noah aiko liam fatima olga "
         "diego hannah ravi zoe isabel kwame mia tariq nora felix leila jonas ines samir").split()
LAST = ("roe haddad chen patel silva okafor rossi garcia martin yilmaz novak smith tanaka murphy "
        "khan ivanova lopez schmidt singh brown santos mensah nielsen ali berg costa fischer kowalski").split()
DOMAINS = ["example.com", "mail.example.org", "post.example.net"]
RESOLUTIONS = [
    "Refunded the fee and apologised", "Reissued the card by courier", "Explained the exchange rate applied",
    "Unlocked the account after identity check", "Reversed the duplicate charge", "Escalated to payments, fixed",
    "Sent a replacement PIN letter", "Corrected the address and resent", "Goodwill credit of 10 pounds",
    "Customer withdrew the complaint", "Transfer traced and released", "Cancelled the pending payment",
]
NOTES = [
    "Called the customer back, left a voicemail", "Customer sent screenshots by email", "Waiting for payments team",
    "Checked the transaction log, looks like a duplicate", "Promised an answer by Friday", "Spoke to the branch",
]
STOP = set("what when where which with have that this from there they their your would could should will about "
           "been into than then them does were just been also like".split())


# ----- the data ---------------------------------------------------------------------------------
def utterances() -> list[str]:
    folder = PROJECT_ROOT.parent / "shared" / "datasets" / "banking77"
    texts = []
    for name in ("train.csv", "test.csv"):
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            texts += [" ".join(row["text"].split()) for row in csv.DictReader(handle)]
    return texts


def history(count: int, texts: list[str], seed: int = 12):
    """(complaint row, events) per complaint, oldest first; mostly resolved except lately."""
    rng = random.Random(seed)
    start = NOW - SPAN
    for number in range(1, count + 1):
        created = start + SPAN * ((number - 1) / count) + timedelta(seconds=rng.random())
        owner = rng.choice(OWNERS)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact = (f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}" if rng.random() < 0.6
                   else f"+44 7700 {rng.randint(100000, 999999)}")
        age = NOW - created
        resolved = created + timedelta(hours=rng.expovariate(1 / 40)) if rng.random() < min(0.97, age.days / 20) else None
        resolved = resolved if resolved and resolved < NOW else None
        description = rng.choice(texts) + (f" (order {rng.randint(1000, 99999)})" if rng.random() < 0.3 else "")
        resolution = rng.choice(RESOLUTIONS) if resolved else ""
        row = {
            "id": number, "description": description, "customer_name": f"{first.title()} {last.title()}",
            "customer_contact": contact, "contact_channel": "email", "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES), "status": "resolved" if resolved else "open", "owner_id": owner,
            "reporter_id": owner, "resolution": resolution, "created_at": created, "resolved_at": resolved,
            "updated_at": resolved or created,
        }
        events = [(number, "logged", owner, created, owner, "")]
        if rng.random() < 0.5:
            events.append((number, "responded", owner, created + timedelta(minutes=30), "", rng.choice(NOTES)))
        if rng.random() < 0.3:
            events.append((number, "noted", owner, created + timedelta(minutes=45), "", "Customer adds: " + rng.choice(texts)))
        if resolved:
            events.append((number, "resolved", owner, resolved, "", resolution))
        yield row, events


def load_sqlite(path: Path, count: int, texts: list[str]) -> None:
    """Through sqlite3 with the engine's own pragmas (models.db), in large transactions."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    insert_history_sqlite(connection, history(count, texts))
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, count: int, texts: list[str]) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row, _ in history(count, texts):
                    copy.write_row(_values(row, lambda moment: moment))
            with cursor.copy(f"COPY complaint_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for _, events in history(count, texts):
                    for event in events:
                        copy.write_row(event)
            cursor.execute("SELECT setval('complaint_id_seq', %s)", (max(count, 1),))
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def build(backend: str, count: int, texts: list[str], workdir: Path, server_url: str | None) -> tuple[str, dict]:
    """A loaded, fully migrated database, and how long loading and the index backfill took.

    Built under another name and renamed when complete, so a run cut short leaves nothing
    to be reused; a complete one is kept for the next run (SQLite's file in `workdir`,
    PostgreSQL's database on the server) and then reports no timings.
    """
    if backend == "sqlite":
        path = workdir / f"complaint-search-{count}.db"
        if not path.exists():
            partial = path.with_suffix(".partial")
            for leftover in workdir.glob(partial.name + "*"):
                leftover.unlink()
            timings = _load_and_migrate(f"sqlite:///{partial}", lambda: load_sqlite(partial, count, texts))
            partial.rename(path)
            return f"sqlite:///{path}", timings
        url, timings = f"sqlite:///{path}", {}
    else:
        name = f"bench_complaint_search_{count}"
        server = server_url.rsplit("/", 1)[0]
        url, timings = f"{server}/{name}", {}
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}_partial WITH (FORCE)"))
                connection.execute(text(f"CREATE DATABASE {name}_partial"))
                timings = _load_and_migrate(f"{url}_partial", lambda: load_postgres(f"{url}_partial", count, texts))
                connection.execute(text(f"ALTER DATABASE {name}_partial RENAME TO {name}"))
        admin.dispose()
    upgrade(url)
    return url, timings


def _load_and_migrate(url: str, load) -> dict:
    """Migrate to just before the search index, load, then let its migration backfill it."""
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision(SEARCH_REVISION).down_revision
    upgrade(url, before)
    started = time.perf_counter()
    load()
    loaded = time.perf_counter()
    upgrade(url)
    return {"load_s": loaded - started, "backfill_s": time.perf_counter() - loaded}


# ----- the searches ---------------------------------------------------------------------------------
def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger that leaves the first letter alone."""
    at = rng.randrange(1, len(word))
    kind = rng.choice(("drop", "swap", "double"))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word[:at] + word[at] + word[at:]


def searches(texts: list[str], count: int, seed: int = 5) -> list[tuple[str, SearchQuery, int]]:
    """(kind, query, page) in a fixed mix; words are drawn from real utterances."""
    rng = random.Random(seed)

    def some_words(n: int) -> tuple[str, ...]:
        while True:
            words = [w for w in words_of(rng.choice(texts)) if len(w) >= 4 and w not in STOP and w.isalpha()]
            if len(words) >= n:
                return tuple(rng.sample(words, n))

    day = NOW - timedelta(days=rng.randint(30, 600))
    mix = []
    per_kind = max(count // 7, 1)
    for _ in range(per_kind):
        mix.append(("words", SearchQuery(words=some_words(rng.choice((1, 2, 2, 3)))), 1))
        mix.append(("typo", SearchQuery(words=(typo(some_words(1)[0], rng),) + some_words(rng.choice((0, 1)))), 1))
        mix.append(("words + filters", SearchQuery(words=some_words(1), status=rng.choice(("open", "resolved")),
                                                   category=rng.choice(CATEGORIES)), 1))
        mix.append(("filters alone", rng.choice([
            SearchQuery(status="resolved"), SearchQuery(status="open", owner_id=rng.choice(OWNERS)),
            SearchQuery(category=rng.choice(CATEGORIES), severity="urgent"),
            SearchQuery(since=day, until=day + timedelta(days=7), owner_id=rng.choice(OWNERS)),
        ]), rng.randint(1, 3)))
        mix.append(("customer", SearchQuery(customer=(rng.choice(LAST),), words=some_words(rng.choice((0, 1)))), 1))
        mix.append(("words, pages 2-5", SearchQuery(words=some_words(rng.choice((1, 2)))), rng.randint(2, 5)))
        mix.append(("dates + words", SearchQuery(words=some_words(1), since=day, until=day + timedelta(days=30)), 1))
    return mix


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def server_cpu_seconds(session) -> float:
    """CPU the PostgreSQL backend serving this session has used (0 on SQLite, in-process)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, mix, baseline_rows: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Wall seconds per search by kind, and CPU seconds (this process and the database
    server's backend) per kind: on a shared machine CPU is steadier than wall time."""
    engine = make_engine(url)
    open_session = session_factory(engine)
    times: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    for _, query, page in mix[:20]:  # warm the caches as a running bot's would be
        with open_session() as session:
            search_complaints(session, query=query, page=page, page_size=10, now=NOW)
    for kind, query, page in mix:
        with open_session() as session:
            server = server_cpu_seconds(session)
            process = time.process_time()
            started = time.perf_counter()
            search_complaints(session, query=query, page=page, page_size=10, now=NOW)
            times.setdefault(kind, []).append(time.perf_counter() - started)
            cpu[kind] = cpu.get(kind, 0.0) + time.process_time() - process + server_cpu_seconds(session) - server
    scan = text("SELECT id FROM complaint WHERE id <= :n AND description LIKE :p ORDER BY created_at DESC LIMIT 10")
    count = text("SELECT count(*) FROM complaint WHERE id <= :n AND description LIKE :p")
    baseline = f"baseline: LIKE scan, {baseline_rows:,} rows"
    for kind, query, _ in mix:
        if kind != "words":
            continue
        with open_session() as session:
            server = server_cpu_seconds(session)
            process = time.process_time()
            started = time.perf_counter()
            session.execute(scan, {"n": baseline_rows, "p": f"%{query.words[0]}%"}).all()
            session.execute(count, {"n": baseline_rows, "p": f"%{query.words[0]}%"}).scalar()
            times.setdefault(baseline, []).append(time.perf_counter() - started)
            cpu[baseline] = cpu.get(baseline, 0.0) + time.process_time() - process + server_cpu_seconds(session) - server
    engine.dispose()
    return times, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, help="default 1,000,000 (--quick: 20,000)")
    parser.add_argument("--queries", type=int, help="searches per backend, in a fixed mix; default 350 (--quick: 70)")
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 complaints, 70 searches")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", help="a superuser URL to use instead of starting a throwaway server")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/servicedesk-bench"))
    args = parser.parse_args(argv)
    args.complaints = args.complaints or (20_000 if args.quick else 1_000_000)
    args.queries = args.queries or (70 if args.quick else 350)
    args.baseline_rows = min(args.baseline_rows, args.complaints)
    args.workdir.mkdir(parents=True, exist_ok=True)
    texts = utterances()
    mix = searches(texts, args.queries)
    print(f"{args.complaints:,} complaints; {len(mix)} searches per backend, page size 10")
    print("| backend | searches | n | p50 ms | p95 ms | max ms | CPU ms per search |")
    print("|---|---|---|---|---|---|---|", flush=True)
    for backend in args.backends.split(","):
        cluster, server_url = None, args.postgres_url
        if backend == "postgresql" and server_url is None:
            from tests.postgres import start_cluster

            cluster = start_cluster(durable=True)
            server_url = cluster.url
        try:
            url, timings = build(backend, args.complaints, texts, args.workdir, server_url)
            times, cpu = measure(url, mix, args.baseline_rows)
        finally:
            if cluster is not None:
                cluster.stop()
        searched = [kind for kind in times if not kind.startswith("baseline")]
        times["all searches"] = [t for kind in searched for t in times[kind]]
        cpu["all searches"] = sum(cpu[kind] for kind in searched)
        for kind, values in times.items():
            ms = [v * 1000 for v in values]
            print(f"| {backend} | {kind} | {len(ms)} | {statistics.median(ms):.1f} | {percentile(ms, 0.95):.1f} | "
                  f"{max(ms):.1f} | {cpu[kind] * 1000 / len(ms):.1f} |", flush=True)
        if timings:
            print(f"<!-- {backend}: loaded in {timings['load_s']:.0f} s, migration 0008 backfilled the index in "
                  f"{timings['backfill_s']:.0f} s -->", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
