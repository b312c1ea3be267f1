"""What operators see of the real `servicedesk run` (gunicorn, two workers): /metrics adds up
both workers, and LOG_FORMAT=json makes every line of the output, gunicorn's too, a JSON
object with the request's id on the lines of a request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.harness import ALICE, COMPLAINTS, ON_SQLITE_ONLY, SIGNING_SECRET, SignedClient
from tests.running import free_port, wait_until_healthy

BURST = 8


class Output:
    """The server's output, read line by line as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def json(self) -> list[dict]:
        return [json.loads(line) for line in list(self.lines)]

    def finish(self) -> None:
        self._reader.join(timeout=30)


def complaint_requests(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "servicedesk_requests_total" and sample.labels == {"kind": "command", "listener": "/complaint"}:
                return sample.value
    return 0.0


@ON_SQLITE_ONLY
def test_metrics_add_up_both_workers_and_logs_are_json_lines(database_url, slack, tmp_path):
    port = free_port()
    env = {
        **os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": "2", "COMPLAINTS_CHANNEL": COMPLAINTS, "LOG_FORMAT": "json",
    }
    for name in ("SLACK_APP_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(server)
    client = SignedClient(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack.response_url(), user=ALICE)
    sent: list[str] = []  # the X-Request-Id of every complaint logged
    try:
        wait_until_healthy(client, server)
        # Bursts of commands until both workers have answered some (their pids are on
        # the access lines).
        deadline = time.monotonic() + 30
        while len(worker_pids(output, sent)) < 2:
            assert time.monotonic() < deadline, "one worker answered every request"
            with ThreadPoolExecutor(max_workers=BURST) as pool:
                replies = list(pool.map(lambda n: client.command(f"#billing charged twice, order {n}"), range(BURST)))
            assert all(reply.status == 200 and reply.text.startswith("Logged *C-") for reply in replies)
            sent += [reply.headers["X-Request-Id"] for reply in replies]
            time.sleep(0.2)  # the access lines are written after the answers
        # Whichever worker answers the scrape, the count is the whole server's.
        for _ in range(6):
            scraped = client.get("/metrics")
            assert scraped.status == 200
            assert complaint_requests(scraped.text) == len(sent)
        # Workers replaced (SIGHUP) leave their counts behind, and the shared files in place.
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while sum("Worker exiting" in line["message"] for line in output.json()) < 2:
            assert time.monotonic() < deadline, "the workers were not replaced"
            time.sleep(0.1)
        scraped = client.get("/metrics")
        assert scraped.status == 200 and complaint_requests(scraped.text) == len(sent)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        output.finish()
    assert server.returncode == 0, "\n".join(output.lines)

    lines = output.json()  # every line is a JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "gunicorn.access"} <= loggers
    [shared] = [line["message"] for line in lines if "count into" in line["message"]]
    directory = Path(shared.split(" count into ", 1)[1].split(" for /metrics", 1)[0])
    assert directory.name.startswith("servicedesk-metrics-") and not directory.exists()  # removed at exit


def worker_pids(output: Output, request_ids: list[str]) -> set[int]:
    """The pids of the workers whose access lines carry one of `request_ids`."""
    wanted = set(request_ids)
    return {line["pid"] for line in output.json()
            if line.get("logger") == "gunicorn.access" and line.get("request_id") in wanted}


def test_a_metrics_directory_that_does_not_exist_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")}
    env.pop("SLACK_APP_TOKEN", None)
    result = subprocess.run([sys.executable, "-m", "bot.app.cli", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.endswith(f"servicedesk: PROMETHEUS_MULTIPROC_DIR is invalid: {str(tmp_path / 'missing')!r} "
                                  "is not a directory\n")
