"""Failed jobs kept for an admin to retry (app/jobs/); sent-mail keys purged by age.

Revision ID: a3c5e7f9b124
Revises: f2a4c6e8b013
Create Date: 2026-12-05 12:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b124"
down_revision = "f2a4c6e8b013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "failed_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_job")),
    )
    op.create_index(op.f("ix_failed_job_failed_at"), "failed_job", ["failed_at"])
    op.create_index(op.f("ix_sent_mail_sent_at"), "sent_mail", ["sent_at"])


def downgrade():
    op.drop_index(op.f("ix_sent_mail_sent_at"), table_name="sent_mail")
    op.drop_index(op.f("ix_failed_job_failed_at"), table_name="failed_job")
    op.drop_table("failed_job")
