"""kudos_giver_day: a row per giver and day, locked while the daily limit is checked

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'kudos_giver_day',
        sa.Column('giver_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('giver_id', 'day'),
    )


def downgrade() -> None:
    op.drop_table('kudos_giver_day')
