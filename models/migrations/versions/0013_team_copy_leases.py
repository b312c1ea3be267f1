"""complaints: a lease on posting the team's copy (each process claims its own) and
the ts of each thread reply (so an erasure can redact it in Slack)

Columns added in place: a batch rebuild of `complaint` or `complaint_event` on SQLite
would drop the search index's triggers (0008).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('complaint', sa.Column('copy_lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('complaint', sa.Column('copy_tries', sa.Integer(), server_default='0', nullable=False))
    op.add_column('complaint', sa.Column('copy_refusals', sa.Integer(), server_default='0', nullable=False))
    op.add_column('complaint_event', sa.Column('reply_ts', sqlmodel.sql.sqltypes.AutoString(length=32),
                                               server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('complaint_event', 'reply_ts')
    op.drop_column('complaint', 'copy_refusals')
    op.drop_column('complaint', 'copy_tries')
    op.drop_column('complaint', 'copy_lease_until')
