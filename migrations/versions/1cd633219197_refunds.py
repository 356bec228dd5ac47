"""Refunds: money sent back through a payment's provider (cancelled paid orders).

Revision ID: 1cd633219197
Revises: 3f1b6c2d9a10
Create Date: 2026-12-01 21:49:23.962681

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1cd633219197'
down_revision = '3f1b6c2d9a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_refund_payment_id_payment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_refund_amount_positive')),
    )
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_payment_id'), ['payment_id'], unique=False)



def downgrade():
    # Dropping the table drops its index too (MariaDB refuses to drop an index an FK needs).
    op.drop_table('refund')
