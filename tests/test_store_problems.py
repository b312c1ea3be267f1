"""Store problems at start are one line: a bad DATABASE_URL (exit 2), a database that is not
reachable (retried for DATABASE_WAIT_SECONDS, then exit 1), and one that comes up late."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from bot.app.cli import main
from models.db import DatabaseUnavailable, wait_for_database


def servicedesk(*args: str, env: dict[str, str], cwd) -> subprocess.Popen:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.Popen([sys.executable, "-m", "bot.app.cli", *args], env={**clean, **env}, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NONSENSE = ("nonsense://", "DATABASE_URL is invalid: 'nonsense' databases are not supported")


@pytest.mark.parametrize(
    "command, url, message",
    [
        (("db", "upgrade"), *NONSENSE),
        (("run",), *NONSENSE),
        (("export", "complaints"), *NONSENSE),
        (("db", "upgrade"), "mysql://root:hunter2@db/servicedesk", "DATABASE_URL is invalid: 'mysql' databases are not supported"),
        (("db", "upgrade"), "://", "DATABASE_URL is invalid: not a database URL"),
        (("run",), "sqlite:///no/such/folder/servicedesk.db", "DATABASE_URL is invalid: the folder"),
    ],
)
def test_a_bad_database_url_is_one_line_naming_it_and_exit_2(tmp_path, monkeypatch, capsys, url, message, command):
    # In-process (the same `main` the other tests here run as a process): one
    # interpreter start per URL would cost the suite more than the check.
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith(("SLACK_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    for name, value in {"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}.items():
        monkeypatch.setenv(name, value)
    code = main(list(command))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"servicedesk: {message}") and len(err.strip().splitlines()) == 1, err
    assert "hunter2" not in err
    assert not list(tmp_path.rglob("*.db"))


def test_an_unreachable_database_is_retried_then_one_line_and_exit_1(tmp_path):
    url = f"postgresql://servicedesk:hunter2@127.0.0.1:{free_port()}/servicedesk"
    started = time.monotonic()
    code, out, err = finish(servicedesk(
        "run", env={"DATABASE_URL": url, "DATABASE_WAIT_SECONDS": "3", "SLACK_BOT_TOKEN": "xoxb-test",
                    "SLACK_SIGNING_SECRET": "secret"}, cwd=tmp_path,
    ))
    took = time.monotonic() - started
    assert code == 1, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "hunter2" not in err
    retries = [line for line in lines if "is not reachable yet" in line and "trying again in" in line]
    assert retries and all("127.0.0.1" in line and "refused" in line for line in retries), err
    assert lines[-1].startswith("servicedesk: could not reach the database at postgresql+psycopg://servicedesk:***@127.0.0.1")
    assert "within 3 s" in lines[-1]
    assert 3 <= took < 60  # the machine may be busy; the wait itself is 3 s


def test_a_file_that_is_not_a_database_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "notes.db").write_text("shopping list: milk, eggs\n")
    code, out, err = finish(servicedesk("db", "upgrade", env={"DATABASE_URL": "sqlite:///notes.db"}, cwd=tmp_path))
    assert code == 1
    assert err == "servicedesk: the database failed: file is not a database\n"


# SQLite is a file, never "not up yet": only PostgreSQL can start after the bot.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_that_comes_up_late_is_waited_for(database_url, tmp_path):
    """`db upgrade` starts before its database: it waits, then migrates and exits 0."""
    real = make_url(database_url)
    port = free_port()
    late_url = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    process = servicedesk("db", "upgrade", env={"DATABASE_URL": late_url, "DATABASE_WAIT_SECONDS": "30"}, cwd=tmp_path)
    first = process.stderr.readline()
    assert "is not reachable yet" in first and process.poll() is None, first
    with Forwarder(("127.0.0.1", port), (real.host, real.port)):
        code, out, err = finish(process)
    assert code == 0, first + err
    assert "database is up to date: postgresql+psycopg://" in out
    assert "Traceback" not in err


class Forwarder:
    """A TCP port that starts listening late and passes connections to the real database."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.server = socket.create_server(listen)
        self.target = target
        self.stopped = threading.Event()

    def __enter__(self) -> Forwarder:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.server.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_waiting_backs_off_and_stops_at_the_deadline():
    now = [0.0]
    pauses: list[float] = []
    told: list[str] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    with pytest.raises(DatabaseUnavailable, match=r"within 12 s: .*refused"):
        wait_for_database(f"postgresql://x@127.0.0.1:{free_port()}/x", wait_seconds=12, on_retry=told.append,
                          sleep=sleep, monotonic=lambda: now[0])
    assert pauses == [0.5, 1.0, 2.0, 4.0, 4.5]
    assert len(told) == len(pauses) and "trying again in 0.5 s" in told[0]
