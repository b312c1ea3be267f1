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
