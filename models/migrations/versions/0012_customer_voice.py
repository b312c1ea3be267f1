"""the customers' own voice: survey answers, call-backs, unsubscribes, rate windows;
complaint.source for complaints from outside Slack

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 10:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER TABLE ADD COLUMN, never a batch rebuild: rebuilding `complaint` on
    # SQLite would drop the search index's triggers (0008).
    op.add_column('complaint', sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), server_default='',
                                         nullable=False))
    op.create_index('ix_complaint_source_id', 'complaint', ['id'], unique=False,
                    sqlite_where=sa.text("source != ''"), postgresql_where=sa.text("source != ''"))
    op.create_table(
        'survey_answer',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('ratings', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), server_default='', nullable=False),
        sa.Column('first_answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id']),
        sa.PrimaryKeyConstraint('complaint_id'),
    )
    op.create_index('ix_survey_answer_first_answered_at', 'survey_answer', ['first_answered_at'], unique=False)
    op.create_index('ix_survey_answer_answered_at', 'survey_answer', ['answered_at'], unique=False)
    op.create_table(
        'call_back',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('called_back_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('called_back_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('alert_channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('alert_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id']),
        sa.PrimaryKeyConstraint('complaint_id'),
    )
    op.create_index('ix_call_back_requested_at', 'call_back', ['requested_at'], unique=False)
    op.create_index('ix_call_back_due_at', 'call_back', ['due_at'], unique=False)
    op.create_table(
        'unsubscribe',
        sa.Column('address_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('address_fingerprint'),
    )
    op.create_table(
        'rate_window',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('window_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )
    op.create_index('ix_rate_window_window_start', 'rate_window', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rate_window_window_start', table_name='rate_window')
    op.drop_table('rate_window')
    op.drop_table('unsubscribe')
    op.drop_index('ix_call_back_due_at', table_name='call_back')
    op.drop_index('ix_call_back_requested_at', table_name='call_back')
    op.drop_table('call_back')
    op.drop_index('ix_survey_answer_answered_at', table_name='survey_answer')
    op.drop_index('ix_survey_answer_first_answered_at', table_name='survey_answer')
    op.drop_table('survey_answer')
    op.drop_index('ix_complaint_source_id', table_name='complaint')
    op.drop_column('complaint', 'source')
