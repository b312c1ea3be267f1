"""Alembic environment: migrates the database named by `sqlalchemy.url`."""

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel, create_engine

import models.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from models.search_index import is_model_object

engine = create_engine(context.config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        include_name=is_model_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
