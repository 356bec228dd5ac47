"""guest orders: an order's e-mail address and billing address; user_id may be empty

Every existing order takes its customer's e-mail address (lower-cased, as guest orders store
theirs) and its shipping address as its billing address. Downgrade refuses while guest orders
exist (they have no user to belong to): it says how many, and changes nothing.

Revision ID: 5d2c8e7f1a43
Revises: 2af506a1240d
Create Date: 2026-12-04 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c8e7f1a43'
down_revision = '2af506a1240d'
branch_labels = None
depends_on = None

ADDRESS = (
    ('name', 120), ('line1', 200), ('line2', 200), ('city', 100), ('postcode', 20), ('country', 2),
)


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=255), nullable=True))
        for field, length in ADDRESS:
            batch_op.add_column(sa.Column(f'bill_{field}', sa.String(length=length), nullable=True))
    orders = sa.table(
        'orders',
        sa.column('user_id', sa.Integer()),
        sa.column('email', sa.String()),
        *(sa.column(f'{kind}_{field}', sa.String()) for kind in ('ship', 'bill') for field, _ in ADDRESS),
    )
    users = sa.table('user', sa.column('id', sa.Integer()), sa.column('email', sa.String()))
    customer_email = (
        sa.select(sa.func.lower(users.c.email)).where(users.c.id == orders.c.user_id).scalar_subquery()
    )
    op.execute(
        orders.update().values(
            email=customer_email,
            **{f'bill_{field}': orders.c[f'ship_{field}'] for field, _ in ADDRESS},
        )
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('email', existing_type=sa.String(length=255), nullable=False)
        for field, length in ADDRESS:
            batch_op.alter_column(f'bill_{field}', existing_type=sa.String(length=length), nullable=False)
        batch_op.create_index(batch_op.f('ix_orders_email'), ['email'], unique=False)


def downgrade():
    guests = op.get_bind().scalar(sa.text('SELECT COUNT(*) FROM orders WHERE user_id IS NULL'))
    if guests:
        raise RuntimeError(
            f'{guests} guest orders have no user: this revision cannot hold them. Export and '
            'delete them first (or stay on this revision).'
        )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_email'))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        for field, _ in ADDRESS:
            batch_op.drop_column(f'bill_{field}')
        batch_op.drop_column('email')
