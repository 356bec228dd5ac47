"""one default zone, one standard rate per country: decided by unique indexes on generated
columns (1 for the default zone, else NULL; a rate's class or 0 for the standard one).

Existing data is made to fit first: of several default zones the oldest stays the default, and
of a country's several rates for one class (or several standard rates) the oldest stays; each
change is logged.

Revision ID: 4f85073042ef
Revises: c7c83475cd96
Create Date: 2026-12-04 14:12:55.572683

"""

import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")


# revision identifiers, used by Alembic.
revision = "4f85073042ef"
down_revision = "c7c83475cd96"
branch_labels = None
depends_on = None


def _make_data_fit():
    bind = op.get_bind()
    defaults = bind.execute(
        sa.text("SELECT id, name FROM shipping_zone WHERE is_default ORDER BY id")
    ).all()
    for zone_id, name in defaults[1:]:
        log.warning(
            "Zone %r (id %s) is no longer a default zone: %r is.", name, zone_id, defaults[0][1]
        )
        bind.execute(
            sa.text("UPDATE shipping_zone SET is_default = :no WHERE id = :id"),
            {"no": False, "id": zone_id},
        )
    rates = bind.execute(
        sa.text("SELECT id, country, tax_class_id, rate FROM tax_rate ORDER BY id")
    ).all()
    seen = set()
    for rate_id, country, class_id, rate in rates:
        if (country, class_id) in seen:
            log.warning(
                "Deleted tax rate id %s (%s, class %s, %s %%): %s has an older one.",
                rate_id,
                country,
                class_id or "standard",
                rate,
                country,
            )
            bind.execute(sa.text("DELETE FROM tax_rate WHERE id = :id"), {"id": rate_id})
        seen.add((country, class_id))


def upgrade():
    _make_data_fit()
    with op.batch_alter_table("shipping_zone", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "default_key",
                sa.Integer(),
                sa.Computed("CASE WHEN is_default THEN 1 END", persisted=True),
                nullable=True,
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_shipping_zone_default_key"), ["default_key"]
        )

    with op.batch_alter_table("tax_rate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "class_key",
                sa.Integer(),
                sa.Computed("COALESCE(tax_class_id, 0)", persisted=True),
                nullable=True,
            )
        )
        batch_op.drop_constraint(batch_op.f("uq_tax_rate_country_class"), type_="unique")
        batch_op.create_unique_constraint("uq_tax_rate_country_class", ["country", "class_key"])


def downgrade():
    with op.batch_alter_table("tax_rate", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tax_rate_country_class", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_tax_rate_country_class"), ["country", "tax_class_id"]
        )
        batch_op.drop_column("class_key")

    with op.batch_alter_table("shipping_zone", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_shipping_zone_default_key"), type_="unique")
        batch_op.drop_column("default_key")
