"""The catalogue API: product list (pages, search, category, sort), product, category tree,
ETags, and the same public answers for every caller."""

from datetime import timedelta

import pytest
from flask import url_for

from app.catalog.models import Category, Product
from app.extensions import db
from app.timestamps import utcnow
from tests.api import make_callers
from tests.helpers import ROLES, assert_error, one_variant

ALL_ACTIVE_BY_NAME = ["assam", "darjeeling", "espresso-beans", "matcha", "sencha"]


@pytest.fixture
def shop(app, category_factory, product_factory):
    """Books (empty), Coffee, Tea > Black, Green; five active products and an inactive one."""
    category_factory("Books")
    coffee = category_factory("Coffee")
    tea = category_factory("Tea")
    black = category_factory("Black", parent_id=tea)
    green = category_factory("Green", parent_id=tea)
    now = utcnow()

    def product(name, price_cents, category_id, days_old, **fields):
        return product_factory(
            name,
            price_cents=price_cents,
            category_id=category_id,
            created_at=now - timedelta(days=days_old),
            **fields,
        )

    return {
        "assam": product("Assam", 650, black, 5),
        "sencha": product("Sencha", 450, green, 1),
        "matcha": product("Matcha", 1200, green, 3, image="tea.svg"),
        "espresso-beans": product(
            "Espresso Beans", 900, coffee, 2, stock=0, description="Dark roast, 100% arabica."
        ),
        "darjeeling": product("Darjeeling", 450, black, 4),
        "old-oolong": product("Old Oolong", 300, tea, 6, is_active=False),
    }


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.get_json()["items"]]


def meta(response) -> dict:
    body = response.get_json()
    return {key: body[key] for key in ("page", "per_page", "total", "pages")}


def change_product(app, product_id, **fields):
    with app.app_context():
        product = db.session.get(Product, product_id)
        for name, value in fields.items():
            # SKU and stock are the variant's (these products have one).
            setattr(product.variants[0] if name in ("sku", "stock") else product, name, value)
        db.session.commit()


# The product list


def test_products_lists_active_products_by_name_on_one_default_page(client, shop):
    response = client.get("/api/v1/products")

    assert response.status_code == 200
    assert slugs(response) == ALL_ACTIVE_BY_NAME
    assert meta(response) == {"page": 1, "per_page": 20, "total": 5, "pages": 1}


def test_product_items_have_the_full_public_shape(app, client, shop):
    items = client.get("/api/v1/products?category=green").get_json()["items"]
    with app.test_request_context():  # on SITE_URL, versioned by content
        image_url = url_for("static", filename="products/tea.svg", _external=True)
    assert image_url.startswith("http://localhost/static/products/tea.svg?v=")

    assert items == [
        {
            "id": shop["matcha"],
            "sku": "SKU-MATCHA",
            "slug": "matcha",
            "name": "Matcha",
            "description": "About Matcha.",
            "price_cents": 1200,
            "currency": "EUR",
            "in_stock": True,
            "stock": 10,
            "is_active": True,
            "category": {"slug": "green", "name": "Green"},
            "image_url": image_url,
        }
        | one_variant(items[0]),
        {
            "id": shop["sencha"],
            "sku": "SKU-SENCHA",
            "slug": "sencha",
            "name": "Sencha",
            "description": "About Sencha.",
            "price_cents": 450,
            "currency": "EUR",
            "in_stock": True,
            "stock": 10,
            "is_active": True,
            "category": {"slug": "green", "name": "Green"},
            "image_url": None,
        }
        | one_variant(items[1]),
    ]


@pytest.mark.parametrize(
    ("page", "expected_slugs"),
    [
        (1, ["assam", "darjeeling"]),
        (2, ["espresso-beans", "matcha"]),
        (3, ["sencha"]),
        (4, []),
        (100_000, []),
    ],
)
def test_products_pages(client, shop, page, expected_slugs):
    response = client.get(f"/api/v1/products?per_page=2&page={page}")

    assert response.status_code == 200
    assert slugs(response) == expected_slugs
    assert meta(response) == {"page": page, "per_page": 2, "total": 5, "pages": 3}


def test_products_per_page_may_be_100(client, shop):
    response = client.get("/api/v1/products?per_page=100")

    assert meta(response) == {"page": 1, "per_page": 100, "total": 5, "pages": 1}


@pytest.mark.parametrize(
    ("sort", "expected_slugs"),
    [
        ("name", ["assam", "darjeeling", "espresso-beans", "matcha", "sencha"]),
        # Sencha and Darjeeling cost the same: the lower id comes first, both ways.
        ("price", ["sencha", "darjeeling", "assam", "espresso-beans", "matcha"]),
        ("-price", ["matcha", "espresso-beans", "assam", "sencha", "darjeeling"]),
        ("newest", ["sencha", "espresso-beans", "matcha", "darjeeling", "assam"]),
    ],
)
def test_products_sorted(client, shop, sort, expected_slugs):
    response = client.get(f"/api/v1/products?sort={sort}")

    assert slugs(response) == expected_slugs


def test_sorted_pages_neither_overlap_nor_skip(client, shop):
    pages = [
        slugs(client.get(f"/api/v1/products?sort=price&per_page=2&page={page}"))
        for page in (1, 2, 3)
    ]

    assert pages == [["sencha", "darjeeling"], ["assam", "espresso-beans"], ["matcha"]]


@pytest.mark.parametrize(
    ("query", "expected_slugs"),
    [
        ("q=SEN", ["sencha"]),  # name, any case
        ("q=arabica", ["espresso-beans"]),  # description
        ("q=100%25", ["espresso-beans"]),
        ("q=%25", ["espresso-beans"]),  # % is a character, not a wildcard
        ("q=_", []),  # so is _
        ("q=oolong", []),  # inactive
        ("q=++", ALL_ACTIVE_BY_NAME),  # blank: no filter
        ("category=tea", ["assam", "darjeeling", "matcha", "sencha"]),  # with sub-categories
        ("category=green", ["matcha", "sencha"]),
        ("category=coffee", ["espresso-beans"]),
        ("category=books", []),
        ("category=tea&q=matcha", ["matcha"]),
        ("category=coffee&q=matcha", []),
    ],
)
def test_products_search_and_category(client, shop, query, expected_slugs):
    response = client.get(f"/api/v1/products?{query}")

    assert response.status_code == 200
    assert slugs(response) == expected_slugs
    assert response.get_json()["total"] == len(expected_slugs)


def test_products_in_an_unknown_category_is_404(client, shop):
    error = assert_error(client.get("/api/v1/products?category=nope"), 404, "not_found")

    assert error["message"] == "No category 'nope'."


def test_products_ignores_unknown_query_arguments(client, shop):
    response = client.get("/api/v1/products?utm_source=mail&per_page=2&_=1700000000")

    assert response.status_code == 200
    assert slugs(response) == ["assam", "darjeeling"]


RANGE_100 = "Must be greater than or equal to 1 and less than or equal to 100."


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("per_page=101", {"per_page": [RANGE_100]}),
        ("per_page=0", {"per_page": [RANGE_100]}),
        ("per_page=ten", {"per_page": ["Not a valid integer."]}),
        (
            "page=0",
            {"page": ["Must be greater than or equal to 1 and less than or equal to 100000."]},
        ),
        ("page=1.5", {"page": ["Not a valid integer."]}),
        ("sort=cheapest", {"sort": ["Must be one of: relevance, name, price, -price, newest."]}),
        ("q=" + "x" * 101, {"q": ["Longer than maximum length 100."]}),
        (
            "sort=up&page=-1",
            {
                "sort": ["Must be one of: relevance, name, price, -price, newest."],
                "page": ["Must be greater than or equal to 1 and less than or equal to 100000."],
            },
        ),
    ],
)
def test_invalid_product_list_arguments_are_422_with_fields(client, shop, query, fields):
    response = client.get(f"/api/v1/products?{query}")

    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == fields


# One product


def test_product_by_slug(client, shop):
    response = client.get("/api/v1/products/espresso-beans")

    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "id": shop["espresso-beans"],
        "sku": "SKU-ESPRESSO-BEANS",
        "slug": "espresso-beans",
        "name": "Espresso Beans",
        "description": "Dark roast, 100% arabica.",
        "price_cents": 900,
        "currency": "EUR",
        "in_stock": False,
        "stock": 0,
        "is_active": True,
        "category": {"slug": "coffee", "name": "Coffee"},
        "image_url": None,
    } | one_variant(body)


def test_product_without_a_category(client, product_factory):
    product_factory("Gift Card", price_cents=2500)

    body = client.get("/api/v1/products/gift-card").get_json()

    assert body["category"] is None
    assert body["price_cents"] == 2500


@pytest.mark.parametrize("slug", ["old-oolong", "no-such-product"])
def test_inactive_or_unknown_product_is_404(client, shop, slug):
    error = assert_error(client.get(f"/api/v1/products/{slug}"), 404, "not_found")

    assert error["message"] == "No such product."


# Categories


def test_categories_tree(app, client, shop):
    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    tree = response.get_json()
    with app.app_context():
        ids = {slug: id_ for slug, id_ in db.session.execute(db.select(Category.slug, Category.id))}
    assert {node["slug"]: node["id"] for node in _walk(tree)} == ids  # what facets count by
    assert _without_ids(tree) == [
        {"slug": "books", "name": "Books", "children": []},
        {"slug": "coffee", "name": "Coffee", "children": []},
        {
            "slug": "tea",
            "name": "Tea",
            "children": [
                {"slug": "black", "name": "Black", "children": []},
                {"slug": "green", "name": "Green", "children": []},
            ],
        },
    ]


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node["children"])


def _without_ids(nodes):
    return [
        {"slug": node["slug"], "name": node["name"], "children": _without_ids(node["children"])}
        for node in nodes
    ]


def test_categories_of_an_empty_shop(client):
    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert response.get_json() == []


# ETags: 304 while nothing changed, a new ETag once something did


@pytest.mark.parametrize(
    "path", ["/api/v1/products?per_page=2", "/api/v1/products/sencha", "/api/v1/categories"]
)
def test_matching_if_none_match_is_304_without_a_body(client, shop, path):
    first = client.get(path)
    etag = first.headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.data == b""


@pytest.mark.parametrize(
    "path", ["/api/v1/products?per_page=2", "/api/v1/products/sencha", "/api/v1/categories"]
)
def test_other_if_none_match_gets_the_full_answer(client, shop, path):
    response = client.get(path, headers={"If-None-Match": '"not-the-etag"'})

    assert response.status_code == 200
    assert response.headers["ETag"]


def test_changed_product_gets_a_new_etag(app, client, shop):
    etag = client.get("/api/v1/products/sencha").headers["ETag"]
    change_product(app, shop["sencha"], price_cents=475)

    response = client.get("/api/v1/products/sencha", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert response.get_json()["price_cents"] == 475


def test_changed_product_on_the_page_gets_the_list_a_new_etag(app, client, shop):
    etag = client.get("/api/v1/products?per_page=2").headers["ETag"]
    change_product(app, shop["assam"], stock=0)

    response = client.get("/api/v1/products?per_page=2", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert response.get_json()["items"][0]["in_stock"] is False


def test_new_category_gets_the_tree_a_new_etag(client, shop, category_factory):
    etag = client.get("/api/v1/categories").headers["ETag"]
    category_factory("Oolong", parent_id=None)

    response = client.get("/api/v1/categories", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_each_page_has_its_own_etag(client, shop):
    first = client.get("/api/v1/products?per_page=2&page=1").headers["ETag"]
    second = client.get("/api/v1/products?per_page=2&page=2").headers["ETag"]

    assert first != second


# Every caller gets the same public catalogue


@pytest.mark.parametrize(
    ("role", "auth"),
    [("anonymous", "cookie")]
    + [(role, auth) for role in ROLES[1:] for auth in ("token", "session")],
)
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/products?sort=-price", 200),
        ("/api/v1/products/matcha", 200),
        ("/api/v1/categories", 200),
        ("/api/v1/products/old-oolong", 404),  # not even for an admin: this is the shop front
    ],
)
def test_catalogue_is_the_same_for_every_caller(
    app, client, shop, user_factory, role, auth, path, status
):
    caller = make_callers(app, user_factory)(role, auth)
    public = client.get(path)

    response = caller.get(path)

    assert response.status_code == status
    assert response.get_json() == public.get_json()
    assert response.headers.get("ETag") == public.headers.get("ETag")


def test_category_tree_goes_as_deep_as_the_categories(app, client, shop):
    with app.app_context():
        green = db.session.scalar(db.select(Category).where(Category.slug == "green"))
        db.session.add(Category(name="Gyokuro", slug="gyokuro", parent_id=green.id))
        db.session.commit()

    tea = _without_ids(client.get("/api/v1/categories").get_json())[2]

    assert tea["children"][1] == {
        "slug": "green",
        "name": "Green",
        "children": [{"slug": "gyokuro", "name": "Gyokuro", "children": []}],
    }


def test_the_page_limit_is_one_setting_for_pages_and_api(app, client):
    app.config["LISTING_MAX_PAGE"] = 10

    assert client.get("/products?page=10").status_code == 200
    assert client.get("/products?page=11").status_code == 404
    assert client.get("/api/v1/products?page=10").status_code == 200
    error = assert_error(client.get("/api/v1/products?page=11"), 422, "validation_failed")
    assert error["fields"] == {
        "page": ["Must be greater than or equal to 1 and less than or equal to 10."]
    }
