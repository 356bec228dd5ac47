"""robots.txt and the sitemaps (app/seo/services.py): catalogue reads, shared by every visitor."""

from flask import Blueprint, abort, current_app, render_template

from app.page_cache import shared
from app.seo import services

bp = Blueprint("seo", __name__)
XML = "application/xml; charset=utf-8"
# Pages of one visitor or of no use in a search engine: the account, the cart and checkout,
# the orders, Flask-Security's forms, the API. (Each also answers only its visitor.)
PRIVATE_PATHS = (
    "/account",
    "/cart",
    "/checkout",
    "/orders",
    "/login",
    "/logout",
    "/register",
    "/reset",
    "/confirm",
    "/change",
    "/verify",
    "/tf-",
    "/mf-",
    "/api/",
)


@bp.get("/robots.txt")
@shared
def robots():
    admin_paths = tuple(f"{admin.url}/" for admin in current_app.extensions.get("admin", []))
    body = render_template("seo/robots.txt", private=admin_paths + PRIVATE_PATHS)
    return body, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/sitemap.xml")
@shared
def sitemap_index():
    """The sitemaps' index: the pages', then each product sitemap's."""
    return render_template("seo/sitemap_index.xml", sitemaps=services.sitemap_index()), {
        "Content-Type": XML
    }


@bp.get("/sitemaps/pages.xml")
@shared
def pages_sitemap():
    return render_template("seo/urlset.xml", entries=services.page_entries()), {"Content-Type": XML}


@bp.get("/sitemaps/products-<int:number>.xml")
@shared
def products_sitemap(number: int):
    entries = services.product_entries(number)
    if entries is None:
        abort(404, "There is no such sitemap: /sitemap.xml lists them.")
    return render_template("seo/urlset.xml", entries=entries), {"Content-Type": XML}
