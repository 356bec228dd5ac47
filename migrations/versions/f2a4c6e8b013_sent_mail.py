"""The e-mails jobs sent (app/jobs/), by key: a job run twice sends once.

Revision ID: f2a4c6e8b013
Revises: e7f1a3b5c920
Create Date: 2026-12-05 11:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2a4c6e8b013"
down_revision = "e7f1a3b5c920"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sent_mail",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_mail")),
    )


def downgrade():
    op.drop_table("sent_mail")
