"""A throwaway PostgreSQL server for the test run.

PostgreSQL refuses to run as root, and these machines (and many CI runners) run
everything as root, so the cluster is initialised and started as the `postgres`
system user in a temporary directory, listening on a free loopback port with trust
authentication. It lives as long as the test session and is deleted afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """The directory with initdb and pg_ctl: PG_BINDIR, then PATH, then Debian's layout."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found; install PostgreSQL "
        "(Debian/Ubuntu: apt-get install postgresql) or set TEST_DATABASE_URL"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayCluster:
    bindir: Path
    root: Path
    port: int
    as_user: list[str]
    # Tests trade durability for speed; a benchmark keeps PostgreSQL's own defaults.
    durable: bool = False
    # A benchmark's cluster kept in its work folder: started again by the next run, not deleted.
    keep: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> "ThrowawayCluster":
        data = self.root / "data"
        if not (data / "PG_VERSION").exists():
            initdb = [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            self._run(*initdb, *([] if self.durable else ["--no-sync"]))
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def restart(self) -> None:
        """Stop (ending every connection, as a restart does) and start again with the same options."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-l", str(self.root / "log"),
                  "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        if self.keep:  # a clean shutdown, so the next start needs no recovery
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
            return
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(*, durable: bool = False, root: Path | None = None) -> ThrowawayCluster:
    """A cluster in a new temporary folder, deleted by stop(); or, given `root`, the
    cluster kept there (initialised on first use, started again by later calls)."""
    bindir = find_bindir()
    keep = root is not None
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="servicedesk-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb and postgres refuse root: run them as the postgres system user.
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root needs `runuser` to start PostgreSQL as the postgres user")
        shutil.chown(root, user="postgres", group="postgres")
        root.chmod(0o700)
        as_user = ["runuser", "-u", "postgres", "--"]
    return ThrowawayCluster(bindir=bindir, root=root, port=_free_port(), as_user=as_user, durable=durable,
                            keep=keep).start()
