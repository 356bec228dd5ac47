"""Languages (app/i18n.py): the locale from the visitor's choice or Accept-Language, German
text and money, the selector, and a page cache that never serves one language for another."""

import re
from pathlib import Path

import pytest

from app.accounts.models import User
from app.extensions import db
from app.i18n import LOCALE_COOKIE
from app.orders.models import Order
from tests.factories import ProductFactory, UserFactory, create
from tests.helpers import ADDRESS, assert_error, csrf_token, login
from tests.test_guest_checkout import add, guest_checkout

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture
def shop(app):
    return create(app, ProductFactory, name="Green Tea", price_cents=1250)


def text_of(client, path, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_accept_language_chooses_german_text_and_money(client, shop):
    page = text_of(client, "/products/green-tea", headers=GERMAN)

    assert '<html lang="de">' in page
    assert "In den Warenkorb" in page
    assert 'id="product-price">12,50\xa0€' in page
    listing = text_of(client, "/products", headers=GERMAN)
    assert 'id="result-count">1 Produkt<' in listing
    assert "Willkommen bei Storefront" in text_of(client, "/", headers=GERMAN)


def test_english_is_the_default(client, shop):
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}, {"Accept-Language": "en-GB"}):
        page = text_of(client, "/products/green-tea", headers=headers)
        assert '<html lang="en">' in page
        assert "Add to cart" in page
        assert 'id="product-price">€12.50' in page


def test_flask_securitys_pages_come_in_german_too(client):
    page = text_of(client, "/login", headers=GERMAN)

    assert "Passwort" in page
    assert "E-Mail-Adresse" in page


def test_the_chosen_language_wins_over_accept_language(client, shop):
    client.set_cookie(LOCALE_COOKIE, "de_DE", domain="localhost")
    assert "In den Warenkorb" in text_of(client, "/products/green-tea")

    client.set_cookie(LOCALE_COOKIE, "en", domain="localhost")
    assert "Add to cart" in text_of(client, "/products/green-tea", headers=GERMAN)

    client.set_cookie(LOCALE_COOKIE, "xx<script>", domain="localhost")  # not a language: ignored
    assert "In den Warenkorb" in text_of(client, "/products/green-tea", headers=GERMAN)


def test_the_selector_keeps_the_choice_and_goes_back(client, shop):
    token = csrf_token(client, "/products")
    response = client.post(
        "/language",
        data={"locale": "de_DE", "csrf_token": token},
        headers={"Referer": "http://localhost/products?q=tea"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/products?q=tea"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LOCALE_COOKIE}=de_DE;")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    assert "In den Warenkorb" in text_of(client, "/products/green-tea")


@pytest.mark.parametrize("referer", [None, "https://evil.example/phish", "http://localhost//evil"])
def test_the_selector_goes_home_rather_than_off_site(client, referer):
    token = csrf_token(client, "/products")
    headers = {"Referer": referer} if referer else {}
    response = client.post("/language", data={"locale": "en", "csrf_token": token}, headers=headers)

    assert response.headers["Location"] == "/"


def test_the_selector_refuses_an_unknown_language_and_a_missing_token(client):
    token = csrf_token(client, "/products")
    unknown = client.post("/language", data={"locale": "xx", "csrf_token": token})
    assert unknown.status_code == 400
    assert "Set-Cookie" not in unknown.headers or LOCALE_COOKIE not in unknown.headers["Set-Cookie"]

    forged = client.post("/language", data={"locale": "de_DE"})
    assert forged.status_code == 400
    assert LOCALE_COOKIE not in forged.headers.get("Set-Cookie", "")


def test_the_page_cache_keeps_each_language_apart(app, shop):
    english, german, chooser = app.test_client(), app.test_client(), app.test_client()
    chooser.set_cookie(LOCALE_COOKIE, "de_DE", domain="localhost")

    for _ in range(2):  # the second round is served from the cache
        assert "Add to cart" in text_of(english, "/products/green-tea")
        assert "In den Warenkorb" in text_of(german, "/products/green-tea", headers=GERMAN)
        assert "In den Warenkorb" in text_of(chooser, "/products/green-tea")
        assert "Add to cart" in text_of(english, "/products/green-tea")
    response = english.get("/products/green-tea")
    assert "Accept-Language" in response.headers["Vary"]


def test_every_message_has_its_german(app):
    """The catalogue is whole: make translations-update leaves new messages empty."""
    po = Path(app.root_path) / "translations" / "de_DE" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    empty = re.findall(r'msgid "(.+)"\nmsgstr ""\n\n', text)
    assert empty == []
    assert "#, fuzzy" not in text


def test_a_members_choice_is_kept_and_follows_them_to_another_browser(app, client, shop):
    user_id = create(app, UserFactory, email="lena@example.com")
    login(client, "lena@example.com")
    token = csrf_token(client, "/account")
    client.post("/language", data={"locale": "de_DE", "csrf_token": token})
    with app.app_context():
        assert db.session.get(User, user_id).locale == "de_DE"

    elsewhere = app.test_client()  # another browser, no choice of its own: English
    assert "Add to cart" in text_of(elsewhere, "/products/green-tea")
    response = login(elsewhere, "lena@example.com")
    assert f"{LOCALE_COOKIE}=de_DE;" in response.headers.get("Set-Cookie", "")
    assert "In den Warenkorb" in text_of(elsewhere, "/products/green-tea")


def test_a_visitors_choice_is_kept_in_the_browser_only(app, client, shop):
    user_id = create(app, UserFactory, email="max@example.com")
    token = csrf_token(client, "/products")
    client.post("/language", data={"locale": "de_DE", "csrf_token": token})  # not signed in
    response = login(client, "max@example.com")

    with app.app_context():
        assert db.session.get(User, user_id).locale is None
    assert LOCALE_COOKIE not in response.headers.get("Set-Cookie", "")
    assert "In den Warenkorb" in text_of(client, "/products/green-tea")  # the browser's choice


def test_checkout_speaks_german_with_countries_named_in_german(client, shop):
    add(client, shop)
    english = text_of(client, "/checkout")
    client.set_cookie(LOCALE_COOKIE, "de_DE")
    page = text_of(client, "/checkout")

    assert "<h1>Kasse</h1>" in page
    assert "Vollständiger Name" in page
    assert '<option value="DE">Deutschland</option>' in page
    assert "Zahlungspflichtig bestellen" in page
    assert "Testkarte" in page
    assert '<option value="DE">Germany</option>' in english
    assert "Place order" in english


def test_an_order_page_gives_its_date_status_and_message_in_german(app, client, shop):
    add(client, shop)
    client.set_cookie(LOCALE_COOKIE, "de_DE")
    placed = guest_checkout(client)
    page = text_of(client, placed.headers["Location"])

    assert "Vielen Dank! Ihre Bestellung" in page
    assert 'id="order-status">Bezahlt<' in page
    with app.app_context():
        day = db.session.query(Order).one().created_at.strftime("%d.%m.%Y")
    assert f"aufgegeben am {day}, " in page
    assert "Vereinigtes Königreich (GB)" in page


def test_an_orders_emails_are_in_the_language_it_was_placed_in(app, client, shop, outbox):
    """The confirmation (sent in the customer's request) and the shipping notice (sent from
    the back office, in English) are both in German: the order keeps its language."""
    from app.orders import state as state_machine

    add(client, shop)
    client.set_cookie(LOCALE_COOKIE, "de_DE")
    guest_checkout(client)
    with app.app_context():
        order = db.session.query(Order).one()
        number, locale = order.number, order.locale
        state_machine.transition(number, "shipped", actor_id=None)

    assert locale == "de_DE"
    confirmation, shipped = outbox
    assert confirmation.subject == f"Ihre Bestellung {number}"
    assert f"Vielen Dank für Ihre Bestellung {number}." in confirmation.body
    assert "Zwischensumme: 25,00\xa0€" in confirmation.body
    assert "Status: Bezahlt" in confirmation.body
    assert shipped.subject == f"Ihre Bestellung {number} ist versandt"
    assert shipped.body.startswith(f"Gute Nachricht: Ihre Bestellung {number} ist versandt.")


def test_an_order_from_before_languages_were_kept_mails_in_the_default(app, client, shop, outbox):
    from app.orders import state as state_machine

    add(client, shop)
    guest_checkout(client)
    with app.app_context():
        order = db.session.query(Order).one()
        order.locale = None
        db.session.commit()
        state_machine.transition(order.number, "shipped", actor_id=None)

    assert outbox[-1].body.startswith("Good news: your order")


def test_the_account_and_address_book_speak_german(app, client):
    create(app, UserFactory, email="lena@example.com")
    login(client, "lena@example.com")
    client.set_cookie(LOCALE_COOKIE, "de_DE")

    assert "<h1>Ihr Konto</h1>" in text_of(client, "/account")
    form = {**ADDRESS, "csrf_token": csrf_token(client, "/account/addresses/new")}
    added = client.post("/account/addresses/new", data=form, follow_redirects=True)
    book = added.get_data(as_text=True)
    assert "Adresse hinzugefügt." in book
    assert "<h1>Ihre Adressen</h1>" in book
    assert "Vereinigtes Königreich" in book


def test_the_shops_messages_come_in_german_on_pages_and_in_the_api(client, shop):
    token = csrf_token(client, "/products")
    too_many = client.post(
        "/cart/add",
        data={"product_id": shop, "quantity": 11, "csrf_token": token},
        headers=GERMAN,
        follow_redirects=True,
    )
    voucher = client.post(
        "/cart/voucher",
        data={"voucher_code": "NOPE", "csrf_token": token},
        headers=GERMAN,
        follow_redirects=True,
    )
    german = client.get("/api/v1/products/no-such-thing", headers=GERMAN)
    english = client.get("/api/v1/products/no-such-thing")

    assert "Von Green Tea sind nur noch 10 auf Lager." in too_many.get_data(as_text=True)
    assert "Legen Sie zuerst etwas in den Warenkorb." in voucher.get_data(as_text=True)
    assert assert_error(german, 404, "not_found")["message"] == "Dieses Produkt gibt es nicht."
    assert german.headers["Content-Language"] == "de-DE"
    assert assert_error(english, 404, "not_found")["message"] == "No such product."
    assert english.headers["Content-Language"] == "en"


def test_error_and_about_pages_come_in_german(client):
    missing = client.get("/no-such-page", headers=GERMAN)
    english = client.get("/no-such-page")
    about = text_of(client, "/about", headers=GERMAN)

    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "<h1>404 · Seite nicht gefunden</h1>" in page
    assert "Unter dieser Adresse gibt es keine Seite." in page
    assert "Zurück zur Startseite" in page
    assert "<h1>404 · Not Found</h1>" in english.get_data(as_text=True)
    assert "<h1>Über Storefront</h1>" in about
