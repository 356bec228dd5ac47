"""Search engines and sharing (app/seo): robots.txt, the sitemaps, and the canonical URL,
OpenGraph tags and schema.org JSON-LD of product pages, parsed as a crawler would."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from app.catalog.models import Product, Variant
from app.extensions import db
from app.sales.models import Sale
from app.timestamps import utcnow
from tests.factories import CategoryFactory, ProductFactory, create, make_tshirt

SITE = "https://shop.example"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
pytestmark = pytest.mark.app_config(SITE_URL=SITE, SITEMAP_MAX_URLS=2)


class Head(HTMLParser):
    """A page's <link rel=canonical>, <meta> tags and JSON-LD, as a crawler reads them."""

    def __init__(self, page: str):
        super().__init__()
        self.canonical: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.json_ld: list[object] = []
        self._in_json_ld = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "canonical":
            self.canonical.append(attributes["href"])
        elif tag == "meta" and ("property" in attributes or "name" in attributes):
            key = attributes.get("property") or attributes["name"]
            self.meta.setdefault(key, []).append(attributes["content"])
        self._in_json_ld = tag == "script" and attributes.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        self._in_json_ld = False


def xml_of(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.content_type == "application/xml; charset=utf-8"
    return ET.fromstring(response.data)


def test_robots_keep_crawlers_out_of_private_pages_and_name_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.content_type == "text/plain; charset=utf-8"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/admin/", "/account", "/cart", "/checkout", "/orders", "/login", "/api/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /products" not in "\n".join(lines)
    assert lines[-1] == f"Sitemap: {SITE}/sitemap.xml"


def test_the_sitemaps_list_every_active_product_once_split_by_the_limit(app, client):
    tea = create(app, CategoryFactory, name="Tea")
    names = ["Assam", "Darjeeling", "Earl Grey", "Green Tea", "Oolong"]
    for name in names:
        create(app, ProductFactory, name=name, category_id=tea)
    create(app, ProductFactory, name="Withdrawn", is_active=False)

    index = xml_of(client, "/sitemap.xml")
    sitemaps = [loc.text for loc in index.findall("sm:sitemap/sm:loc", NS)]
    assert sitemaps == [
        f"{SITE}/sitemaps/pages.xml",
        f"{SITE}/sitemaps/products-1.xml",
        f"{SITE}/sitemaps/products-2.xml",
        f"{SITE}/sitemaps/products-3.xml",  # 5 products, 2 a sitemap
    ]
    products: list[str] = []
    for url in sitemaps[1:]:
        urlset = xml_of(client, url.removeprefix(SITE))
        entries = urlset.findall("sm:url", NS)
        assert 1 <= len(entries) <= 2
        for entry in entries:
            products.append(entry.find("sm:loc", NS).text)
            lastmod = entry.find("sm:lastmod", NS).text
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", lastmod)
    assert sorted(products) == [
        f"{SITE}/products/{slug}"
        for slug in ("assam", "darjeeling", "earl-grey", "green-tea", "oolong")
    ]
    pages = [loc.text for loc in xml_of(client, "/sitemaps/pages.xml").iter(f"{{{NS['sm']}}}loc")]
    assert pages == [f"{SITE}/", f"{SITE}/products", f"{SITE}/products?category=tea"]


@pytest.mark.parametrize("number", ["0", "2", "99999999999999999999999"])
def test_a_product_sitemap_past_the_last_is_404(client, number):
    assert client.get("/sitemaps/products-1.xml").status_code == 200  # an empty shop has one
    assert client.get(f"/sitemaps/products-{number}.xml").status_code == 404


def test_a_product_page_has_one_canonical_url_whatever_the_query_string(app, client):
    create(app, ProductFactory, name="Green Tea", price_cents=450)

    for query in ("", "?utm_source=news", "?ref=x&variant=2"):
        head = Head(client.get(f"/products/green-tea{query}").get_data(as_text=True))
        assert head.canonical == [f"{SITE}/products/green-tea"]
        assert head.meta["og:url"] == [f"{SITE}/products/green-tea"]


def test_the_json_ld_describes_the_product_and_its_offer(app, client):
    tea = create(app, CategoryFactory, name="Tea")
    create(app, ProductFactory, name="Green Tea", price_cents=450, stock=3, category_id=tea)

    head = Head(client.get("/products/green-tea").get_data(as_text=True))

    [data] = head.json_ld
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Green Tea"
    assert data["sku"] == "SKU-GREEN-TEA"
    assert data["category"] == "Tea"
    assert data["url"] == f"{SITE}/products/green-tea"
    assert data["offers"] == {
        "@type": "Offer",
        "url": f"{SITE}/products/green-tea",
        "sku": "SKU-GREEN-TEA",
        "price": "4.50",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
        "itemCondition": "https://schema.org/NewCondition",
    }
    assert head.meta["og:type"] == ["product"]
    assert head.meta["og:title"] == ["Green Tea"]
    assert head.meta["product:price:amount"] == ["4.50"]
    assert head.meta["description"] == ["About Green Tea."]


def test_an_out_of_stock_product_is_offered_out_of_stock(app, client):
    create(app, ProductFactory, name="Green Tea", stock=0)

    [data] = Head(client.get("/products/green-tea").get_data(as_text=True)).json_ld
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_each_variant_is_an_offer_with_its_own_price_and_availability(app, client):
    variants = make_tshirt(app, stock=4, price_cents=1500)
    with app.app_context():
        db.session.get(Variant, variants["M", "blue"]).stock = 0
        db.session.commit()

    [data] = Head(client.get("/products/tshirt").get_data(as_text=True)).json_ld
    offers = {offer["sku"]: offer for offer in data["offers"]}
    assert len(offers) == 6
    assert offers["TS-S-RED"]["price"] == "15.00"
    assert offers["TS-L-RED"]["price"] == "17.00"
    assert offers["TS-M-BLUE"]["availability"] == "https://schema.org/OutOfStock"
    assert offers["TS-S-RED"]["availability"] == "https://schema.org/InStock"
    assert offers["TS-M-BLUE"]["name"] == "Size M, Colour blue"
    assert "sku" not in data  # the variants carry them


def test_a_running_sale_is_the_offered_price_until_it_ends(app, client):
    product_id = create(app, ProductFactory, name="Green Tea", price_cents=1000)
    with app.app_context():
        ends = utcnow() + timedelta(days=3)
        sale = Sale(
            name="Spring",
            percent=20,
            starts_at=utcnow() - timedelta(hours=1),
            ends_at=ends,
            products=[db.session.get(Product, product_id)],
        )
        db.session.add(sale)
        db.session.commit()

    head = Head(client.get("/products/green-tea").get_data(as_text=True))
    [data] = head.json_ld
    assert data["offers"]["price"] == "8.00"
    assert data["offers"]["priceValidUntil"] == ends.date().isoformat()
    assert head.meta["product:price:amount"] == ["8.00"]


def test_a_hostile_product_name_stays_data(app, client):
    name = '</script><script>alert(1)</script> & "Tea"'
    create(app, ProductFactory, name=name, slug="hostile")

    page = client.get("/products/hostile").get_data(as_text=True)

    assert "<script>alert(1)" not in page
    head = Head(page)
    [data] = head.json_ld
    assert data["name"] == name
    assert head.meta["og:title"] == [name]


def test_listings_are_canonical_by_category_and_page_and_narrowed_ones_not_indexed(app, client):
    tea = create(app, CategoryFactory, name="Tea")
    create(app, ProductFactory, name="Green Tea", category_id=tea)

    plain = Head(client.get("/products?category=tea&utm_source=x").get_data(as_text=True))
    assert plain.canonical == [f"{SITE}/products?category=tea"]
    assert "robots" not in plain.meta
    for narrowed in ("q=green", "sort=-price", "in_stock=1", "price_min=1"):
        head = Head(client.get(f"/products?category=tea&{narrowed}").get_data(as_text=True))
        assert head.canonical == [f"{SITE}/products?category=tea"]
        assert head.meta["robots"] == ["noindex, follow"], narrowed
