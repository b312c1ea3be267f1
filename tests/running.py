"""Running the real `servicedesk run` as a subprocess in a test."""

from __future__ import annotations

import socket
import subprocess
import time

from tests.harness import SignedClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(client: SignedClient, server: subprocess.Popen, *, timeout: float = 30) -> None:
    """Return once the server answers /healthz with 200; fail if it exits or takes `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get("/healthz").status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "server did not start"
        time.sleep(0.1)
