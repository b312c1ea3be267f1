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
    with op.batch_alter_table('complaint') as batch:
        batch.add_column(sa.Column('waiting_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('paused_seconds', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_complaint_merged_into_id_complaint', 'complaint', ['merged_into_id'], ['id'])
    op.create_index('ix_complaint_paused_created_at', 'complaint', ['created_at'], unique=False,
                    sqlite_where=sa.text('paused_seconds > 0'), postgresql_where=sa.text('paused_seconds > 0'))


def downgrade() -> None:
    op.drop_index('ix_complaint_paused_created_at', table_name='complaint')
    with op.batch_alter_table('complaint') as batch:
        batch.drop_constraint('fk_complaint_merged_into_id_complaint', type_='foreignkey')
        batch.drop_column('merged_into_id')
        batch.drop_column('paused_seconds')
        batch.drop_column('waiting_since')
