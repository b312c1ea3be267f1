"""The morale report over a large history, against a naive version that loads the rows.

For each size and database: load a synthetic history (recognitions spread over a
year among `--people` people, 2% taken back, a fifth linked to complaints, plus
planted reciprocal pairs and limit hitters so every query has something to find),
then time `bot.morale.morale_report` and a naive version that loads every
recognition, complaint and complaint event into Python and loops over them. Each
measurement runs in a fresh subprocess, so its peak RSS is its own; tracemalloc's
peak (Python allocations only) is taken in a separate run because tracing slows the
code it watches. Both versions must return the same report.

    python -m bench.morale_report [--sizes 100000,1000000] [--people 10000] [--repeats 7]

PostgreSQL is a throwaway cluster started the way the tests start one
(tests/postgres.py), or TEST_DATABASE_URL when set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time as clock_time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.morale import (
    LIMIT_MIN_DAYS, RECIPROCAL_MIN_EXCHANGES, RECIPROCAL_WINDOW, TOP_VALUES, WEEK_DAYS, WINDOW_DAYS,
    LimitHitter, MoraleReport, PeriodCounts, ReciprocalPair, morale_report,
)
from models.complaints import Complaint, ComplaintEvent, EventKind, Status
from models.db import make_engine, normalise_url, upgrade
from models.kudos import Recognition

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
END = date(2026, 11, 25)
ZONE = ZoneInfo("UTC")
DAILY_LIMIT = 5
SPAN_DAYS = 365
VALUES = ("ownership", "speed", "empathy", "extra-mile", "")
COMPLAINTS_PER_PERSON = 2
PLANTED_PAIRS = 20
PLANTED_LIMIT_HITTERS = 10
RECOGNITION_COLUMNS = (
    "giver_id", "recipient_id", "value", "reason", "complaint_id", "source", "dedup_key",
    "message_channel", "message_ts", "post_channel", "post_ts", "created_at", "day", "revoked_at",
)


# ----- the naive version: every row into Python -------------------------------------------------
def naive_morale_report(session: Session, *, end: date, zone: ZoneInfo, daily_limit: int, staff_ids=()) -> MoraleReport:
    return morale_from_rows(
        session.exec(select(Recognition)).all(), session.exec(select(Complaint)).all(),
        session.exec(select(ComplaintEvent)).all(), end=end, zone=zone, daily_limit=daily_limit, staff_ids=staff_ids,
    )


def morale_from_rows(recognitions, complaints, events, *, end: date, zone: ZoneInfo, daily_limit: int, staff_ids=()) -> MoraleReport:
    """The report from every row already in Python: ORM objects, or rows of the columns
    it reads (Recognition: id, giver_id, recipient_id, value, complaint_id, created_at,
    day, revoked_at; Complaint: id, owner_id, status, created_at, resolved_at;
    ComplaintEvent: kind, actor_id, owner_id, at)."""
    week_start, window_start = end - timedelta(days=WEEK_DAYS), end - timedelta(days=WINDOW_DAYS)
    last_week_start = week_start - timedelta(days=WEEK_DAYS)
    since, until = (datetime.combine(d, clock_time.min, tzinfo=zone) for d in (window_start, end))
    rows = [r for r in recognitions if r.revoked_at is None and window_start <= r.day < end]
    complaints = {c.id: c for c in complaints}

    def period(start: date, stop: date) -> PeriodCounts:
        chosen = [r for r in rows if start <= r.day < stop]
        return PeriodCounts(len(chosen), len({r.giver_id for r in chosen}), len({r.recipient_id for r in chosen}))

    active = set(staff_ids) | {r.giver_id for r in rows}
    for event in events:
        if since <= event.at < until:
            if event.kind in (EventKind.LOGGED, EventKind.RESOLVED):
                active.add(event.actor_id)
            if event.owner_id:
                active.add(event.owner_id)
    for complaint in complaints.values():
        if complaint.created_at < until and (complaint.status == Status.OPEN or (complaint.resolved_at and complaint.resolved_at >= since)):
            active.add(complaint.owner_id)
    recognised = {r.recipient_id for r in rows}

    values = Counter(r.value for r in rows if r.value)
    by_pair = defaultdict(list)
    for r in rows:
        by_pair[(r.giver_id, r.recipient_id)].append(r)
    answers = defaultdict(set)
    for r in rows:
        for answer in by_pair.get((r.recipient_id, r.giver_id), []):
            gap = (answer.created_at - r.created_at).total_seconds()
            if answer.day >= r.day and 0 <= gap <= RECIPROCAL_WINDOW.total_seconds():
                answers[tuple(sorted((r.giver_id, r.recipient_id)))].add(answer.id)
    pairs = sorted(
        (ReciprocalPair(a, b, len(ids)) for (a, b), ids in answers.items() if len(ids) >= RECIPROCAL_MIN_EXCHANGES),
        key=lambda p: (-p.exchanges, p.first_id, p.second_id),
    )
    per_day = Counter((r.giver_id, r.day) for r in rows if r.day >= week_start)
    days_given = defaultdict(list)
    for (giver, _), given in per_day.items():
        days_given[giver].append(given)
    hitters = sorted(
        (LimitHitter(giver, len(counts)) for giver, counts in days_given.items()
         if min(counts) >= daily_limit and len(counts) >= LIMIT_MIN_DAYS),
        key=lambda h: (-h.days_at_limit, h.giver_id),
    )
    return MoraleReport(
        end=end, daily_limit=daily_limit,
        this_week=period(week_start, end), last_week=period(last_week_start, week_start),
        recognitions_30d=len(rows),
        linked_to_resolved_30d=sum(1 for r in rows if r.complaint_id and complaints[r.complaint_id].status == Status.RESOLVED),
        active_staff=len(active), recognised_staff=len(active & recognised),
        unrecognised=tuple(sorted(active - recognised)),
        top_values=tuple(sorted(values.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]),
        reciprocal_pairs=tuple(pairs), limit_hitters=tuple(hitters),
    )


# ----- synthetic history -----------------------------------------------------------------------------
def person(number: int) -> str:
    return f"U{number:08d}"


def history(recognitions: int, people: int, seed: int = 4):
    """(complaints, events, recognitions) as tuples, deterministic for a seed."""
    rng = random.Random(seed)
    complaints, events = complaint_history(rng, people)
    return complaints, events, recognition_rows(rng, recognitions, people, now=NOW, complaints=len(complaints))


def complaint_history(rng: random.Random, people: int):
    """Two complaints a person over the year before NOW, and their events."""
    complaints, events = [], []
    for number in range(1, people * COMPLAINTS_PER_PERSON + 1):
        created = NOW - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        reporter, owner = person(rng.randrange(people)), person(rng.randrange(people))
        resolved = created + timedelta(hours=rng.randrange(1, 72)) if rng.random() < 0.8 else None
        if resolved and resolved > NOW:
            resolved = None
        complaints.append((number, owner, reporter, created, resolved))
        events.append((number, EventKind.LOGGED.value, reporter, created, owner))
        if resolved:
            events.append((number, EventKind.RESOLVED.value, owner, resolved, ""))
    return complaints, events


def recognition_rows(rng: random.Random, recognitions: int, people: int, *, now: datetime, complaints: int) -> list[tuple]:
    """`recognitions` rows (RECOGNITION_COLUMNS) among `people` over the year before `now`:
    the planted pairs and limit hitters, then random kudos, a fifth of them linked to one
    of complaints 1 to `complaints`, 2% taken back."""
    rows = []

    def add(giver: str, recipient: str, moment: datetime, *, value: str = "", complaint_id=None, revoked=None) -> None:
        rows.append((
            giver, recipient, value, "sorted out a difficult customer", complaint_id, "command",
            f"bench:{len(rows)}", "", "", "", "", moment, moment.astimezone(ZONE).date(), revoked,
        ))

    for pair in range(PLANTED_PAIRS):                      # A→B answered by B→A within hours, three times
        a, b = person(2 * pair), person(2 * pair + 1)
        for round_ in range(3):
            moment = now - timedelta(days=3 + 7 * round_, hours=pair % 5)
            add(a, b, moment)
            add(b, a, moment + timedelta(hours=1 + pair % 20))
    for hitter in range(PLANTED_LIMIT_HITTERS):           # the full limit on every day of the week
        giver = person(people - 1 - hitter)
        for day in range(WEEK_DAYS):
            for n in range(DAILY_LIMIT):
                add(giver, person((hitter * 97 + day * 13 + n) % (people - PLANTED_LIMIT_HITTERS)), now - timedelta(days=day, minutes=n))
    while len(rows) < recognitions:
        giver, recipient = rng.randrange(people), rng.randrange(people - 1)
        recipient += recipient >= giver
        moment = now - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        complaint_id = rng.randrange(1, complaints + 1) if rng.random() < 0.2 else None
        revoked = moment + timedelta(minutes=5) if rng.random() < 0.02 else None
        add(person(giver), person(recipient), moment, value=rng.choice(VALUES), complaint_id=complaint_id, revoked=revoked)
    return rows[:recognitions]


def load(url: str, recognitions: int, people: int) -> float:
    """Create the schema and bulk-load the history; return the seconds it took."""
    complaints, events, rows = history(recognitions, people)
    started = time.perf_counter()
    upgrade(url)
    if make_url(normalise_url(url)).get_backend_name() == "sqlite":
        _load_sqlite(make_url(url).database, complaints, events, rows)
    else:
        _load_postgresql(url, complaints, events, rows)
    return time.perf_counter() - started


def _complaint_row(number, owner, reporter, created, resolved):
    status = Status.RESOLVED.value if resolved else Status.OPEN.value
    return (number, "parcel lost", "other", "normal", status, owner, reporter, created, resolved, created, "refunded" if resolved else "")


COMPLAINT_INSERT = (
    "INSERT INTO complaint (id, description, category, severity, status, owner_id, reporter_id, created_at, "
    "resolved_at, updated_at, resolution, customer_name, customer_contact, contact_channel, source_permalink, "
    "slack_channel, slack_ts) VALUES ({}, '', '', 'other', '', '', '')"
)


def sqlite_time(moment):
    # The text SQLAlchemy stores for a UTC datetime on SQLite.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(moment, datetime) else moment


def _load_sqlite(path: str, complaints, events, rows) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        connection.executemany(
            COMPLAINT_INSERT.format(", ".join("?" * 11)),
            ([sqlite_time(v) for v in _complaint_row(*c)] for c in complaints),
        )
        connection.executemany(
            "INSERT INTO complaint_event (complaint_id, kind, actor_id, at, owner_id, note) VALUES (?, ?, ?, ?, ?, '')",
            ((n, kind, actor, sqlite_time(at), owner) for n, kind, actor, at, owner in events),
        )
        insert_recognitions_sqlite(connection, rows)
    connection.execute("ANALYZE")
    connection.close()


def insert_recognitions_sqlite(connection: sqlite3.Connection, rows) -> None:
    connection.executemany(
        f"INSERT INTO recognition ({', '.join(RECOGNITION_COLUMNS)}) VALUES ({', '.join('?' * len(RECOGNITION_COLUMNS))})",
        ([sqlite_time(v) if isinstance(v, datetime) else (v.isoformat() if isinstance(v, date) else v) for v in row]
         for row in rows),
    )


def _load_postgresql(url: str, complaints, events, rows) -> None:
    import psycopg

    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)) as connection:
        with connection.cursor() as cursor:
            # The throwaway cluster commits asynchronously; VACUUM can't mark pages of
            # rows whose commit may not be durable yet as visible to all, and without
            # that PostgreSQL can't answer from the indexes alone, as a real server would.
            cursor.execute("SET synchronous_commit = on")
            with cursor.copy(
                "COPY complaint (id, description, category, severity, status, owner_id, reporter_id, created_at, "
                "resolved_at, updated_at, resolution, customer_name, customer_contact, contact_channel, "
                "source_permalink, slack_channel, slack_ts) FROM STDIN"
            ) as copy:
                for complaint in complaints:
                    copy.write_row((*_complaint_row(*complaint), "", "", "other", "", "", ""))
            with cursor.copy("COPY complaint_event (complaint_id, kind, actor_id, at, owner_id, note) FROM STDIN") as copy:
                for event in events:
                    copy.write_row((*event, ""))
            copy_recognitions_postgresql(cursor, rows)
            cursor.execute("SELECT setval('complaint_id_seq', (SELECT max(id) FROM complaint))")
        connection.commit()
        connection.autocommit = True
        # Index-only scans need the visibility map that VACUUM sets.
        connection.execute("VACUUM ANALYZE")


def copy_recognitions_postgresql(cursor, rows) -> None:
    with cursor.copy(f"COPY recognition ({', '.join(RECOGNITION_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# ----- one measurement, in its own process ---------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec, unlike
    ru_maxrss, which a child inherits from the parent that forked it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, version: str, repeats: int, trace: bool) -> dict:
    """Time (or trace) one version; print a JSON line. Runs inside a fresh subprocess."""
    compute = morale_report if version == "sql" else naive_morale_report
    engine = make_engine(url)
    with Session(engine) as session:  # connect before the baseline, as the app would be connected
        session.exec(text("SELECT 1"))
    baseline_rss = peak_rss_mb()
    timings, report = [], None
    if trace:
        tracemalloc.start()
    for _ in range(1 if trace else repeats):
        with Session(engine) as session:
            started = time.perf_counter()
            report = compute(session, end=END, zone=ZONE, daily_limit=DAILY_LIMIT)
            timings.append(time.perf_counter() - started)
    result = {
        "median_ms": statistics.median(timings) * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "baseline_rss_mb": baseline_rss,
        "report": report.as_dict(),
    }
    if trace:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    engine.dispose()
    return result


def run_measurement(url: str, version: str, repeats: int, *, trace: bool = False) -> dict:
    command = [sys.executable, "-m", "bench.morale_report", "--measure", version, "--url", url, "--repeats", str(repeats)]
    if trace:
        command.append("--trace")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="recognition counts, comma-separated")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--measure", choices=("sql", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure, args.repeats, args.trace)))
        return

    # Stopped with SIGTERM, still stop the PostgreSQL cluster this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster, admin_url = None, os.environ.get("TEST_DATABASE_URL")
    backends = args.backends.split(",")
    if "postgresql" in backends and not admin_url:
        from tests.postgres import start_cluster

        cluster = start_cluster()
        admin_url = cluster.url
    print("| recognitions | database | load s | version | median ms | peak RSS MB (over baseline) | traced peak MB | vs SQL |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        with tempfile.TemporaryDirectory(prefix="morale-bench-") as folder:
            for size in (int(s) for s in args.sizes.split(",")):
                for backend in backends:
                    url = _fresh_database(backend, folder, size, admin_url)
                    seconds = load(url, size, args.people)
                    results = {
                        version: {**run_measurement(url, version, repeats),
                                  "traced_peak_mb": run_measurement(url, version, 1, trace=True)["traced_peak_mb"]}
                        for version, repeats in (("sql", args.repeats), ("naive", args.naive_repeats))
                    }
                    assert results["sql"]["report"] == results["naive"]["report"], "the two versions disagree"
                    for version, result in results.items():
                        ratio = result["median_ms"] / results["sql"]["median_ms"]
                        print(
                            f"| {size:,} | {backend} | {seconds:.0f} | {version} | {result['median_ms']:.0f} | "
                            f"{result['peak_rss_mb']:.0f} (+{result['peak_rss_mb'] - result['baseline_rss_mb']:.0f}) | "
                            f"{result['traced_peak_mb']:.1f} | {ratio:.1f}x |",
                            flush=True,
                        )
                    figures = results["sql"]["report"]
                    print(f"<!-- {size:,} {backend}: this week {figures['this_week']}, coverage {figures['coverage']}, "
                          f"{len(figures['reciprocal_pairs'])} pairs, {len(figures['limit_hitters'])} limit hitters -->",
                          flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


def _fresh_database(backend: str, folder: str, size: int, admin_url: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(folder) / f'morale-{size}.db'}"
    name = f"morale_bench_{size}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
