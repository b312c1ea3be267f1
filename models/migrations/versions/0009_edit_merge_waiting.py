"""complaints: waiting on the customer (waiting_since, paused_seconds) and merging
duplicates (merged_into_id)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD/DROP COLUMN, never a batch rebuild: rebuilding `complaint` on
    # SQLite would drop the search index's triggers (0008). `merged_into_id` is checked
    # by the domain (bot/complaint_merges.py) rather than by a foreign key for that reason.
    op.add_column('complaint', sa.Column('waiting_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('complaint', sa.Column('paused_seconds', sa.Integer(), server_default='0', nullable=False))
    op.add_column('complaint', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    op.create_index('ix_complaint_paused_created_at', 'complaint', ['created_at'], unique=False,
                    sqlite_where=sa.text('paused_seconds > 0'), postgresql_where=sa.text('paused_seconds > 0'))


def downgrade() -> None:
    op.drop_index('ix_complaint_paused_created_at', table_name='complaint')
    op.drop_column('complaint', 'merged_into_id')
    op.drop_column('complaint', 'paused_seconds')
    op.drop_column('complaint', 'waiting_since')
