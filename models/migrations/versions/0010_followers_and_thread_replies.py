"""complaints: followers (told when it is resolved or reopened; the person who logged
each existing complaint follows it) and the replies still to post in the thread of a
complaint's team message

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # New tables only: `complaint` and `complaint_event` are left as they are (a batch
    # rebuild on SQLite would drop the search index's triggers, 0008).
    op.create_table(
        'complaint_follower',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('complaint_id', 'user_id'),
    )
    op.create_table(
        'pending_thread_reply',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('tried_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['complaint_event.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_id'),
    )
    op.create_index(op.f('ix_pending_thread_reply_complaint_id'), 'pending_thread_reply', ['complaint_id'],
                    unique=False)
    # Whoever logged a complaint follows it, as they do every complaint logged from now on
    # (a merged duplicate is followed through the complaint it was merged into).
    op.execute(
        "INSERT INTO complaint_follower (complaint_id, user_id, since) "
        "SELECT id, reporter_id, created_at FROM complaint WHERE status <> 'merged'"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_thread_reply_complaint_id'), table_name='pending_thread_reply')
    op.drop_table('pending_thread_reply')
    op.drop_table('complaint_follower')
