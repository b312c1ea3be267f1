"""customers: a key that recognises one customer across complaints; privacy: redaction
time and the audit trail of exports, erasures and retention runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from models.customers import customer_key


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('complaint') as batch:
        batch.add_column(sa.Column('customer_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('customer_redacted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_index('ix_complaint_customer_key', 'complaint', ['customer_key', 'created_at'], unique=False)
    op.create_table(
        'privacy_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('customer_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('complaint_ids', sa.Text(), server_default='', nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_privacy_record_at'), 'privacy_record', ['at'], unique=False)
    _backfill_customer_keys()


def _backfill_customer_keys() -> None:
    # The key is made in Python (models/customers.py), as the app makes it, in batches.
    connection = op.get_bind()
    complaint = sa.table('complaint', sa.column('id', sa.Integer), sa.column('customer_name', sa.String),
                         sa.column('customer_contact', sa.String), sa.column('customer_key', sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(complaint.c.id, complaint.c.customer_name, complaint.c.customer_contact)
            .where(complaint.c.id > last, (complaint.c.customer_name != '') | (complaint.c.customer_contact != ''))
            .order_by(complaint.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            complaint.update().where(complaint.c.id == sa.bindparam('row_id')).values(customer_key=sa.bindparam('key')),
            [{'row_id': row.id, 'key': customer_key(contact=row.customer_contact, name=row.customer_name)} for row in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f('ix_privacy_record_at'), table_name='privacy_record')
    op.drop_table('privacy_record')
    op.drop_index('ix_complaint_customer_key', table_name='complaint')
    with op.batch_alter_table('complaint') as batch:
        batch.drop_column('customer_redacted_at')
        batch.drop_column('customer_key')
