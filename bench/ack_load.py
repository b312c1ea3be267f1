"""Load for bench/ack_latency.py: signed slash commands in a closed or an open loop, and
the CPU each process spends meanwhile (read from /proc)."""

from __future__ import annotations

import http.client
import os
import resource
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Enough connections that an open loop never waits for a free one below a second of backlog.
OPEN_LOOP_CONNECTIONS = 64
# Enough of an answer to tell "Logged as …" from an error, for each request.
ANSWER_KEPT = 300


@dataclass
class Fired:
    latencies: list[float]
    seconds: float
    errors: int  # answered, but not with 200
    acked: list[int]  # indexes of the bodies answered with 200
    unanswered: int = 0  # the connection broke before an answer (a worker killed, say)
    warned: list[int] = field(default_factory=list)  # of those, told ":warning:" (e.g. not saved, try again)
    answers: dict[int, bytes] = field(default_factory=dict)  # what each 200 said, to show when a row is missing

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and all its descendants, live or reaped."""
    parents, used = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited while we looked
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # utime, stime, and the times of children it has waited for (so exited
        # children are counted once, by their parent).
        used[pid] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return sum(used.get(pid, 0.0) for pid in tree)


class CpuMeter:
    """CPU seconds spent by each part of the benchmark while the measured requests ran."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes

    def sample(self) -> dict[str, float]:
        sample = {name: tree_cpu_seconds(pid) for name, pid in self.processes.items()}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sample["load generator"] = usage.ru_utime + usage.ru_stime
        return sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def fire(port: int, bodies: list[str], *, secret: str, clients: int, rate: float | None = None) -> Fired:
    """Send every body over keep-alive connections.

    Closed loop (`rate` None): `clients` threads each send the next body as soon as the
    previous answer came. Open loop: body i is due `i / rate` seconds after the start,
    whatever the server is doing, and its latency runs from that due time (so a server
    that falls behind is charged for the queue, not only for the service).
    """
    signer = SignatureVerifier(secret)
    latencies: list[float] = []
    errors, unanswered, acked, warned, answers = [0], [0], [], [], {}
    lock = threading.Lock()
    queue = iter(range(len(bodies)))
    threads = clients if rate is None else OPEN_LOOP_CONNECTIONS
    started = time.perf_counter() + (0.05 if rate else 0.0)  # open loop: every thread is up before the first is due

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            if rate is not None:
                due = started + index / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            body = bodies[index]
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=timestamp, body=body),
            }
            sent = time.perf_counter() if rate is None else due
            try:
                connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()  # reconnects on the next request
                with lock:
                    unanswered[0] += 1
                continue
            elapsed = time.perf_counter() - sent
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
                if response.status == 200:
                    acked.append(index)
                    answers[index] = answer[:ANSWER_KEPT]
                    if b":warning:" in answer:
                        warned.append(index)
        connection.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Fired(latencies, time.perf_counter() - started, errors[0], acked, unanswered[0], warned, answers)
