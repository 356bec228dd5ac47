"""Product and category texts per language (ProductTranslation, CategoryTranslation): written in
the back office or the admin API, read by the shop, the API and the search in the visitor's
language, each text falling back to the default language's."""

import json
import re

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from app.accounts.services import ensure_roles
from app.catalog import services as catalog_services
from app.catalog.models import Category, Product, ProductTranslation
from app.errors import Conflict
from app.extensions import db
from app.orders.models import OrderLine
from tests.factories import CategoryFactory, ProductFactory, create
from tests.helpers import (
    admin_alerts,
    admin_form_token,
    assert_error,
    run_together,
    token_headers,
)
from tests.test_guest_checkout import add, guest_checkout
from tests.test_i18n import GERMAN, text_of

TEAPOT_DE = {"name": "Teekanne aus Gusseisen", "description": "Hält den Tee lange warm."}


@pytest.fixture
def teapot(app):
    """A Teapot in Teaware, both translated into German."""
    teaware = create(app, CategoryFactory, name="Teaware")
    teapot = create(
        app,
        ProductFactory,
        name="Cast Iron Teapot",
        description="Keeps tea warm.",
        category_id=teaware,
        price_cents=3900,
    )
    with app.app_context():
        catalog_services.set_translations(db.session.get(Product, teapot), {"de_DE": TEAPOT_DE})
        category = db.session.get(Category, teaware)
        catalog_services.set_translations(category, {"de_DE": {"name": "Teegeschirr"}})
        db.session.commit()
    return teapot


def json_ld(page: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found, "no JSON-LD"
    return json.loads(found.group(1))


def test_a_product_and_its_category_read_in_the_visitors_language(client, teapot):
    german = text_of(client, "/products/cast-iron-teapot", headers=GERMAN)
    english = text_of(client, "/products/cast-iron-teapot")

    assert '<h1 class="h2" id="product-name">Teekanne aus Gusseisen</h1>' in german
    assert "Hält den Tee lange warm." in german
    assert ">Teegeschirr</a>" in german  # the breadcrumb
    assert json_ld(german)["name"] == "Teekanne aus Gusseisen"
    assert '<meta property="og:title" content="Teekanne aus Gusseisen">' in german
    assert '<h1 class="h2" id="product-name">Cast Iron Teapot</h1>' in english
    assert "Teekanne" not in english
    assert "Teegeschirr" not in english
    listing = text_of(client, "/products?category=teaware", headers=GERMAN)
    assert "Teekanne aus Gusseisen</a></h2>" in listing
    assert ">Teegeschirr</a>" in listing  # the categories column
    assert "Cast Iron Teapot" not in listing


def test_an_untranslated_text_falls_back_to_the_default_language(app, client, teapot):
    with app.app_context():
        product = db.session.get(Product, teapot)
        catalog_services.set_translations(product, {"de_DE": {"description": ""}})
        db.session.commit()
    untranslated = create(app, ProductFactory, name="Milk Jug", description="For milk.")

    page = text_of(client, "/products/cast-iron-teapot", headers=GERMAN)
    assert "Teekanne aus Gusseisen" in page  # the name is still translated
    assert "Keeps tea warm." in page
    assert "For milk." in text_of(client, "/products/milk-jug", headers=GERMAN)
    with app.app_context():  # a language left with no text loses its row
        catalog_services.set_translations(
            db.session.get(Product, untranslated), {"de_DE": {"name": " "}}
        )
        db.session.commit()
        assert db.session.scalars(select(ProductTranslation.product_id)).all() == [teapot]


def test_the_search_finds_a_visitors_words_and_the_default_languages(client, teapot):
    create(client.application, ProductFactory, name="Teekanne Poster", description="A poster.")

    found_german = text_of(client, "/products?q=teekanne", headers=GERMAN)
    found_english = text_of(client, "/products?q=teapot", headers=GERMAN)
    not_in_english = text_of(client, "/products?q=gusseisen")

    # The translation matches first, then the default language's texts.
    names = re.findall(r'stretched-link text-decoration-none">([^<]+)</a>', found_german)
    assert names == ["Teekanne aus Gusseisen", "Teekanne Poster"]
    assert "Teekanne aus Gusseisen" in found_english
    assert 'id="result-count">0 products for' in not_in_english
    api = client.get("/api/v1/products?q=gusseisen", headers=GERMAN).get_json()
    assert [item["name"] for item in api["items"]] == ["Teekanne aus Gusseisen"]
    short = client.get("/api/v1/products?q=te", headers=GERMAN).get_json()  # the LIKE fallback
    assert "Teekanne aus Gusseisen" in [item["name"] for item in short["items"]]


def test_the_api_answers_in_the_language_asked(client, teapot):
    german = client.get("/api/v1/products/cast-iron-teapot", headers=GERMAN)
    english = client.get("/api/v1/products/cast-iron-teapot")

    assert german.get_json()["name"] == "Teekanne aus Gusseisen"
    assert german.get_json()["description"] == "Hält den Tee lange warm."
    assert german.get_json()["category"] == {"slug": "teaware", "name": "Teegeschirr"}
    assert english.get_json()["name"] == "Cast Iron Teapot"
    assert "Accept-Language" in german.headers["Vary"]
    tree = client.get("/api/v1/categories", headers=GERMAN).get_json()
    assert [node["name"] for node in tree] == ["Teegeschirr"]
    listed = client.get("/api/v1/products", headers=GERMAN).get_json()["items"]
    assert [item["name"] for item in listed] == ["Teekanne aus Gusseisen"]


def test_an_order_keeps_the_name_the_buyer_read(app, client, teapot):
    client.set_cookie("locale", "de_DE", domain="localhost")
    add(client, teapot, quantity=1)
    assert "Teekanne aus Gusseisen" in text_of(client, "/cart")

    assert guest_checkout(client).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(OrderLine.name)).all() == ["Teekanne aus Gusseisen"]


def test_the_back_office_writes_a_products_german_texts(app, as_admin, teapot):
    edit = f"/admin/products/edit/?id={teapot}"
    html = as_admin.get(edit).get_data(as_text=True)
    assert "Name (Deutsch)" in html
    assert "Description (Deutsch)" in html
    assert 'value="Teekanne aus Gusseisen"' in html  # the form shows the translation

    fields = {
        "csrf_token": admin_form_token(html),
        "sku": "SKU-CAST-IRON-TEAPOT",
        "name": "Cast Iron Teapot",
        "slug": "cast-iron-teapot",
        "description": "Keeps tea warm.",
        "price_cents": "3900",
        "currency": "EUR",
        "stock": "10",
        "is_active": "y",
        "name__de_DE": "  Gusseiserne Teekanne ",
        "description__de_DE": "",
    }
    assert as_admin.post(edit, data=fields).status_code == 302

    with app.app_context():
        product = db.session.get(Product, teapot)
        assert product.name == "Cast Iron Teapot"
        assert product.texts_in("de_DE").name == "Gusseiserne Teekanne"
        assert product.texts_in("de_DE").description == "Keeps tea warm."  # the fallback
    too_long = as_admin.post(edit, data={**fields, "name__de_DE": "x" * 161})
    assert too_long.status_code == 200
    assert "Field cannot be longer than 160 characters." in too_long.get_data(as_text=True)


def test_the_back_office_writes_a_categorys_german_name(app, as_admin):
    html = as_admin.get("/admin/categories/new/").get_data(as_text=True)
    assert "Name (Deutsch)" in html

    response = as_admin.post(
        "/admin/categories/new/",
        data={
            "csrf_token": admin_form_token(html),
            "name": "Mugs",
            "slug": "",
            "parent_id": "",
            "name__de_DE": "Becher",
        },
    )

    assert response.status_code == 302
    listing = as_admin.get("/admin/categories/").get_data(as_text=True)
    assert "Record was successfully created." in admin_alerts(listing)
    with app.app_context():
        mugs = db.session.scalar(select(Category).where(Category.slug == "mugs"))
        assert mugs.texts_in("de_DE").name == "Becher"


@pytest.fixture
def admin_headers(app, client, user_factory):
    with app.app_context():
        ensure_roles()
    user_factory(email="admin@example.com", roles=["admin"])
    return token_headers(client, "admin@example.com")


def test_the_admin_api_writes_translations_and_refuses_an_unknown_language(
    app, client, teapot, admin_headers
):
    changed = client.patch(
        "/api/v1/products/cast-iron-teapot",
        json={"translations": {"de_DE": {"name": "Gusseiserne Teekanne"}}},
        headers=admin_headers,
    )
    unknown = client.patch(
        "/api/v1/products/cast-iron-teapot",
        json={"translations": {"fr_FR": {"name": "Théière"}, "en": {"name": "Pot"}}},
        headers=admin_headers,
    )

    assert changed.status_code == 200
    assert_error(unknown, 422, "validation_failed")
    assert set(unknown.get_json()["error"]["fields"]) == {
        "translations.fr_FR",
        "translations.en",
    }
    with app.app_context():
        texts = db.session.get(Product, teapot).texts_in("de_DE")
        assert (texts.name, texts.description) == ("Gusseiserne Teekanne", TEAPOT_DE["description"])


def test_a_new_translation_shows_at_once_where_the_page_was_kept(app, client, teapot):
    """The German page is kept (the page cache and the kept fragments key on the locale); a
    translation written afterwards starts them afresh, as any catalogue write does."""
    assert "Teekanne aus Gusseisen" in text_of(client, "/products/cast-iron-teapot", headers=GERMAN)
    with app.app_context():
        catalog_services.set_translations(
            db.session.get(Product, teapot), {"de_DE": {"name": "Gusseiserne Teekanne"}}
        )
        db.session.commit()

    page = text_of(client, "/products/cast-iron-teapot", headers=GERMAN)
    assert "Gusseiserne Teekanne" in page
    assert "Cast Iron Teapot" in text_of(client, "/products/cast-iron-teapot")


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_translating_a_product_at_once_keeps_one_translation(pooled_app):
    """Eight admins add the same product's German texts at once: each is saved or told to
    try again (409), never a 500, and the product keeps one German translation."""
    product_id = create(pooled_app, ProductFactory, name="Cast Iron Teapot")

    def translate(i):
        with pooled_app.app_context():
            product = db.session.get(Product, product_id)
            catalog_services.save_product(product, {"translations": {"de_DE": {"name": f"T{i}"}}})
            return f"T{i}"

    results = run_together(8, translate)

    saved = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert saved, results
    assert len(saved) + len(refused) == 8, results
    assert all("translation" in error.message for error in refused)
    with pooled_app.app_context():
        rows = db.session.scalars(select(ProductTranslation)).all()
        assert [(row.product_id, row.locale) for row in rows] == [(product_id, "de_DE")]
        assert rows[0].name in saved


@pytest.mark.mariadb
def test_a_translation_another_admin_added_meanwhile_is_a_409_saying_so(app):
    """Between reading the product and saving, another admin commits the same language's
    translation: the save is refused (409) with the reason, not as a duplicate SKU."""
    product_id = create(app, ProductFactory, name="Milk Jug")

    done = []

    def another_admin_first(session, _context, _instances):
        if done:
            return
        done.append(True)
        with db.engine.begin() as other:
            other.execute(
                insert(ProductTranslation).values(
                    product_id=product_id, locale="de_DE", name="Milchkanne", description=""
                )
            )

    with app.app_context():
        product = db.session.get(Product, product_id)
        event.listen(Session, "before_flush", another_admin_first)
        try:
            with pytest.raises(Conflict, match="translation was added at the same moment"):
                catalog_services.save_product(
                    product, {"translations": {"de_DE": {"name": "Kanne"}}}
                )
        finally:
            event.remove(Session, "before_flush", another_admin_first)
        assert db.session.scalars(select(ProductTranslation.name)).all() == ["Milchkanne"]
