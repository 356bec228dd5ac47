"""address book: saved addresses with default shipping and billing

A new table; no existing row changes (orders keep their own copy of the address).

Revision ID: 2af506a1240d
Revises: 7b1e4f2a9c30
Create Date: 2026-12-04 06:30:05.045163

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2af506a1240d'
down_revision = '7b1e4f2a9c30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('is_default_shipping', sa.Boolean(), nullable=False),
    sa.Column('is_default_billing', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_address_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_address'))
    )
    with op.batch_alter_table('saved_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_address_user_id'), ['user_id'], unique=False)



def downgrade():
    # The table goes with its index (MariaDB refuses to drop an index its foreign key uses).
    op.drop_table('saved_address')
