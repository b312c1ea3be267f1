"""The weekly digest over a large history: SQL aggregates vs loading rows into Python.

Builds a database with N complaints spread over two years (each with its events:
logged, responded, resolved) and N recognitions (kudos), on SQLite and on a throwaway
PostgreSQL cluster (tests/postgres.py), then times, for the latest week:

* **sql**: `bot.digest.weekly_digest` (what the bot runs), with a morale section
  computed the same way over the recognitions;
* **naive**: the same figures from every row loaded into Python.

Each variant runs in its own process, so its peak memory (VmHWM minus the resident
size before it starts) is its own. The two variants' figures are compared: they must
be equal.

    python -m bench.digest [--complaints 1000000] [--recognitions 1000000] [--repeat 5]

The kudos feature's table is not on this branch, so the recognitions live in a
minimal `bench_recognition` table (giver, recipient, value, time) made here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlmodel import Session

from bot.digest import DigestSection, IsoWeek, Period, weekly_digest
from bot.sla import DEFAULT_SLA_TARGETS, TargetKind, parse_targets
from models.db import make_engine, normalise_url, upgrade

WEEK = IsoWeek(2026, 47)
ZONE = ZoneInfo("UTC")
NOW = WEEK.end(ZONE) + timedelta(hours=9)
HISTORY_WEEKS = 104
TARGETS = parse_targets(DEFAULT_SLA_TARGETS)
SEVERITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
CATEGORIES = ["billing", "delivery", "product", "service", "website", "other"]
CHANNELS = ["phone", "email", "chat", "social", "in person", "other"]
PEOPLE = [f"U{n:08d}" for n in range(200)]
VALUES = ["ownership", "speed", "empathy", "extra-mile"]
RECOGNITION_TABLE = """
CREATE TABLE bench_recognition (
    id {id_type} PRIMARY KEY,
    giver_id VARCHAR(32) NOT NULL,
    recipient_id VARCHAR(32) NOT NULL,
    value VARCHAR(40) NOT NULL,
    created_at {time_type} NOT NULL
)"""


# ----- the data ---------------------------------------------------------------------------
def complaint_rows(count: int, seed: int = 7):
    """(complaint row, its events) tuples: two years of history, the newest week last."""
    rng = random.Random(seed)
    start = WEEK.end(ZONE) - timedelta(weeks=HISTORY_WEEKS)
    span = (NOW - start).total_seconds()
    for number in range(1, count + 1):
        created = start + timedelta(seconds=span * (number - 1) / count + rng.random())
        severity = rng.choice(SEVERITIES)
        owner = rng.choice(PEOPLE)
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
        events = [(number, "logged", owner, created)]
        events += [(number, "responded", owner, responded)] if responded else []
        events += [(number, "resolved", owner, resolved)] if resolved else []
        yield row, events


def recognition_rows(count: int, seed: int = 11):
    rng = random.Random(seed)
    start = WEEK.end(ZONE) - timedelta(weeks=HISTORY_WEEKS)
    span = (NOW - start).total_seconds()
    for number in range(1, count + 1):
        giver, recipient = rng.sample(PEOPLE, 2)
        yield number, giver, recipient, rng.choice(VALUES), start + timedelta(seconds=span * (number - 1) / count)


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


def load_sqlite(path: Path, complaints: int, recognitions: int) -> None:
    """SQLAlchemy stores SQLite times as UTC text `YYYY-MM-DD HH:MM:SS.ffffff`; so do we."""

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    complaint_sql = f"INSERT INTO complaint ({', '.join(COMPLAINT_COLUMNS)}) VALUES ({', '.join('?' * len(COMPLAINT_COLUMNS))})"
    event_sql = f"INSERT INTO complaint_event ({', '.join(EVENT_COLUMNS)}) VALUES (?, ?, ?, ?, '', '')"
    batch, events = [], []
    for row, row_events in complaint_rows(complaints):
        batch.append(_values(row, stamp))
        events += [(cid, kind, actor, stamp(at)) for cid, kind, actor, at in row_events]
        if len(batch) >= 50_000:
            connection.executemany(complaint_sql, batch)
            connection.executemany(event_sql, events)
            batch, events = [], []
    connection.executemany(complaint_sql, batch)
    connection.executemany(event_sql, events)
    connection.execute(RECOGNITION_TABLE.format(id_type="INTEGER", time_type="DATETIME"))
    connection.execute("CREATE INDEX ix_bench_recognition_created_at ON bench_recognition (created_at)")
    connection.executemany(
        "INSERT INTO bench_recognition VALUES (?, ?, ?, ?, ?)",
        ((n, g, r, v, stamp(at)) for n, g, r, v, at in recognition_rows(recognitions)),
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, complaints: int, recognitions: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row, _ in complaint_rows(complaints):
                    copy.write_row(_values(row, lambda m: m))
            with cursor.copy(f"COPY complaint_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for _, events in complaint_rows(complaints):
                    for cid, kind, actor, at in events:
                        copy.write_row((cid, kind, actor, at, "", ""))
            cursor.execute(RECOGNITION_TABLE.format(id_type="INTEGER", time_type="TIMESTAMP WITH TIME ZONE"))
            with cursor.copy("COPY bench_recognition FROM STDIN") as copy:
                for values in recognition_rows(recognitions):
                    copy.write_row(values)
            cursor.execute("CREATE INDEX ix_bench_recognition_created_at ON bench_recognition (created_at)")
            cursor.execute("SELECT setval('complaint_id_seq', %s)", (max(complaints, 1),))
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


# ----- the two variants -----------------------------------------------------------------------
def morale_section(session: Session, period: Period) -> DigestSection:
    """What a morale section costs: kudos in the week, people involved, top recipients (SQL)."""
    window = {"start": period.start, "end": period.end}
    if session.get_bind().dialect.name == "sqlite":
        window = {name: moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for name, moment in window.items()}
    where = "FROM bench_recognition WHERE created_at >= :start AND created_at < :end"
    total, givers, recipients = session.execute(
        text(f"SELECT count(*), count(DISTINCT giver_id), count(DISTINCT recipient_id) {where}"), window
    ).one()
    top = session.execute(
        text(f"SELECT recipient_id, count(*) AS n {where} GROUP BY recipient_id ORDER BY n DESC, recipient_id LIMIT 5"), window
    ).all()
    return DigestSection("morale", "Morale", [], {"kudos": total, "givers": givers, "recipients": recipients,
                                                   "top": [[r, n] for r, n in top]})


def sql_figures(engine) -> dict:
    with Session(engine) as session:
        digest = weekly_digest(session, week=WEEK, zone=ZONE, now=NOW, targets=TARGETS, sections=[morale_section])
    return comparable(digest.as_json())


def naive_figures(engine) -> dict:
    """Every complaint and recognition loaded into Python, then counted there."""
    with Session(engine) as session:
        rows = session.execute(text(
            "SELECT severity, category, contact_channel, created_at, first_responded_at, resolved_at, "
            "satisfaction_score, satisfaction_at FROM complaint"
        )).all()
        kudos = session.execute(text("SELECT giver_id, recipient_id, created_at FROM bench_recognition")).all()
    parse = _time_parser(engine.dialect.name)
    complaints = [(s, cat, ch, parse(c), parse(f), parse(r), score, parse(sat)) for s, cat, ch, c, f, r, score, sat in rows]

    def week_range(week: IsoWeek):
        return week.start(ZONE), week.end(ZONE)

    def inside(moment, bounds):
        return moment is not None and bounds[0] <= moment < bounds[1]

    this, before = week_range(WEEK), week_range(WEEK.shift(-1))

    def open_at(moment):
        return sum(1 for c in complaints if c[3] < moment and (c[5] is None or c[5] >= moment))

    def durations(index, bounds):
        values = sorted((c[index] - c[3]).total_seconds() for c in complaints if inside(c[index], bounds))
        if not values:
            return {"count": 0, "median_seconds": None, "p90_seconds": None}
        p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
        return {"count": len(values), "median_seconds": round(statistics.median(values), 1), "p90_seconds": round(p90, 1)}

    until = min(this[1], NOW)
    breaches = {}
    for kind, index in ((TargetKind.FIRST_RESPONSE, 4), (TargetKind.RESOLUTION, 5)):
        missed = 0
        for c in complaints:
            allowed = TARGETS[c[0]].of(kind)
            if this[0] <= c[3] + allowed < until and (c[index] is None or c[index] - c[3] > allowed):
                missed += 1
        breaches[kind.value] = missed
    logged = [c for c in complaints if inside(c[3], this)]
    answers = [c[6] for c in complaints if inside(c[7], this) and c[6] is not None]
    week_kudos = [(g, r) for g, r, at in kudos if inside(parse(at), this)]
    trend = []
    for back in range(7, -1, -1):
        bounds = week_range(WEEK.shift(-back))
        trend.append([sum(inside(c[3], bounds) for c in complaints), sum(inside(c[5], bounds) for c in complaints),
                      durations(4, bounds)["median_seconds"]])
    return {
        "logged": [len(logged), sum(inside(c[3], before) for c in complaints)],
        "resolved": [sum(inside(c[5], this) for c in complaints), sum(inside(c[5], before) for c in complaints)],
        "open": [open_at(until), open_at(min(before[1], NOW))],
        "first_response": durations(4, this),
        "resolution": durations(5, this),
        "breaches": breaches,
        "by_category": dict(Counter(c[1] for c in logged)),
        "by_channel": dict(Counter(c[2] for c in logged)),
        "nps": [len(answers), sum(a >= 9 for a in answers), sum(7 <= a <= 8 for a in answers), sum(a <= 6 for a in answers)],
        "trend": trend,
        "morale": {"kudos": len(week_kudos), "givers": len({g for g, _ in week_kudos}),
                   "recipients": len({r for _, r in week_kudos}),
                   "top": [list(pair) for pair in sorted(Counter(r for _, r in week_kudos).items(), key=lambda p: (-p[1], p[0]))[:5]]},
    }


def _time_parser(dialect: str):
    if dialect == "sqlite":
        return lambda value: None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)
    return lambda value: value


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
        "nps": [data["nps"][k] for k in ("answers", "promoters", "passives", "detractors")],
        "trend": [[p["logged"], p["resolved"], p["median_first_response_seconds"]] for p in data["trend"]],
        "morale": data["sections"][0]["figures"],
    }


def figures_match(a: dict, b: dict) -> bool:
    """Equal, allowing a second's float noise in durations (julianday arithmetic on SQLite)."""
    def close(x, y):
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(i, j) for i, j in zip(x, y))
        if isinstance(x, float) or isinstance(y, float):
            return x is not None and y is not None and abs(x - y) <= 1.0
        return x == y

    return close(a, b)


# ----- measuring -----------------------------------------------------------------------------
def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(url: str, variant: str, repeat: int) -> dict:
    """Run one variant `repeat` times in this process; its times, peak memory and figures."""
    work = sql_figures if variant == "sql" else naive_figures
    engine = make_engine(url)
    with engine.connect() as connection:  # a warm pool, as in the running bot
        connection.execute(text("SELECT 1"))
    before = _memory_kb("VmRSS")
    seconds, figures = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        figures = work(engine)
        seconds.append(time.perf_counter() - started)
    engine.dispose()
    return {"seconds": seconds, "peak_mb": (_memory_kb("VmHWM") - before) / 1024, "figures": figures}


def measure_in_child(url: str, variant: str, repeat: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--measure", variant, "--url", url, "--repeat", str(repeat)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(backend: str, workdir: Path, complaints: int, recognitions: int, cluster_url: str | None) -> str:
    started = time.perf_counter()
    if backend == "sqlite":
        path = workdir / f"digest-{complaints}-{recognitions}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            upgrade(url)
            load_sqlite(path, complaints, recognitions)
    else:
        name = f"bench_digest_{complaints}_{recognitions}"
        admin = create_engine(cluster_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = cluster_url.rsplit("/", 1)[0] + "/" + name
        if not exists:
            upgrade(url)
            load_postgres(normalise_url(url), complaints, recognitions)
    print(f"  {backend}: database ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--recognitions", type=int, default=1_000_000)
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
    cluster = None
    rows = []
    try:
        for backend in args.backends.split(","):
            cluster_url = None
            if backend == "postgresql":
                from tests.postgres import start_cluster

                cluster = start_cluster()
                cluster_url = cluster.url
            url = build(backend, args.workdir, args.complaints, args.recognitions, cluster_url)
            sql = measure_in_child(url, "sql", args.repeat)
            naive = measure_in_child(url, "naive", args.naive_repeat)
            same = figures_match(sql["figures"], naive["figures"])
            sql_median, naive_median = statistics.median(sql["seconds"]), statistics.median(naive["seconds"])
            rows.append((backend, "sql (bot.digest)", sql_median, sql["peak_mb"], 1.0, same))
            rows.append((backend, "naive (rows into Python)", naive_median, naive["peak_mb"], naive_median / sql_median, same))
            if not same:
                print(json.dumps({"sql": sql["figures"], "naive": naive["figures"]}, indent=1), file=sys.stderr)
            if cluster is not None:
                cluster.stop()
                cluster = None
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"\n{args.complaints:,} complaints (+ events), {args.recognitions:,} recognitions; digest for {WEEK}")
    print("| backend | variant | median s | peak memory MB | vs sql | same figures |")
    print("|---|---|---|---|---|---|")
    for backend, variant, seconds, peak, ratio, same in rows:
        print(f"| {backend} | {variant} | {seconds:.3f} | {peak:.0f} | {ratio:.1f}x | {'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
