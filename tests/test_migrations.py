"""The Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import models.tables  # noqa: F401 — registers every table on SQLModel.metadata
from models.db import alembic_config, upgrade
from models.search_index import is_model_object


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": is_model_object})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"run `alembic revision --autogenerate`: {differences}"


def test_migrations_have_one_head_and_downgrade_cleanly(database_url):
    from alembic import command

    config = alembic_config(database_url)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
    command.downgrade(config, "base")
    upgrade(database_url)


def test_0010_makes_the_people_who_logged_existing_complaints_their_followers(database_url, engine):
    from alembic import command
    from sqlalchemy import text

    config = alembic_config(database_url)
    command.downgrade(config, "0009")
    with engine.begin() as connection:
        for number, (reporter, status) in enumerate((("UALICE", "open"), ("UBOB", "resolved"), ("UCAROL", "merged")), 1):
            connection.execute(text(
                "INSERT INTO complaint (id, description, customer_name, customer_contact, customer_key, contact_channel,"
                " category, severity, status, owner_id, reporter_id, source_permalink, resolution, created_at,"
                " updated_at, satisfaction_comment, paused_seconds, slack_channel, slack_ts) VALUES (:id, 'x', '', '',"
                " '', 'other', 'other', 'normal', :status, 'UOWNER', :reporter, '', '', :at, :at, '', 0, '', '')"
            ), {"id": number, "status": status, "reporter": reporter, "at": "2026-11-20 09:00:00.000000"})
    upgrade(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT complaint_id, user_id FROM complaint_follower ORDER BY complaint_id"))
        assert [tuple(row) for row in rows] == [(1, "UALICE"), (2, "UBOB")]
