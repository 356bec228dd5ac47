"""Order locale: the language the customer ordered in, for its e-mails (NULL for the orders
placed before: the default language)

Revision ID: b0c3a20538a4
Revises: 51cb76a473ce
Create Date: 2026-12-05 04:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b0c3a20538a4"
down_revision = "51cb76a473ce"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orders", sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("locale")
