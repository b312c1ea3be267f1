"""The weekly digest over a large history: SQL aggregates vs loading rows into Python.

Builds a database with the app's own migrations holding N complaints spread over two
years (each with its events: logged, responded, resolved) and N recognitions in the
real `recognition` table (made by bench/morale_report.py's generator: kudos among
`--people` staff, with planted reciprocal pairs and limit hitters), on SQLite and on
a throwaway PostgreSQL cluster (tests/postgres.py), then times, for the latest week:

* **sql**: `bot.digest.compute_digest`, what the bot runs: the service figures with
  the morale report and the knowledge gaps, on Services made by
  `bot.services.build_services` (no people directory, an empty knowledge folder);
* **naive**: the same figures, the morale report's included, from every complaint,
  event and recognition row loaded into Python.

Each variant runs in its own process, so its peak memory (VmHWM minus the resident
size before it starts) is its own. The two variants' figures are compared: they must
be equal.

    python -m bench.digest [--complaints 1000000] [--recognitions 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlmodel import select

from bench.morale_report import (
    DAILY_LIMIT, copy_recognitions_postgresql, insert_recognitions_sqlite, morale_from_rows, person,
    recognition_rows as kudos_rows, sqlite_time,
)
from bot.services import Services, build_services
from bot.config import load_settings
from bot.digest import compute_digest
from bot.sla import TargetKind
from bot.weeks import IsoWeek
from handlers.morale_views import people_shown
from models.complaints import Complaint, ComplaintEvent, Status
from models.db import make_engine, normalise_url, upgrade
from models.kudos import Recognition

WEEK = IsoWeek(2026, 47)
ZONE = ZoneInfo("UTC")
NOW = WEEK.end(ZONE) + timedelta(hours=9)
HISTORY_WEEKS = 104
SEVERITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
CATEGORIES = ["billing", "delivery", "product", "service", "website", "other"]
CHANNELS = ["phone", "email", "chat", "social", "in person", "other"]
# The complaint handlers, among the staff who give and receive kudos.
OWNERS = [person(n) for n in range(200)]


# ----- the data ---------------------------------------------------------------------------
def complaint_rows(count: int, seed: int = 7):
    """(complaint row, its events) tuples: two years of history, the newest week last."""
    rng = random.Random(seed)
    start = WEEK.end(ZONE) - timedelta(weeks=HISTORY_WEEKS)
    span = (NOW - start).total_seconds()
    for number in range(1, count + 1):
        created = start + timedelta(seconds=span * (number - 1) / count + rng.random())
        severity = rng.choice(SEVERITIES)
        owner = rng.choice(OWNERS)
        responded = created + timedelta(minutes=rng.expovariate(1 / 240)) if rng.random() < 0.92 else None
        resolved = None
        if responded and rng.random() < 0.9:
            resolved = responded + timedelta(minutes=rng.expovariate(1 / 1800))
        responded = responded if responded and responded <= NOW else None
        resolved = resolved if resolved and resolved <= NOW else None
        scored = resolved is not None and rng.random() < 0.3
        row = {
            "id": number, "description": f"complaint {number}", "contact_channel": rng.choice(CHANNELS),
            "category": rng.choice(CATEGORIES), "severity": severity,
            "status": "resolved" if resolved else "open", "owner_id": owner, "reporter_id": owner,
            "created_at": created, "first_responded_at": responded, "resolved_at": resolved,
            "updated_at": resolved or responded or created,
            "satisfaction_score": rng.randint(0, 10) if scored else None, "satisfaction_at": resolved if scored else None,
        }
        # As the bot records them: the logged event names the first owner.
        events = [(number, "logged", owner, created, owner)]
        events += [(number, "responded", owner, responded, "")] if responded else []
        events += [(number, "resolved", owner, resolved, "")] if resolved else []
        yield row, events


def recognitions(count: int, people: int, complaints: int, seed: int = 11) -> list[tuple]:
    """The morale benchmark's kudos, up to this benchmark's NOW, linked to its complaints."""
    return kudos_rows(random.Random(seed), count, people, now=NOW, complaints=complaints)


COMPLAINT_COLUMNS = [
    "id", "description", "customer_name", "customer_contact", "contact_channel", "category", "severity", "status",
    "owner_id", "reporter_id", "source_permalink", "resolution", "created_at", "first_responded_at", "resolved_at",
    "updated_at", "slack_channel", "slack_ts", "satisfaction_score", "satisfaction_comment", "satisfaction_at",
    "followed_up_at",
]
EVENT_COLUMNS = ["complaint_id", "kind", "actor_id", "at", "owner_id", "note"]


def _values(row: dict, stamp) -> tuple:
    return tuple(stamp(row[c]) if isinstance(row.get(c), datetime) else row.get(c, "" if c not in
                 ("first_responded_at", "resolved_at", "satisfaction_score", "satisfaction_at", "followed_up_at") else None)
                 for c in COMPLAINT_COLUMNS)


def load_sqlite(path: Path, complaints: int, kudos: int, people: int) -> None:
    """Times as SQLAlchemy stores them on SQLite (UTC text), like bench/morale_report.py."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    complaint_sql = f"INSERT INTO complaint ({', '.join(COMPLAINT_COLUMNS)}) VALUES ({', '.join('?' * len(COMPLAINT_COLUMNS))})"
    event_sql = f"INSERT INTO complaint_event ({', '.join(EVENT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, '')"
    batch, events = [], []
    for row, row_events in complaint_rows(complaints):
        batch.append(_values(row, sqlite_time))
        events += [(cid, kind, actor, sqlite_time(at), owner) for cid, kind, actor, at, owner in row_events]
        if len(batch) >= 50_000:
            connection.executemany(complaint_sql, batch)
            connection.executemany(event_sql, events)
            batch, events = [], []
    connection.executemany(complaint_sql, batch)
    connection.executemany(event_sql, events)
    insert_recognitions_sqlite(connection, recognitions(kudos, people, complaints))
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, complaints: int, kudos: int, people: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            # Durable commits, so VACUUM can set the visibility map index-only scans need
            # (the throwaway cluster commits asynchronously; see bench/morale_report.py).
            cursor.execute("SET synchronous_commit = on")
            with cursor.copy(f"COPY complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row, _ in complaint_rows(complaints):
                    copy.write_row(_values(row, lambda m: m))
            with cursor.copy(f"COPY complaint_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for _, events in complaint_rows(complaints):
                    for event in events:
                        copy.write_row((*event, ""))
            copy_recognitions_postgresql(cursor, recognitions(kudos, people, complaints))
            cursor.execute("SELECT setval('complaint_id_seq', %s)", (max(complaints, 1),))
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


# ----- the two variants -----------------------------------------------------------------------
def sql_figures(services: Services) -> dict:
    digest = compute_digest(
        open_session=services.open_session, settings=services.settings, people=None, week=WEEK, now=services.clock(),
        articles=services.knowledge.articles, shown=people_shown,
    )
    return comparable(digest.as_json())


def naive_figures(services: Services) -> dict:
    """Every complaint, event and recognition loaded into Python, then counted there."""
    settings = services.settings
    targets, daily_limit = settings.targets, settings.kudos_daily_limit
    with services.open_session() as session:
        complaints = session.exec(select(
            Complaint.id, Complaint.severity, Complaint.category, Complaint.contact_channel, Complaint.status,
            Complaint.owner_id, Complaint.created_at, Complaint.first_responded_at, Complaint.resolved_at,
            Complaint.satisfaction_score, Complaint.satisfaction_at,
        )).all()
        events = session.exec(select(ComplaintEvent.kind, ComplaintEvent.actor_id, ComplaintEvent.owner_id, ComplaintEvent.at)).all()
        kudos = session.exec(select(
            Recognition.id, Recognition.giver_id, Recognition.recipient_id, Recognition.value, Recognition.complaint_id,
            Recognition.created_at, Recognition.day, Recognition.revoked_at,
        )).all()

    def week_range(week: IsoWeek):
        return week.start(ZONE), week.end(ZONE)

    def inside(moment, bounds):
        return moment is not None and bounds[0] <= moment < bounds[1]

    this, before = week_range(WEEK), week_range(WEEK.shift(-1))

    def open_at(moment):
        return sum(1 for c in complaints if c.created_at < moment and (c.resolved_at is None or c.resolved_at >= moment))

    def durations(done: str, bounds):
        values = sorted((getattr(c, done) - c.created_at).total_seconds() for c in complaints if inside(getattr(c, done), bounds))
        if not values:
            return {"count": 0, "median_seconds": None, "p90_seconds": None}
        p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
        return {"count": len(values), "median_seconds": round(statistics.median(values), 1), "p90_seconds": round(p90, 1)}

    until = min(this[1], NOW)
    breaches = {}
    for kind, done in ((TargetKind.FIRST_RESPONSE, "first_responded_at"), (TargetKind.RESOLUTION, "resolved_at")):
        missed = 0
        for c in complaints:
            allowed = targets[c.severity].of(kind)
            if this[0] <= c.created_at + allowed < until and (getattr(c, done) is None or getattr(c, done) - c.created_at > allowed):
                missed += 1
        breaches[kind.value] = missed
    logged = [c for c in complaints if inside(c.created_at, this)]
    answers = [c.satisfaction_score for c in complaints if inside(c.satisfaction_at, this) and c.satisfaction_score is not None]
    trend = []
    for back in range(7, -1, -1):
        bounds = week_range(WEEK.shift(-back))
        trend.append({
            "logged": sum(inside(c.created_at, bounds) for c in complaints),
            "resolved": sum(inside(c.resolved_at, bounds) for c in complaints),
            "median_first_response_seconds": durations("first_responded_at", bounds)["median_seconds"],
        })
    oldest = sorted((c for c in complaints if c.status == Status.OPEN), key=lambda c: (c.created_at, c.id))
    morale = morale_from_rows(kudos, complaints, events, end=this[1].date(), zone=ZONE, daily_limit=daily_limit)
    return {
        "logged": [len(logged), sum(inside(c.created_at, before) for c in complaints)],
        "resolved": [sum(inside(c.resolved_at, this) for c in complaints), sum(inside(c.resolved_at, before) for c in complaints)],
        "open": [open_at(until), open_at(min(before[1], NOW))],
        "first_response": durations("first_responded_at", this),
        "resolution": durations("resolved_at", this),
        "breaches": breaches,
        "by_category": dict(Counter(c.category for c in logged)),
        "by_channel": dict(Counter(c.contact_channel for c in logged)),
        "oldest_open": [c.id for c in oldest[:5]],
        "nps": [len(answers), sum(a >= 9 for a in answers), sum(7 <= a <= 8 for a in answers), sum(a <= 6 for a in answers)],
        "trend": trend,
        # This history records no knowledge-base searches, so there are no gaps to find.
        "sections": {"morale": morale.as_dict(), "knowledge_gaps": {"gaps": []}},
    }


def comparable(data: dict) -> dict:
    """The SQL digest's JSON in the naive version's shape, for an equality check."""
    return {
        "logged": [data["logged"]["value"], data["logged"]["previous"]],
        "resolved": [data["resolved"]["value"], data["resolved"]["previous"]],
        "open": [data["open"]["value"], data["open"]["previous"]],
        "first_response": data["first_response"],
        "resolution": data["resolution"],
        "breaches": data["breaches"],
        "by_category": data["by_category"],
        "by_channel": data["by_channel"],
        "oldest_open": [complaint["id"] for complaint in data["oldest_open"]],
        "nps": [data["nps"][k] for k in ("answers", "promoters", "passives", "detractors")],
        "trend": [{k: p[k] for k in ("logged", "resolved", "median_first_response_seconds")} for p in data["trend"]],
        "sections": {section["key"]: section["figures"] for section in data["sections"]},
    }


def figures_match(a: dict, b: dict) -> bool:
    """Equal, allowing a second's float noise in durations (julianday arithmetic on SQLite)."""
    def close(x, y, seconds=False):
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(close(x[k], y[k], k.endswith("seconds")) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(i, j) for i, j in zip(x, y))
        if seconds and x is not None and y is not None:
            return abs(x - y) <= 1.0
        return x == y

    return close(a, b)


# ----- measuring -----------------------------------------------------------------------------
def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(url: str, variant: str, repeat: int) -> dict:
    """Run one variant `repeat` times in this process; its times, peak memory and figures.

    The Services are the app's own, as `servicedesk digest --preview` builds them: no
    Slack client (people shown by ID, no STAFF_CHANNEL), the clock at NOW, and an empty
    knowledge folder.
    """
    work = sql_figures if variant == "sql" else naive_figures
    engine = make_engine(url)
    with engine.connect() as connection:  # a warm pool, as in the running bot
        connection.execute(text("SELECT 1"))
    with tempfile.TemporaryDirectory(prefix="digest-bench-kb-") as knowledge:
        settings = load_settings(
            env_file=None, database_url=url, tz=ZONE.key, knowledge_dir=knowledge, kudos_daily_limit=DAILY_LIMIT
        )
        services = build_services(settings, engine=engine, clock=lambda: NOW)
        before = _memory_kb("VmRSS")
        seconds, figures = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            figures = work(services)
            seconds.append(time.perf_counter() - started)
    engine.dispose()
    return {"seconds": seconds, "peak_mb": (_memory_kb("VmHWM") - before) / 1024, "figures": figures}


def measure_in_child(url: str, variant: str, repeat: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--measure", variant, "--url", url, "--repeat", str(repeat)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(backend: str, workdir: Path, complaints: int, kudos: int, people: int, cluster_url: str | None) -> str:
    """The database for these sizes; SQLite's file is kept in `workdir` for the next run
    (delete it after changing the data), PostgreSQL's cluster is thrown away."""
    started = time.perf_counter()
    if backend == "sqlite":
        path = workdir / f"digest-{complaints}-{kudos}-{people}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            # Built under another name, so a run cut short leaves nothing to be reused.
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            upgrade(f"sqlite:///{partial}")
            load_sqlite(partial, complaints, kudos, people)
            partial.rename(path)
    else:
        name = f"bench_digest_{complaints}_{kudos}_{people}"
        admin = create_engine(cluster_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = cluster_url.rsplit("/", 1)[0] + "/" + name
        if not exists:
            upgrade(url)
            load_postgres(normalise_url(url), complaints, kudos, people)
    print(f"  {backend}: database ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--recognitions", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=10_000, help="staff who give and receive kudos")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/servicedesk-bench"))
    parser.add_argument("--measure", choices=("sql", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure, args.repeat)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{args.complaints:,} complaints (+ events), {args.recognitions:,} recognitions among {args.people:,} people; "
          f"digest for {WEEK}")
    print("| backend | variant | median s | peak memory MB | vs sql | same figures |")
    print("|---|---|---|---|---|---|", flush=True)
    cluster, agreed = None, True
    try:
        for backend in args.backends.split(","):
            cluster_url = None
            if backend == "postgresql":
                from tests.postgres import start_cluster

                cluster = start_cluster()
                cluster_url = cluster.url
            url = build(backend, args.workdir, args.complaints, args.recognitions, args.people, cluster_url)
            sql = measure_in_child(url, "sql", args.repeat)
            naive = measure_in_child(url, "naive", args.naive_repeat)
            same = figures_match(sql["figures"], naive["figures"])
            agreed &= same
            sql_median, naive_median = statistics.median(sql["seconds"]), statistics.median(naive["seconds"])
            for variant, median, peak in (
                ("sql (bot.digest.compute_digest)", sql_median, sql["peak_mb"]),
                ("naive (rows into Python)", naive_median, naive["peak_mb"]),
            ):
                print(f"| {backend} | {variant} | {median:.3f} | {peak:.0f} | {median / sql_median:.1f}x | "
                      f"{'yes' if same else 'NO'} |", flush=True)
            morale = sql["figures"]["sections"]["morale"]
            print(f"<!-- {backend}: sql runs {', '.join(f'{t:.3f}' for t in sql['seconds'])} s; logged "
                  f"{sql['figures']['logged']}, open {sql['figures']['open']}; morale: this week {morale['this_week']}, "
                  f"active staff {morale['active_staff']}, {len(morale['reciprocal_pairs'])} pairs, "
                  f"{len(morale['limit_hitters'])} limit hitters -->", flush=True)
            if not same:
                print(json.dumps({"sql": sql["figures"], "naive": naive["figures"]}, indent=1), file=sys.stderr)
            if cluster is not None:
                cluster.stop()
                cluster = None
    finally:
        if cluster is not None:
            cluster.stop()
    return 0 if agreed else 1

if __name__ == "__main__":
    sys.exit(main())
