"""variants: option types and values, variants holding SKU and stock; cart and order lines
refer to the variant

Every product becomes a product with one variant (the same id) holding its SKU and stock;
every cart line and order line points at it. Downgrade gives each product its first
variant's SKU and its variants' stock back, and merges cart lines of one product.

Revision ID: 7b1e4f2a9c30
Revises: 1cd633219197
Create Date: 2026-12-04 03:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b1e4f2a9c30'
down_revision = '1cd633219197'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('option_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_option_type_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_option_type')),
    sa.UniqueConstraint('product_id', 'name', name='uq_option_type_product_name')
    )
    op.create_table('option_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('option_type_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['option_type_id'], ['option_type.id'], name=op.f('fk_option_value_option_type_id_option_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_option_value')),
    sa.UniqueConstraint('option_type_id', 'value', name='uq_option_value_type_value')
    )
    op.create_table('variant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('price_cents', sa.BigInteger(), nullable=True),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_variant_price_not_negative')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_variant_stock_not_negative')),
    sa.CheckConstraint('weight_grams >= 0', name=op.f('ck_variant_weight_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_variant_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant')),
    sa.UniqueConstraint('sku', name=op.f('uq_variant_sku'))
    )
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_product_id'), ['product_id'], unique=False)

    op.create_table('variant_option_value',
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('option_value_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['option_value_id'], ['option_value.id'], name=op.f('fk_variant_option_value_option_value_id_option_value'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_variant_option_value_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('variant_id', 'option_value_id', name=op.f('pk_variant_option_value'))
    )
    with op.batch_alter_table('variant_option_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_option_value_option_value_id'), ['option_value_id'], unique=False)

    # Every product: one variant with the same id, holding its SKU and stock.
    op.execute(
        "INSERT INTO variant (id, product_id, sku, stock, is_active, position) "
        "SELECT id, id, sku, stock, 1, 0 FROM product"
    )

    # Cart lines: from the product to its variant (the same id).
    with op.batch_alter_table('cart_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
    op.execute("UPDATE cart_item SET variant_id = product_id")
    with op.batch_alter_table('cart_item', schema=None) as batch_op:
        batch_op.alter_column('variant_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_cart_item_cart_product', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_cart_item_product_id_product'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cart_item_product_id'))
        batch_op.drop_column('product_id')
        batch_op.create_index(batch_op.f('ix_cart_item_variant_id'), ['variant_id'], unique=False)
        batch_op.create_unique_constraint('uq_cart_item_cart_variant', ['cart_id', 'variant_id'])
        batch_op.create_foreign_key(batch_op.f('fk_cart_item_variant_id_variant'), 'variant', ['variant_id'], ['id'], ondelete='CASCADE')

    # Order lines: the variant beside the product, and the options' snapshot (none so far).
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('options', sa.String(length=255), nullable=False, server_default=''))
    op.execute("UPDATE order_line SET variant_id = product_id")
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.alter_column('options', existing_type=sa.String(length=255), server_default=None)
        batch_op.create_index(batch_op.f('ix_order_line_variant_id'), ['variant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_line_variant_id_variant'), 'variant', ['variant_id'], ['id'], ondelete='SET NULL')

    # The product's SKU and stock now live on its variants.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_product_stock_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_product_sku'), type_='unique')
        batch_op.drop_column('stock')
        batch_op.drop_column('sku')


def downgrade():
    # The product's SKU (its first variant's) and stock (its active variants') come back.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sku', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('stock', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE product SET "
        "sku = (SELECT v.sku FROM variant v WHERE v.product_id = product.id "
        "ORDER BY v.position, v.id LIMIT 1), "
        "stock = (SELECT COALESCE(SUM(v.stock), 0) FROM variant v "
        "WHERE v.product_id = product.id AND v.is_active = 1)"
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('sku', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('stock', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_product_sku'), ['sku'])
        batch_op.create_check_constraint(batch_op.f('ck_product_stock_not_negative'), 'stock >= 0')

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_line_variant_id_variant'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_line_variant_id'))
        batch_op.drop_column('options')
        batch_op.drop_column('variant_id')

    # Cart lines: back to the product; lines of one product's variants merge into one.
    with op.batch_alter_table('cart_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE cart_item SET product_id = "
        "(SELECT v.product_id FROM variant v WHERE v.id = cart_item.variant_id)"
    )
    op.execute(  # the derived tables let MariaDB read the table it updates
        "UPDATE cart_item SET quantity = (SELECT t.total FROM (SELECT cart_id, product_id, "
        "SUM(quantity) AS total FROM cart_item GROUP BY cart_id, product_id) t "
        "WHERE t.cart_id = cart_item.cart_id AND t.product_id = cart_item.product_id)"
    )
    op.execute(
        "DELETE FROM cart_item WHERE id NOT IN (SELECT t.keep FROM (SELECT MIN(id) AS keep "
        "FROM cart_item GROUP BY cart_id, product_id) t)"
    )
    with op.batch_alter_table('cart_item', schema=None) as batch_op:
        batch_op.alter_column('product_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_cart_item_variant_id_variant'), type_='foreignkey')
        batch_op.drop_constraint('uq_cart_item_cart_variant', type_='unique')
        batch_op.drop_index(batch_op.f('ix_cart_item_variant_id'))
        batch_op.drop_column('variant_id')
        batch_op.create_index(batch_op.f('ix_cart_item_product_id'), ['product_id'], unique=False)
        batch_op.create_unique_constraint('uq_cart_item_cart_product', ['cart_id', 'product_id'])
        batch_op.create_foreign_key(batch_op.f('fk_cart_item_product_id_product'), 'product', ['product_id'], ['id'], ondelete='CASCADE')

    op.drop_table('variant_option_value')  # with their indexes
    op.drop_table('variant')
    op.drop_table('option_value')
    op.drop_table('option_type')
