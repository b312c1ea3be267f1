"""Shared fixtures: a migrated database per test, on SQLite and on PostgreSQL.

Every test that asks for `database_url` (or `engine` / `open_session`) runs twice,
once per backend. PostgreSQL comes from TEST_DATABASE_URL when set (a superuser URL),
otherwise from a throwaway cluster this session starts itself (tests/postgres.py).
Under CI=true a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from models.db import SessionFactory, make_engine, normalise_url, session_factory, upgrade
from bot.config import Settings, load_settings
from bot.app.console.slack_emulator import SlackEmulator
from tests.harness import ADMIN, COMPLAINTS, MANAGER, SIGNING_SECRET, Desk, FakeClock, add_staff
from tests.postgres import PostgresUnavailable, start_cluster
from tests.postgres_databases import RecycledDatabases, url_of
from tests.shared import IN_CI, slack_spec_or_none

TEMPLATE_DB = "servicedesk_template"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A superuser URL to a PostgreSQL server holding the migrated template database."""
    configured = os.environ.get("TEST_DATABASE_URL")
    cluster = None
    if configured:
        admin_url = normalise_url(configured)
    else:
        try:
            cluster = start_cluster()
        except PostgresUnavailable as exc:
            if IN_CI:
                pytest.fail(f"PostgreSQL is required under CI: {exc}", pytrace=False)
            pytest.skip(f"PostgreSQL tests skipped: {exc}")
        admin_url = cluster.url
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
    upgrade(url_of(admin_url, TEMPLATE_DB))
    try:
        yield admin_url
    finally:
        admin.dispose()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_databases(postgres_admin_url) -> Iterator[RecycledDatabases]:
    databases = RecycledDatabases(postgres_admin_url, TEMPLATE_DB)
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "servicedesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    databases = request.getfixturevalue("postgres_databases")
    name = databases.take()
    try:
        yield url_of(databases.admin_url, name)
    finally:
        databases.give_back(name)


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def open_session(engine) -> SessionFactory:
    return session_factory(engine)


# ----- the end-to-end harness (tests/harness.py) ----------------------------------------
@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    """The fake Slack Web API; a test fails if the bot sent it anything invalid."""
    emulator = SlackEmulator(spec_path=slack_spec_or_none()).start()
    add_staff(emulator)
    yield emulator
    emulator.stop()
    assert emulator.problems == [], "the bot sent Slack invalid calls:\n" + "\n".join(emulator.problems)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_settings(database_url, slack, tmp_path):
    def make(**overrides) -> Settings:
        values = {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            "database_url": database_url,
            "complaints_channel": COMPLAINTS,
            "manager_ids": (MANAGER,),
            "admin_ids": (ADMIN,),
            "knowledge_dir": tmp_path / "knowledge",
            # The daily index would post to COMPLAINTS on a test's first tick, among the team
            # copies other tests count: tests/e2e/test_quality_index.py turns it on.
            "sqi_time": "",
            # Slack's pace (one post a second per channel) would make every test that
            # posts a few messages wait: tests/e2e/test_team_copy_pace.py keeps it.
            "slack_channel_posts_per_second": 1000,
        }
        values.update(overrides)
        return load_settings(env_file=None, **values)

    return make


@pytest.fixture
def make_desk(make_settings, slack, clock):
    """Start a bot with setting overrides; several may run at once (two processes)."""
    desks: list[Desk] = []

    def make(**overrides) -> Desk:
        desk = Desk(make_settings(**overrides), slack, clock)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.stop()


@pytest.fixture
def desk(make_desk) -> Desk:
    return make_desk()
