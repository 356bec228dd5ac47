"""User locale: the language a member chose (NULL for everyone until they choose)

Revision ID: 51cb76a473ce
Revises: 6210826c2953
Create Date: 2026-12-05 00:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "51cb76a473ce"
down_revision = "6210826c2953"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("locale")
