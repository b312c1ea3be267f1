"""complaint_search_logged: the ids of the complaints logged within dates, from an index

PostgreSQL's complaint search reads the newest complaint ids first (see PostgresIndex in
bot/complaint_search_index.py); with dates, "newest" starts at the highest id logged
within them. `complaint_search_logged` on complaint (created_at, id) answers that from
the index alone (41,000 entries for a month at a million complaints) instead of
visiting each complaint. SQLite needs nothing: its index on created_at holds the rowid,
which is the id, and FTS5 returns its matches in rowid order anyway.

Not a SQLModel index: it belongs to the search index (models/search_index.py), which
Alembic's comparison leaves out by name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX complaint_search_logged ON complaint (created_at, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX complaint_search_logged")
