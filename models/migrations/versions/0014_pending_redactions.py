"""privacy: the messages in Slack still to be redacted after an erasure or a retention
run (Slack could not be reached), retried by the scheduler

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'pending_redaction',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='team message', nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('complaint_id', 'event_id'),
    )
    op.create_index(op.f('ix_pending_redaction_due_at'), 'pending_redaction', ['due_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_redaction_due_at'), table_name='pending_redaction')
    op.drop_table('pending_redaction')
