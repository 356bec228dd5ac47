"""The page cache (app/page_cache.py): what anonymous visitors share, what never leaks between
visitors, and that every catalogue write is seen on the next request, by every app instance
sharing Redis."""

import re
from contextlib import contextmanager

import pytest
from flask import request, request_started
from flask_login import user_accessed
from sqlalchemy import event, insert, update

from app.app_factory import create_app
from app.catalog.models import Product, Variant
from app.extensions import db
from app.page_cache import PageCacheMiddleware
from tests.factories import ProductFactory, create
from tests.helpers import (
    ADMIN_EMAIL,
    TEST_CONFIG,
    csrf_token,
    login,
    token_headers,
)

TOKEN = re.compile(r'(?:name="csrf_token" value|name="csrf-token" content)="([^"]*)"')
SHARED = ["/", "/products", "/products?sort=-price", "/products/green-tea", "/api/v1/products"]


@contextmanager
def answered_by_app(app):
    """The paths the app itself answers inside the block (a hit from the cache reaches no
    Flask request at all)."""
    seen: list[str] = []

    def note(_sender, **_extra):
        seen.append(request.path)

    request_started.connect(note, app)
    try:
        yield seen
    finally:
        request_started.disconnect(note, app)


def served_from_cache(app, client, path, **kwargs) -> bool:
    with answered_by_app(app) as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200, path
    return not seen


@pytest.fixture
def shop(product_factory):
    return product_factory("Green Tea", price_cents=450, stock=7)


def test_a_second_anonymous_visitor_is_served_from_the_cache(app, shop):
    for path in SHARED:
        first = app.test_client().get(path)
        assert first.status_code == 200
        assert "public" in first.headers["Cache-Control"], path
        assert "Set-Cookie" not in first.headers, path
        assert served_from_cache(app, app.test_client(), path), path


def test_the_cached_page_is_the_page(app, shop):
    """Status, body and headers (security headers included) are replayed as the app sent
    them, without the per-request script nonce."""
    fresh = app.test_client().get("/products/green-tea")
    cached = app.test_client().get("/products/green-tea")

    assert cached.get_data() == fresh.get_data()
    for name in ("Content-Type", "ETag", "Cache-Control", "X-Frame-Options"):
        assert cached.headers[name] == fresh.headers[name]
    assert "'nonce-" in fresh.headers["Content-Security-Policy"]
    assert cached.headers["Content-Security-Policy"] == re.sub(
        r" 'nonce-[^']+'", "", fresh.headers["Content-Security-Policy"]
    )


def test_head_and_conditional_requests_use_the_entry(app, shop):
    etag = app.test_client().get("/products").headers["ETag"]

    head = app.test_client().head("/products")
    not_modified = app.test_client().get("/products", headers={"If-None-Match": etag})

    assert head.status_code == 200
    assert head.get_data() == b""
    assert not_modified.status_code == 304
    assert not_modified.headers["ETag"] == etag
    assert not_modified.get_data() == b""


def test_every_304_carries_its_etag(app, shop):
    """From the cache as from the app (an API token client is always answered by the app)."""
    etag = app.test_client().get("/products/green-tea").headers["ETag"]
    with answered_by_app(app) as seen:
        again = app.test_client().get("/products/green-tea", headers={"If-None-Match": etag})
    assert (again.status_code, again.headers["ETag"]) == (304, etag)
    assert not seen


def test_the_apis_own_304_carries_its_etag(app, shop, user_factory):
    user_factory()
    client = app.test_client()
    headers = token_headers(client)  # a token client is never served from the cache
    etag = client.get("/api/v1/products/green-tea", headers=headers).headers["ETag"]

    with answered_by_app(app) as seen:
        again = client.get("/api/v1/products/green-tea", headers={**headers, "If-None-Match": etag})

    assert seen  # answered by the app
    assert (again.status_code, again.headers["ETag"]) == (304, etag)


def test_no_visitors_token_cart_email_or_message_reaches_another(app, shop, user_factory):
    """A logged-in member, an anonymous shopper with a cart, a session and a flash message:
    what each sees of the shared pages never reaches a new visitor, nor each other."""
    user_factory(email="member@example.com")
    member = app.test_client()
    login(member, "member@example.com")
    shopper = app.test_client()
    shopper_token = csrf_token(shopper, "/products/green-tea")
    added = shopper.post(
        "/cart/add",
        data={"product_id": shop, "quantity": 2, "csrf_token": shopper_token},
    )
    assert added.status_code == 302
    seen_by: dict[str, list[str]] = {"member": [], "shopper": []}
    for path in SHARED:
        seen_by["member"].append(member.get(path).get_data(as_text=True))
        seen_by["shopper"].append(shopper.get(path).get_data(as_text=True))
    tokens = {shopper_token} | {
        token for html in seen_by["member"] for token in TOKEN.findall(html) if token
    }

    assert "member@example.com" in seen_by["member"][0]  # the member's own header
    assert "Added to your cart." in seen_by["shopper"][0]  # the shopper's message, once
    assert len(tokens) > 1  # the member's pages carry the member's token
    for path in SHARED:
        visitor = app.test_client()
        response = visitor.get(path)
        html = response.get_data(as_text=True)
        assert "member@example.com" not in html, path
        assert not tokens & set(TOKEN.findall(html)), path
        assert set(TOKEN.findall(html)) <= {""}, path
        assert "Added to your cart." not in html, path
        assert "Set-Cookie" not in response.headers, path
    # And the shopper, once the message is shown, gets the shared page without it.
    assert "Added to your cart." not in shopper.get("/").get_data(as_text=True)


def test_members_are_served_the_shared_page_and_their_links_by_the_menu(app, shop, user_factory):
    """A member's session signs them in: the page cache serves them the page every visitor
    gets, with nobody's e-mail or token; static/visitor.js fills the header in from
    /account/menu, which only the member's own session answers with their address."""
    user_factory(email="member@example.com", roles=["admin"])
    app.test_client().get("/products")  # stored
    member = app.test_client()
    login(member, "member@example.com")

    assert served_from_cache(app, member, "/products")
    page = member.get("/products")
    html = page.get_data(as_text=True)
    menu = member.get("/account/menu")
    anonymous_menu = app.test_client().get("/account/menu")

    assert "member@example.com" not in html
    assert set(TOKEN.findall(html)) <= {""}
    assert '<template id="member-nav">' in html
    assert 'data-menu-url="/account/menu"' in html
    assert menu.get_json() == {"email": "member@example.com", "admin": True}
    assert "no-store" in menu.headers["Cache-Control"]
    assert anonymous_menu.get_json() == {"email": None, "admin": False}


def test_a_member_the_app_answers_gets_their_own_header(app, shop, user_factory):
    """A page the cache does not hold yet: the app renders the member's (private) page."""
    user_factory(email="member@example.com")
    member = app.test_client()
    login(member, "member@example.com")

    response = member.get("/products")
    html = response.get_data(as_text=True)

    assert "member@example.com" in html
    assert '<template id="member-nav">' not in html
    assert "private" in response.headers["Cache-Control"]
    assert not served_from_cache(app, app.test_client(), "/products")  # not stored for others


def test_the_member_cookie_follows_the_session(app, shop, user_factory):
    """Set by the answer that signs the member in, deleted by the one that signs them out;
    it carries nothing but the fact (static/visitor.js reads it, so it is not HttpOnly)."""
    user_factory(email="member@example.com")
    client = app.test_client()
    client.get("/products")
    assert client.get_cookie("member") is None

    signed_in = login(client, "member@example.com")
    cookie = client.get_cookie("member")
    assert signed_in.status_code == 302
    assert cookie.value == "1"
    assert not cookie.http_only
    assert cookie.same_site == "Lax"
    assert "Set-Cookie" not in client.get("/products").headers  # set once

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert client.get_cookie("member") is None
    assert served_from_cache(app, client, "/products")


def test_a_member_cookie_without_a_signed_in_session_is_deleted(app, shop):
    client = app.test_client()
    client.set_cookie("member", "1", domain="localhost")

    response = client.get("/cart")

    assert client.get_cookie("member") is None
    assert "member=;" in response.headers["Set-Cookie"]


def test_a_remember_me_cookie_alone_is_answered_by_the_app(app, shop, user_factory):
    """Remembered and signed in by the session: shared. The session gone (the browser
    restarted): the app signs the member in from the cookie, and answers."""
    user_factory(email="member@example.com")
    app.test_client().get("/products")  # stored
    member = app.test_client()
    login(member, "member@example.com", remember=True)
    assert member.get_cookie("remember_token") is not None

    assert served_from_cache(app, member, "/products")
    member.delete_cookie("session", domain="localhost")
    assert not served_from_cache(app, member, "/products")


@pytest.mark.parametrize(
    "credentials",
    [
        {"headers": {"Authorization": "Basic eDp5"}},
        {"headers": {"Authentication-Token": "not-a-token"}},
        {"query_string": {"auth_token": "not-a-token"}},
    ],
)
def test_requests_with_credentials_are_answered_by_the_app(app, shop, credentials):
    app.test_client().get("/api/v1/products")  # stored

    assert not served_from_cache(app, app.test_client(), "/api/v1/products", **credentials)


def test_a_request_without_credentials_is_a_visitor_without_a_user_lookup(app, shop, user_factory):
    """No cookie, no token: Flask-Login's loaders are not asked (they could find nobody). A
    session or a token still signs its member in, through them."""
    looked_up: list[str] = []

    def note(_sender, **_extra):
        looked_up.append(request.path)

    user_accessed.connect(note, app)
    try:
        visitor = app.test_client()
        assert visitor.get("/products").status_code == 200
        assert visitor.get("/cart").status_code == 200
        assert looked_up == []

        user_factory(email="member@example.com")
        member = app.test_client()
        login(member, "member@example.com")
        assert b"member@example.com" in member.get("/account/").data
        assert "/account/" in looked_up
        headers = token_headers(member, "member@example.com")
        assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
        assert looked_up[-1] == "/api/v1/me"
    finally:
        user_accessed.disconnect(note, app)


def test_sessions_with_more_than_a_token_are_answered_by_the_app(app, shop):
    client = app.test_client()
    client.get("/products")  # stored
    with client.session_transaction() as session:
        session["csrf_token"] = "x" * 40
    assert served_from_cache(app, client, "/products")

    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this visitor")]
    assert not served_from_cache(app, client, "/products")

    client.set_cookie("session", "forged", domain="localhost")
    assert served_from_cache(app, client, "/products")  # Flask too starts a new session


def test_the_shared_forms_get_their_token_from_the_visitor_endpoint(app, shop):
    """The product page's form has an empty token; /csrf-token gives this visitor one, which
    the form then carries (static/visitor.js)."""
    client = app.test_client()
    page = client.get("/products/green-tea").get_data(as_text=True)
    assert 'name="csrf_token" value=""' in page
    assert 'src="/static/visitor.js?v=' in page

    answer = client.get("/csrf-token")
    assert answer.headers["Cache-Control"] == "no-store"
    added = client.post(
        "/cart/add",
        data={"product_id": shop, "quantity": 1, "csrf_token": answer.get_json()["csrf_token"]},
    )
    assert added.status_code == 302
    refused = app.test_client().post("/cart/add", data={"product_id": shop, "quantity": 1})
    assert refused.status_code == 400


def price_on(client, path="/products/green-tea") -> str:
    return re.search(r'id="product-price">([^<]+)<', client.get(path).get_data(as_text=True))[1]


def test_a_price_change_is_seen_on_the_next_request(app, shop, as_admin):
    visitor = app.test_client()
    assert price_on(visitor) == "€4.50"
    assert served_from_cache(app, visitor, "/products/green-tea")

    changed = as_admin.patch(
        "/api/v1/products/green-tea",
        json={"price_cents": 525},
        headers={"X-CSRF-Token": csrf_token(as_admin, "/account")},
    )

    assert changed.status_code == 200
    assert price_on(visitor) == "€5.25"
    assert app.test_client().get("/api/v1/products/green-tea").get_json()["price_cents"] == 525


def test_stock_taken_by_a_statement_is_seen_on_the_next_request(app, shop):
    """Checkout takes stock with an UPDATE statement, not through the ORM's objects."""
    visitor = app.test_client()
    assert "7 available" in visitor.get("/products/green-tea").get_data(as_text=True)

    with app.app_context():
        db.session.execute(update(Variant).values(stock=3))
        db.session.commit()

    assert "3 available" in visitor.get("/products/green-tea").get_data(as_text=True)


def test_products_inserted_by_a_statement_are_listed_on_the_next_request(app, shop):
    """The seed and imports insert in bulk, with INSERT statements."""
    visitor = app.test_client()
    assert "1 product" in visitor.get("/products").get_data(as_text=True)

    with app.app_context():
        db.session.execute(
            insert(Product),
            [{"slug": "new-tea", "name": "New Tea", "price_cents": 300, "currency": "EUR"}],
        )
        db.session.commit()

    assert "2 products" in visitor.get("/products").get_data(as_text=True)


def test_a_rolled_back_write_keeps_the_entries(app, shop):
    app.test_client().get("/products")
    with app.app_context():
        db.session.get(Product, shop).name = "Not Saved"
        db.session.flush()
        db.session.rollback()

    assert served_from_cache(app, app.test_client(), "/products")


def two_apps(backend, tmp_path, **config):
    """Two instances of the app on one fresh database holding the Green Tea, as on two
    servers (or two uwsgi workers)."""
    url = backend.fresh_url(tmp_path)
    one, two = (create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config}) for _ in "12")
    with one.app_context():
        db.create_all()
    create(one, ProductFactory, name="Green Tea", price_cents=450, stock=7)
    return one, two


def test_the_cache_can_be_turned_off(backend, tmp_path):
    off, _ = two_apps(backend, tmp_path, PAGE_CACHE=False)
    first = off.test_client().get("/products")

    assert "public" in first.headers["Cache-Control"]  # still for HTTP caches to revalidate
    assert not served_from_cache(off, off.test_client(), "/products")
    with off.app_context():
        db.drop_all()


def test_two_app_servers_sharing_redis_see_each_others_changes(backend, redis_server, tmp_path):
    """One instance stores the page, the other changes the price; the first serves the new
    price on its next request."""
    one, two = two_apps(backend, tmp_path, CACHE_REDIS_URL=redis_server.url)
    assert one.config["CACHE_TYPE"] == "RedisCache"
    reader = one.test_client()
    assert price_on(reader) == "€4.50"
    assert served_from_cache(two, two.test_client(), "/products/green-tea")  # one store

    with two.app_context():
        db.session.execute(update(Variant).values(price_cents=990))
        db.session.commit()

    assert price_on(reader) == "€9.90"
    with one.app_context():
        db.drop_all()


def test_several_workers_without_redis_serve_without_the_cache(monkeypatch, caplog):
    """An in-process store would keep each worker's pages from the others' invalidations."""
    monkeypatch.setattr("app.app_factory._worker_processes", lambda: 4)
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"}

    # Inside app/logs.py's RequestIds, the outermost (every answer carries its request id).
    assert not isinstance(create_app(config).wsgi_app.wsgi_app, PageCacheMiddleware)
    assert "The page cache is off: 4 worker processes" in caplog.text
    shared = create_app({**config, "CACHE_REDIS_URL": "redis://127.0.0.1:1/1"})
    assert isinstance(shared.wsgi_app.wsgi_app, PageCacheMiddleware)


def test_admin_is_never_cached(app, shop, user_factory):
    user_factory(email=ADMIN_EMAIL, roles=["admin"])
    response = app.test_client().get("/admin/")
    assert "public" not in response.headers.get("Cache-Control", "")


@pytest.mark.app_config(PAGE_CACHE=False)
def test_kept_page_content_carries_each_visitors_own_token_and_nothing_of_another(
    app, shop, user_factory
):
    """The listing's and product page's content is kept rendered for every visitor, logged
    in or not (the page cache off, so the app answers each): each page still carries its
    visitor's own CSRF token and e-mail address, and the product form's token is the
    visitor's, none for anonymous visitors."""
    user_factory(email="ada@example.com")
    user_factory(email="bob@example.com")
    ada, bob, anonymous = app.test_client(), app.test_client(), app.test_client()
    login(ada, "ada@example.com")
    login(bob, "bob@example.com")

    pages = {}
    for name, client in (("ada", ada), ("anonymous", anonymous), ("bob", bob)):
        pages[name] = client.get("/products/green-tea").get_data(as_text=True)
        assert "Green Tea" in client.get("/products").get_data(as_text=True)

    # The footer's language form is the same on every page: its token is fetched when sent.
    ada_tokens = set(TOKEN.findall(pages["ada"])) - {""}
    bob_tokens = set(TOKEN.findall(pages["bob"])) - {""}
    assert len(ada_tokens) == len(bob_tokens) == 1
    assert ada_tokens.isdisjoint(bob_tokens)
    assert 'name="csrf_token" value=""' in pages["anonymous"]
    assert "ada@example.com" in pages["ada"]
    assert "ada@example.com" not in pages["bob"] + pages["anonymous"]
    assert "\x00" not in "".join(pages.values())
    added = bob.post(
        "/cart/add", data={"product_id": shop, "quantity": 1, "csrf_token": bob_tokens.pop()}
    )
    assert added.status_code == 302


def test_reads_inside_a_read_on_an_empty_store_are_kept(app):
    """The first read of an empty store starts its generation once: what reads inside it
    kept stays kept (it was started afresh by the outer read, and lost)."""
    from app import page_cache
    from app.extensions import cache

    loads: list[str] = []

    def inner() -> int:
        loads.append("inner")
        return 1

    with app.test_request_context():
        cache.cache.clear()
        page_cache.catalog_read("outer", lambda: page_cache.catalog_read("inner", inner) + 1)
        assert page_cache.catalog_read("inner", inner) == 1

    assert loads == ["inner"]


@pytest.mark.app_config(PAGE_CACHE=False)
def test_a_listing_url_not_asked_before_is_made_of_what_is_kept(app, client, shop):
    """A listing's filters, counts and product cards are kept by what they show: a URL never
    asked before (page cache and kept listing both miss) reads only the categories and the
    page's ids."""
    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    client.get("/products?sort=price")
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        first = client.get("/products?sort=price&utm_source=mail").get_data(as_text=True)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)

    categories, ids = sorted(statements, key=lambda s: "FROM category" not in s)
    assert "FROM category" in categories
    assert "FROM product" in ids
    assert "JOIN" not in ids
    assert first == client.get("/products?sort=price").get_data(as_text=True)
