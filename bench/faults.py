"""The fault run: the real `servicedesk run` (gunicorn, two workers) under load from signed
Slack clients, while something breaks; then count what the clients were told against
what the database holds and what the fake Slack was sent (bench/fault_load.py).

* kill: SIGKILL the whole server (master and workers) under load, start it again.
  Acknowledged vs stored, duplicates, seconds until it acknowledges again, and the
  team copies lost in the crash: re-posted, never twice.
* postgres: restart the fault run's own PostgreSQL under load; the bot is not restarted.
  Every request answered in the outage is either saved or told to try again, never both
  or neither, and the seconds until it acknowledges again.
* slack: the fake Web API answers 429 with Retry-After, `ratelimited`,
  `channel_not_found`, HTTP 500 `internal_error`, stalls 5 s, refuses connections, or
  carries out each call and cuts its connection unanswered, each on a fresh server. Acks stay under 3 s, complaints are saved, nothing untrue is
  said, and once Slack is back every team copy and every new owner's DM goes out once.
* hostile: the malformed corpus (tests/hostile.py) sent over and over under load: no 5xx.

    python -m bench.faults [--faults kill,postgres,slack,hostile] [--backends sqlite,postgresql]
                           [--seconds 20] [--clients 6]

tests/faults/ runs the same scenarios small. The figures are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.fault_load import (
    CONFIRMED, Load, RealServer, Sent, Tally, add_owners, owner_dms, owner_notice_ledger, stored_references, tally,
    team_copies,
)
from bot.app.console.slack_emulator import SlackEmulator
from bot.services import WEB_API_TIMEOUT
from tests.harness import COMPLAINTS, add_staff
from tests.hostile import corpus, send
from tests.postgres import ThrowawayCluster, start_cluster
from tests.shared import slack_spec_or_none

ACK_BUDGET = 3.0
SLACK_FAULTS: dict[str, Callable[[SlackEmulator], None]] = {
    "429 + Retry-After": lambda slack: slack.break_all("ratelimited", status=429, retry_after=1),
    "ratelimited": lambda slack: slack.break_all("ratelimited"),
    "channel_not_found": lambda slack: slack.break_all("channel_not_found"),
    "HTTP 500 internal_error": lambda slack: slack.break_all("internal_error", status=500),
    "stalls 5 s": lambda slack: slack.stall_all(5.0),
    "refuses connections": lambda slack: slack.refuse_connections(),
    # Each call carried out (the message posted) and its connection closed unanswered.
    "cuts connections after acting": lambda slack: slack.cut_all(),
}
# Where gunicorn reads the request differently from the loopback server of tests/e2e: a
# POST with neither Content-Length nor chunks has no body (RFC 9112), so it is the
# empty signed body, which is for nothing the bot knows.
GUNICORN_ANSWERS = {"no Content-Length": 404}


@dataclass
class Outcome:
    fault: str
    backend: str
    tally: Tally
    recovery: float | None = None  # seconds until a complaint was acknowledged again
    notes: dict[str, object] = field(default_factory=dict)


@contextmanager
def fake_slack() -> Iterator[SlackEmulator]:
    slack = SlackEmulator(spec_path=slack_spec_or_none()).start()
    add_staff(slack)
    add_owners(slack)
    try:
        yield slack
    finally:
        slack.stop()
    assert slack.problems == [], "the bot sent Slack invalid calls:\n" + "\n".join(slack.problems[:20])


@contextmanager
def running(database_url: str, slack: SlackEmulator, workdir: Path) -> Iterator[RealServer]:
    server = RealServer(database_url=database_url, slack=slack, workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        # Everything is counted by now; a graceful stop would only wait for idle workers.
        server.kill()


def acknowledged_again(sent: list[Sent], since: float) -> float | None:
    """Seconds from `since` (time.time()) to the first acknowledgement of a request sent after it."""
    times = [s.started + s.seconds for s in sent if s.reference and s.started >= since]
    return min(times) - since if times else None


def wait_until(done: Callable[[], bool], timeout: float) -> float | None:
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            return None
        time.sleep(0.5)
    return time.monotonic() - started


def copies_once(database_url: str, slack: SlackEmulator) -> tuple[int, int]:
    """(stored complaints without a team copy, complaints with more than one)."""
    copies = team_copies(slack)
    stored = stored_references(database_url)
    return sum(1 for ref in stored if ref not in copies), sum(1 for ref in stored if len(copies.get(ref, [])) > 1)


# Answers to requests sent within this many seconds of a restarted server being healthy
# count as "right after the restart".
AFTER_RESTART = 10.0


def answers_after_restarts(sent: list[Sent], restarts: list[tuple[float, float]]) -> tuple[list[Sent], ...]:
    """The answered requests sent while a killed server was starting again (from the kill
    until `/healthz` answered: a connection the new server's listen queue took before its
    workers were ready), those sent in the AFTER_RESTART seconds after that, and the others."""
    def starting(s: Sent) -> bool:
        return any(killed <= s.started < back for killed, back in restarts)

    def just_after(s: Sent) -> bool:
        return any(back <= s.started <= back + AFTER_RESTART for _, back in restarts)

    answered = [s for s in sent if s.status]
    return ([s for s in answered if starting(s)], [s for s in answered if just_after(s)],
            [s for s in answered if not (starting(s) or just_after(s))])


def answer_figures(label: str, answers: list[Sent]) -> dict[str, object]:
    seconds = sorted(s.seconds for s in answers)
    if not seconds:
        return {f"answers {label}": 0}
    return {f"answers {label}": len(seconds), f"median s {label}": round(seconds[len(seconds) // 2], 3),
            f"slowest s {label}": round(seconds[-1], 3),
            f"over {ACK_BUDGET:g} s {label}": sum(1 for x in seconds if x > ACK_BUDGET)}


# ----- the scenarios ----------------------------------------------------------------------------
def kill_under_load(*, database_url: str, backend: str, workdir: Path, seconds: float, kills: int = 2,
                    clients: int = 6, slack_latency: float = 0.2, wait_for_copies: float = 0) -> Outcome:
    """SIGKILL the server `kills` times under load; `wait_for_copies`: seconds to wait
    afterwards for the team copies lost in the crashes (the retry job)."""
    with fake_slack() as slack, running(database_url, slack, workdir) as server:
        # Slack answering a little late keeps team copies in flight when the kill comes.
        slack.latency = slack_latency
        recoveries, restarts, missing = [], [], 0
        with Load(server, clients=clients) as load:
            for _ in range(kills):
                time.sleep(seconds / (kills + 1))
                server.kill()
                killed_at = time.time()
                server.start()
                restarts.append((killed_at, time.time()))
                time.sleep(1.0)
                recoveries.append(acknowledged_again(load.sent, killed_at))
            time.sleep(seconds / (kills + 1))
        slack.latency = 0.0
        missing = copies_once(database_url, slack)[0]
        cleared = wait_until(lambda: copies_once(database_url, slack)[0] == 0, wait_for_copies) if wait_for_copies else None
        without, twice = copies_once(database_url, slack)
        outcome = Outcome("SIGKILL under load", backend, tally(database_url, load.sent),
                          recovery=max((r for r in recoveries if r is not None), default=None))
        starting, after, elsewhere = answers_after_restarts(load.sent, restarts)
        outcome.notes = {"kills": kills, "unacknowledged recoveries": recoveries.count(None),
                         "copies missing after load": missing, "seconds to re-post them": cleared,
                         "copies still missing": without, "copies posted twice": twice,
                         "restart seconds (kill to healthy)": [round(back - killed, 2) for killed, back in restarts],
                         **answer_figures("while restarting", starting), **answer_figures("after a restart", after),
                         **answer_figures("elsewhere", elsewhere)}
    return outcome


def postgres_restart_under_load(*, cluster: ThrowawayCluster, workdir: Path, seconds: float, restarts: int = 2,
                                clients: int = 6, settle: float = 6.0) -> Outcome:
    """`settle`: seconds of load after each restart, within which the bot must acknowledge again."""
    database_url = cluster.url.rsplit("/", 1)[0] + "/faults_restart"
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS faults_restart"))
        connection.execute(text("CREATE DATABASE faults_restart"))
    admin.dispose()
    with fake_slack() as slack, running(database_url, slack, workdir) as server:
        recoveries, outages = [], []
        with Load(server, clients=clients) as load:
            for _ in range(restarts):
                time.sleep(seconds / (restarts + 1))
                began = time.time()
                cluster.restart()
                back = time.time()
                outages.append(back - began)
                time.sleep(settle)
                recoveries.append(acknowledged_again(load.sent, back))
            time.sleep(seconds / (restarts + 1))
        outcome = Outcome("PostgreSQL restart under load", "postgresql", tally(database_url, load.sent),
                          recovery=max((r for r in recoveries if r is not None), default=None))
        outcome.notes = {"restarts": restarts, "restart seconds": [round(o, 2) for o in outages],
                         "unacknowledged recoveries": recoveries.count(None)}
    return outcome


def slack_fault_under_load(name: str, *, database_url: str, backend: str, workdir: Path, seconds: float,
                           clients: int = 4, wait_after: float = 0) -> Outcome:
    """One Web API fault for `seconds` under load, then Slack is back; `wait_after`: seconds
    to wait for every team copy and new owner's DM to go out (the retry jobs)."""
    with fake_slack() as slack, running(database_url, slack, workdir) as server:
        with Load(server, clients=clients) as load:
            time.sleep(1.0)
            SLACK_FAULTS[name](slack)
            time.sleep(seconds)
            slack.mend()
            if name == "refuses connections":
                slack.accept_connections()
            time.sleep(2.0)
        owed = {(s.owner, s.reference) for s in load.sent if s.owner and s.reference}
        # The first tries still queued behind a slow Slack (429s are retried after a second) finish
        # first. A DM whose connection broke before Slack answered stays `sending` for good
        # (at most once); any other call has had its answer by the client's timeout.
        mended = time.monotonic()

        def first_tries_ended() -> bool:
            ledger = owner_notice_ledger(database_url)
            settled = not ledger.get("sending") or time.monotonic() - mended > WEB_API_TIMEOUT + 2
            return sum(ledger.values()) >= len(owed) and settled

        first_tries = wait_until(first_tries_ended, 60)

        def all_out() -> bool:
            told = owner_dms(slack)
            return copies_once(database_url, slack)[0] == 0 and all(told[key] for key in owed)

        settled = wait_until(all_out, wait_after) if wait_after else None
        told = owner_dms(slack)
        without, twice = copies_once(database_url, slack)
        outcome = Outcome(f"Slack {name}", backend, tally(database_url, load.sent))
        outcome.notes = {
            "untrue statements": untrue_statements(slack, load.sent), "copies still missing": without,
            "copies posted twice": twice, "owners owed a DM": len(owed),
            "owners not told": sum(1 for key in owed if not told[key]),
            "owners told twice": sum(1 for key in owed if told[key] > 1),
            "seconds until first tries ended": first_tries, "seconds until all out": settled, "owner notices in the ledger": dict(owner_notice_ledger(database_url)),
        }
    return outcome


def untrue_statements(slack: SlackEmulator, sent: list[Sent]) -> list[str]:
    """What the reporter was told about the team copy against when it was really posted:
    "posted to" only once it was there, "couldn't post it" only while it was not."""
    copies = team_copies(slack)
    statements = [(s.reference, s.started + s.seconds, s.text) for s in sent if s.reference]
    for call in slack.calls_to("response_url"):
        said = call.args.get("text", "")
        if found := CONFIRMED.search(said):
            statements.append((found.group(1), call.at, said))
    wrong = []
    for reference, at, said in statements:
        posted = any(ts <= at for ts in copies.get(reference, []))
        if (f"posted to <#{COMPLAINTS}>" in said and " will be posted" not in said and not posted) or (
                "I couldn't post it" in said and posted):
            wrong.append(f"{reference}: {said[:120]!r}")
    return wrong


def hostile_under_load(*, database_url: str, backend: str, workdir: Path, rounds: int, clients: int = 4) -> Outcome:
    with fake_slack() as slack, running(database_url, slack, workdir) as server:
        wrong_status, server_errors, slowest, sent = [], 0, 0.0, 0
        with Load(server, clients=clients) as load:
            for _ in range(rounds):
                for case in corpus():
                    answer = send("127.0.0.1", server.port, case.method, case.path, case.body, case.request_headers())
                    sent += 1
                    slowest = max(slowest, answer.seconds)
                    server_errors += answer.status >= 500
                    if answer.status != GUNICORN_ANSWERS.get(case.name, case.expect):
                        wrong_status.append(f"{case.name}: {answer.status}")
        outcome = Outcome("malformed corpus under load", backend, tally(database_url, load.sent))
        outcome.notes = {"hostile requests": sent, "hostile 5xx": server_errors,
                         "unexpected statuses": wrong_status, "slowest hostile answer": round(slowest, 3)}
    return outcome


# ----- the full run -------------------------------------------------------------------------------
def figures_table(outcomes: list[Outcome]) -> str:
    lines = ["| fault | backend | sent | acknowledged | stored | lost | duplicated | try again | both/neither | "
             "5xx | slowest answer s | recovery s |", "|" + "---|" * 12]
    for o in outcomes:
        t = o.tally
        recovery = f"{o.recovery:.2f}" if o.recovery is not None else "–"
        lines.append(f"| {o.fault} | {o.backend} | {t.sent} | {t.acknowledged} | {t.stored} | {t.lost} | "
                     f"{t.duplicated} | {t.try_again} | {t.try_again_but_saved}/{t.neither} | {t.server_errors} | "
                     f"{t.slowest:.2f} | {recovery} |")
    notes = [f"- {o.fault}, {o.backend}: " + "; ".join(f"{k} {v}" for k, v in o.notes.items()) for o in outcomes]
    return "\n".join(lines + [""] + notes)


def database_for(backend: str, name: str, workdir: Path, cluster: ThrowawayCluster | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default="kill,postgres,slack,hostile")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=20, help="load per scenario (a Slack fault lasts a third)")
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args(argv)
    faults, backends = args.faults.split(","), args.backends.split(",")
    outcomes: list[Outcome] = []
    cluster = start_cluster(durable=True) if "postgresql" in backends else None
    try:
        with tempfile.TemporaryDirectory(prefix="servicedesk-faults-") as tmp:
            for backend in backends:
                def workdir(name: str) -> Path:
                    path = Path(tmp) / backend / name
                    path.mkdir(parents=True)
                    return path

                if "kill" in faults:
                    outcomes.append(kill_under_load(
                        database_url=database_for(backend, "faults_kill", Path(tmp), cluster), backend=backend,
                        workdir=workdir("kill"), seconds=args.seconds, clients=args.clients, wait_for_copies=180))
                if "postgres" in faults and backend == "postgresql":
                    outcomes.append(postgres_restart_under_load(cluster=cluster, workdir=workdir("postgres"),
                                                                seconds=args.seconds, clients=args.clients))
                for number, name in enumerate(SLACK_FAULTS if "slack" in faults else ()):
                    outcomes.append(slack_fault_under_load(
                        name, database_url=database_for(backend, f"faults_slack_{number}", Path(tmp), cluster),
                        backend=backend, workdir=workdir(f"slack-{number}"), seconds=args.seconds / 3,
                        clients=args.clients, wait_after=180))
                if "hostile" in faults:
                    outcomes.append(hostile_under_load(
                        database_url=database_for(backend, "faults_hostile", Path(tmp), cluster), backend=backend,
                        workdir=workdir("hostile"), rounds=max(1, int(args.seconds // 4)), clients=args.clients))
                print(figures_table([o for o in outcomes if o.backend == backend]), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    print("\n" + figures_table(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
