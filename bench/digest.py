"""The weekly digest and the daily service-quality index over a large history.

Builds a database with the app's own migrations holding N complaints spread over two
years (each with its events: logged, responded, resolved, and a `rated` answer for
some) and N recognitions in the real `recognition` table (made by
bench/morale_report.py's generator: kudos among `--people` staff, with planted
reciprocal pairs and limit hitters), on SQLite and on PostgreSQL (a cluster started by
tests/postgres.py with PostgreSQL's durable defaults), then times:

* **sql**: `bot.digest.compute_digest` for the latest week, what the bot runs: the
  service figures with the morale report and the knowledge gaps, on Services made by
  `bot.services.build_services` (no people directory, an empty knowledge folder);
* **late**: the same for the week four weeks earlier, as of its end (bot/as_of.py
  corrects it by the four weeks of events since);
* **sqi**: the daily index of the latest week's seven days (`bot.quality_index.daily_series`);
* **naive**: the digest's figures, the morale report's included, from every complaint,
  event and recognition row loaded into Python (for both weeks).

Each variant runs in its own process, so its peak memory (VmHWM minus the resident
size before it starts) is its own; its CPU time is that process's plus, on PostgreSQL,
the server processes'. The digests' figures are compared with the naive ones: they
must be equal.

Everything generated is kept in `--workdir`: the SQLite file, the PostgreSQL cluster
(`workdir/postgresql`, started again by the next run) and the naive variants' results,
which are measured once (minutes at a million) and read back by later runs
(`--naive-again` measures them anew). Delete the folder after changing the generator.

    python -m bench.digest [--complaints 1000000] [--recognitions 1000000] [--repeat 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from bench.digest_naive import comparable, figures_match, naive_figures
from bench.morale_report import (
    DAILY_LIMIT, copy_recognitions_postgresql, insert_recognitions_sqlite, person,
    recognition_rows as kudos_rows, sqlite_time,
)
from bot.services import Services, build_services
from bot.config import load_settings
from bot.digest import compute_digest
from bot.quality_index import daily_series
from bot.weeks import IsoWeek
from handlers.morale_views import people_shown
from models.db import make_engine, normalise_url, upgrade

WEEK = IsoWeek(2026, 47)
# A digest computed four weeks late: its figures are corrected by the four weeks since.
LATE_WEEK = WEEK.shift(-4)
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
        events = [(number, "logged", owner, created, owner, "")]
        events += [(number, "responded", owner, responded, "", "")] if responded else []
        events += [(number, "resolved", owner, resolved, "", "")] if resolved else []
        events += [(number, "rated", owner, resolved, "", f"{row['satisfaction_score']}/10")] if scored else []
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
    insert_history_sqlite(connection, complaint_rows(complaints))
    insert_recognitions_sqlite(connection, recognitions(kudos, people, complaints))
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def insert_history_sqlite(connection, history) -> None:
    """(complaint row, its events as (complaint_id, kind, actor_id, at, owner_id, note)), in batches."""
    complaint_sql = f"INSERT INTO complaint ({', '.join(COMPLAINT_COLUMNS)}) VALUES ({', '.join('?' * len(COMPLAINT_COLUMNS))})"
    event_sql = f"INSERT INTO complaint_event ({', '.join(EVENT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
    batch, events = [], []
    for row, row_events in history:
        batch.append(_values(row, sqlite_time))
        events += [(cid, kind, actor, sqlite_time(at), owner, note) for cid, kind, actor, at, owner, note in row_events]
        if len(batch) >= 50_000:
            connection.executemany(complaint_sql, batch)
            connection.executemany(event_sql, events)
            connection.commit()
            batch, events = [], []
    connection.executemany(complaint_sql, batch)
    connection.executemany(event_sql, events)
    connection.commit()


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
                        copy.write_row(event)
            copy_recognitions_postgresql(cursor, recognitions(kudos, people, complaints))
            cursor.execute("SELECT setval('complaint_id_seq', %s)", (max(complaints, 1),))
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


# ----- the two variants -----------------------------------------------------------------------
def sql_figures(services: Services, week: IsoWeek = WEEK) -> dict:
    digest = compute_digest(
        open_session=services.open_session, settings=services.settings, people=None, week=week, now=services.clock(),
        articles=services.knowledge.articles, shown=people_shown,
    )
    data = digest.as_json()
    # The daily index's points as the digest counts them, for a check against the SQI's own.
    return {**comparable(data), "quality": data["quality"]}


def without_quality(figures: dict) -> dict:
    return {key: value for key, value in figures.items() if key != "quality"}


def sqi_figures(services: Services) -> dict:
    """The daily index of the digest week's seven days (`servicedesk report sqi` on its Sunday)."""
    settings = services.settings
    with services.open_session() as session:
        series = daily_series(session, first_day=WEEK.monday, days=7, zone=ZONE, now=services.clock(),
                              rules=settings.sqi_rules)
    return {"days": [day.as_json() for day in series]}


# ----- measuring -----------------------------------------------------------------------------
def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _server_processes(engine) -> list[int]:
    """PostgreSQL's processes (the postmaster's children: this run's backends among
    them), so their CPU time can be counted with the client's; none for SQLite."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        data = connection.execute(text("SELECT current_setting('data_directory')")).scalar_one()
    postmaster = int(Path(data, "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [int(pid) for pid in children]


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def measure(url: str, variant: str, repeat: int) -> dict:
    """Run one variant `repeat` times in this process; its wall and CPU times (this
    process's, and PostgreSQL's server processes'), peak memory and figures.

    The Services are the app's own, as `servicedesk digest --preview` builds them: no
    Slack client (people shown by ID, no STAFF_CHANNEL), the clock at NOW, and an empty
    knowledge folder.
    """
    work = VARIANTS[variant]
    engine = make_engine(url)
    with engine.connect() as connection:  # a warm pool, as in the running bot
        connection.execute(text("SELECT 1"))
    server = _server_processes(engine)
    with tempfile.TemporaryDirectory(prefix="digest-bench-kb-") as knowledge:
        settings = load_settings(
            env_file=None, database_url=url, tz=ZONE.key, knowledge_dir=knowledge, kudos_daily_limit=DAILY_LIMIT
        )
        services = build_services(settings, engine=engine, clock=lambda: NOW)
        before = _memory_kb("VmRSS")
        seconds, cpu, server_cpu, figures = [], [], [], None
        for _ in range(repeat):
            started, cpu_started, server_started = time.perf_counter(), time.process_time(), _cpu_seconds(server)
            figures = work(services)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            server_cpu.append(_cpu_seconds(server) - server_started)
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "server_cpu": server_cpu,
            "peak_mb": (_memory_kb("VmHWM") - before) / 1024, "figures": figures}


VARIANTS = {
    "sql": sql_figures,
    "late": lambda services: sql_figures(services, LATE_WEEK),
    "sqi": sqi_figures,
    "naive": lambda services: naive_figures(services, WEEK, now=NOW, zone=ZONE),
    "naive-late": lambda services: naive_figures(services, LATE_WEEK, now=NOW, zone=ZONE),
}


def measure_in_child(url: str, variant: str, repeat: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--measure", variant, "--url", url, "--repeat", str(repeat)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(backend: str, workdir: Path, complaints: int, kudos: int, people: int, cluster_url: str | None) -> str:
    """The database for these sizes, kept in `workdir` for the next run (delete it after
    changing the data): a SQLite file, or a database in the PostgreSQL cluster kept there.
    Each is built under another name and renamed when complete, so a run cut short
    leaves nothing to be reused; a kept one is brought up to the latest migration."""
    started = time.perf_counter()
    if backend == "sqlite":
        # v2: the history has `rated` events, which the NPS and the daily index read.
        path = workdir / f"digest-v2-{complaints}-{kudos}-{people}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            upgrade(f"sqlite:///{partial}")
            load_sqlite(partial, complaints, kudos, people)
            partial.rename(path)
        upgrade(url)  # a kept file gets the migrations added since it was built (new indexes)
    else:
        name = f"bench_digest_v2_{complaints}_{kudos}_{people}"
        admin = create_engine(cluster_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}_partial"))
                connection.execute(text(f"CREATE DATABASE {name}_partial"))
        base = cluster_url.rsplit("/", 1)[0]
        if not exists:
            upgrade(f"{base}/{name}_partial")
            load_postgres(normalise_url(f"{base}/{name}_partial"), complaints, kudos, people)
            with admin.connect() as connection:
                connection.execute(text(f"ALTER DATABASE {name}_partial RENAME TO {name}"))
        admin.dispose()
        url = f"{base}/{name}"
        upgrade(url)
    print(f"  {backend}: database ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def naive_once(url: str, variant: str, repeat: int, saved: Path, again: bool) -> dict:
    """The naive variant's result, measured once and saved in `saved` (it takes minutes
    at a million and its figures do not change while bot/ does); `again` measures anew.
    The file is named after bench/digest_naive.py's content, so editing it measures anew."""
    if saved.exists() and not again:
        result = json.loads(saved.read_text())
        result["saved"] = True
        return result
    result = measure_in_child(url, variant, repeat)
    saved.write_text(json.dumps(result))
    return result


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--recognitions", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=10_000, help="staff who give and receive kudos")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--naive-again", action="store_true",
                        help="measure the naive variants anew instead of reading their saved figures")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/servicedesk-bench"),
                        help="where the SQLite file, the PostgreSQL cluster and the naive figures are kept")
    parser.add_argument("--build-only", action="store_true", help="build the databases and stop")
    parser.add_argument("--measure", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure, args.repeat)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{args.complaints:,} complaints (+ events), {args.recognitions:,} recognitions among {args.people:,} people; "
          f"digest for {WEEK}; load average {load_average()}")
    print("| backend | variant | wall median s | CPU median s | of it, PostgreSQL's | peak memory MB | same figures |")
    print("|---|---|---|---|---|---|---|", flush=True)
    cluster, agreed = None, True
    naive_key = hashlib.sha256(Path(__file__).with_name("digest_naive.py").read_bytes()).hexdigest()[:12]
    try:
        for backend in args.backends.split(","):
            cluster_url = None
            if backend == "postgresql":
                from tests.postgres import start_cluster

                # PostgreSQL's defaults (fsync, synchronous commits), kept for the next run.
                cluster = start_cluster(durable=True, root=args.workdir / "postgresql")
                cluster_url = cluster.url
            url = build(backend, args.workdir, args.complaints, args.recognitions, args.people, cluster_url)
            if args.build_only:
                continue
            saved = args.workdir / f"naive-{backend}-{args.complaints}-{args.recognitions}-{args.people}-{naive_key}"
            sql = measure_in_child(url, "sql", args.repeat)
            naive = naive_once(url, "naive", args.naive_repeat, saved.with_suffix(".json"), args.naive_again)
            late = measure_in_child(url, "late", args.repeat)
            naive_late = naive_once(url, "naive-late", args.naive_repeat, saved.with_suffix(".late.json"),
                                    args.naive_again)
            sqi = measure_in_child(url, "sqi", args.repeat)
            same = figures_match(without_quality(sql["figures"]), naive["figures"])
            # Four weeks late, the morale part's window differs in how the naive version
            # reads owners; the service figures must agree.
            same_late = figures_match({**without_quality(late["figures"]), "sections": None},
                                      {**naive_late["figures"], "sections": None})
            # The digest counts the week's daily index in SQL; the SQI lists the complaints behind it.
            same_sqi = [day["points"] for day in sql["figures"]["quality"]["days"]] == \
                [day["points"] for day in sqi["figures"]["days"]]
            agreed &= same and same_late and same_sqi
            for variant, result, agreement in (
                (f"sql (bot.digest.compute_digest, {WEEK})", sql, same),
                (f"naive (rows into Python, {WEEK})", naive, same),
                (f"as of {LATE_WEEK}'s end, computed 4 weeks late", late, same_late),
                ("naive, 4 weeks late", naive_late, same_late),
                (f"daily index, 7 days of {WEEK} (same points as the digest's)", sqi, same_sqi),
            ):
                wall = statistics.median(result["seconds"])
                server = result.get("server_cpu") or [0.0] * len(result["seconds"])
                cpu = statistics.median(c + s for c, s in zip(result.get("cpu", []), server)) if "cpu" in result else None
                print(f"| {backend} | {variant}{' (saved)' if result.get('saved') else ''} | {wall:.3f} | "
                      f"{'—' if cpu is None else f'{cpu:.3f}'} | "
                      f"{statistics.median(server):.3f} | {result['peak_mb']:.0f} | "
                      f"{'—' if agreement is None else 'yes' if agreement else 'NO'} |", flush=True)
            for name, result in (("sql", sql), ("late", late), ("sqi", sqi)):
                print(f"<!-- {backend} {name}: wall {', '.join(f'{t:.3f}' for t in result['seconds'])} s; CPU "
                      f"{', '.join(f'{c:.3f}+{s:.3f}' for c, s in zip(result['cpu'], result['server_cpu']))} s -->")
            morale = sql["figures"]["sections"]["morale"]
            print(f"<!-- {backend}: sqi points {[day['points'] for day in sqi['figures']['days']]}; logged "
                  f"{sql['figures']['logged']}, open {sql['figures']['open']}; morale: this week {morale['this_week']}, "
                  f"active staff {morale['active_staff']}, {len(morale['reciprocal_pairs'])} pairs, "
                  f"{len(morale['limit_hitters'])} limit hitters; load average {load_average()} -->", flush=True)
            if not (same and same_late and same_sqi):
                print(json.dumps({"sql": sql["figures"], "naive": naive["figures"], "late": late["figures"],
                                  "naive_late": naive_late["figures"]}, indent=1), file=sys.stderr)
            if cluster is not None:
                cluster.stop()
                cluster = None
    finally:
        if cluster is not None:
            cluster.stop()
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
