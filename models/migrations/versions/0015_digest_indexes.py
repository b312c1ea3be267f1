"""complaints: two indexes for the digest over a long history (issue 15)

- the merged duplicates' IDs (a partial index, a few rows): "not merged" is checked
  against it, so the digest's queries over an index of times (of complaints or of
  events) need not read each complaint's row for `merged_into_id`;
- first responses with their complaints' creation times and IDs: the times to a first response
  (the week's median and 90th percentile, the 8-week trend) come from this index alone
  (with the ID, which PostgreSQL's indexes do not hold otherwise). It replaces the index of first_responded_at alone, which PostgreSQL preferred (being
  smaller) and then read every complaint's row for its creation time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_complaint_merged_id', 'complaint', ['id'], unique=False,
                    sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                    postgresql_where=sa.text('merged_into_id IS NOT NULL'))
    op.create_index('ix_complaint_first_response_times', 'complaint', ['first_responded_at', 'created_at', 'id'],
                    unique=False)
    op.drop_index('ix_complaint_first_responded_at', table_name='complaint')


def downgrade() -> None:
    op.create_index('ix_complaint_first_responded_at', 'complaint', ['first_responded_at'], unique=False)
    op.drop_index('ix_complaint_first_response_times', table_name='complaint')
    op.drop_index('ix_complaint_merged_id', table_name='complaint')
