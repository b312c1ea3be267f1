"""complaint events: where the new owner's DM of an ownership change was posted, so that
redacting the customer (whose contact the DM gives) updates it in Slack too

Columns added in place: a batch rebuild of `complaint_event` on SQLite would drop the
search index's triggers (0008).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for name in ('notice_channel', 'notice_ts'):
        op.add_column('complaint_event', sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=32),
                                                   server_default='', nullable=False))


def downgrade() -> None:
    for name in ('notice_ts', 'notice_channel'):
        op.drop_column('complaint_event', name)
