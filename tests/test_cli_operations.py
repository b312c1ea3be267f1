"""What operators ask the command line first: its version, its help, and where `run` listens."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from bot.app.server import gunicorn_options
from bot.config import load_settings


def servicedesk(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})}, cwd=cwd)


def test_version_comes_from_the_installed_package(tmp_path):
    result = servicedesk("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"servicedesk {version('servicedesk')}\n"


def test_bare_servicedesk_prints_help_and_exits_0(tmp_path):
    result = servicedesk(cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: servicedesk")
    for command in ("run", "db", "export", "console", "kb"):
        assert f"\n    {command} " in result.stdout


@pytest.mark.parametrize(
    "host, bind",
    [(None, "0.0.0.0:3000"), ("127.0.0.1", "127.0.0.1:3000"), ("::1", "[::1]:3000"), ("[::]", "[::]:3000"),
     ("bot.internal", "bot.internal:3000")],
)
def test_run_binds_host_and_port(host, bind):
    settings = load_settings(env_file=None, **({"host": host} if host else {}))
    assert gunicorn_options(settings)["bind"] == bind


def test_a_bad_host_is_one_line_and_exit_2(tmp_path):
    result = servicedesk("run", env={"HOST": "0.0.0.0:80", "SLACK_BOT_TOKEN": "xoxb-test"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("servicedesk: HOST is invalid") and len(result.stderr.splitlines()) == 1
