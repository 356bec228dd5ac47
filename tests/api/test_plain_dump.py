"""The catalogue's response schemas dump with plain functions: what marshmallow's dump of
their documented fields gives, for every kind of product."""

from sqlalchemy import select

from app.api.schemas import ProductPageSchema, ProductSchema, VariantSchema
from app.catalog import services
from app.catalog.models import Category, Product
from app.extensions import db
from tests.factories import make_tshirt


def test_plain_dumps_are_marshmallows(app, product_factory):
    category = Category(slug="tea", name="Tea")
    with app.app_context():
        db.session.add(category)
        db.session.commit()
        category_id = category.id
    product_factory("Green Tea", image="tea.svg", category_id=category_id)
    product_factory("Black Tea", stock=0)  # no image, no category, out of stock
    variant_ids = make_tshirt(app)
    with app.app_context():
        shirt = db.session.scalar(select(Product).where(Product.slug == "tshirt"))
        db.session.get_one(type(shirt.variants[0]), variant_ids["S", "red"]).is_active = False
        db.session.commit()

    with app.test_request_context("/api/v1/products"):
        products = services.list_products().items
        assert len(products) == 3
        schema = ProductSchema()
        for product in products:
            assert schema.dump(product) == schema.field_dump(product)
            for variant in product.variants:
                assert VariantSchema().dump(variant) == VariantSchema().field_dump(variant)
        assert ProductSchema(many=True).dump(products) == schema.field_dump(products, many=True)
        shirt_dump = schema.dump(next(p for p in products if p.slug == "tshirt"))
        assert len(shirt_dump["variants"]) == 5
        assert shirt_dump["variants"][0]["options"] == [
            {"option": "Size", "value": "S"},
            {"option": "Colour", "value": "blue"},
        ]
        page = ProductPageSchema().dump(services.list_products())
        assert page["items"] == schema.field_dump(products, many=True)


def test_a_schema_with_only_some_fields_dumps_them(app, product_factory):
    product_factory("Green Tea")
    with app.test_request_context("/"):
        product = services.get_product("green-tea")
        assert ProductSchema(only=("slug", "stock")).dump(product) == {
            "slug": "green-tea",
            "stock": 10,
        }
