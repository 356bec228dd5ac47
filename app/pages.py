"""The pages blueprint (HTML). Site-wide pages live here; each domain's views nest under it."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_security import current_user
from flask_wtf.csrf import generate_csrf

from app import i18n, page_cache
from app.accounts import services as account_services
from app.accounts import views as accounts_views
from app.addresses import views as addresses_views
from app.cart import views as cart_views
from app.catalog import images
from app.catalog import services as catalog_services
from app.catalog import views as catalog_views
from app.extensions import csrf
from app.invoices import views as invoices_views
from app.links import bootstrap_tags, link, shared_fragment, url_with
from app.orders import views as orders_views
from app.page_cache import shared
from app.sales import services as sales
from app.security_utils import safe_next
from app.seo import views as seo_views

bp = Blueprint("pages", __name__)
bp.add_app_template_global(url_with)
bp.add_app_template_global(link)
bp.add_app_template_global(bootstrap_tags)
bp.add_app_template_global(shared_fragment)
bp.add_app_template_global(images.image_urls)
for domain in (
    accounts_views,
    addresses_views,
    catalog_views,
    cart_views,
    orders_views,
    invoices_views,
    seo_views,
):
    bp.register_blueprint(domain.bp)


@bp.before_request
def check_csrf():
    """Every unsafe request to a page, in any nested domain blueprint, needs the CSRF token."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.get("/")
@shared
def home():
    """Home: featured products; sign-up links for visitors, the account for members."""
    featured = page_cache.catalog_read("home:featured", _featured)
    return render_template("pages/home.html", featured=featured)


def _featured() -> str:
    products = catalog_services.featured_products()
    return render_template(
        "pages/_featured.html", featured=products, offers=sales.offers_for(products)
    )


@bp.get("/about")
@shared
def about():
    """What this shop is."""
    return render_template("pages/about.html")


@bp.get("/csrf-token")
def csrf_token():
    """This visitor's CSRF token, for the forms of shared pages, which carry none
    (static/visitor.js fetches it before they are sent)."""
    response = jsonify(csrf_token=generate_csrf())
    response.cache_control.no_store = True
    return response


@bp.post("/language")
def choose_language():
    """The footer's language selector: the choice is kept a year in the ``locale`` cookie
    (app/i18n.py), and for a member in their account too; the visitor goes back to the page
    they were on (its Referer, when it is this site's)."""
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400, "Choose one of the shop's languages.")
    referrer = urlsplit(request.referrer or "")
    back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    if referrer.netloc != request.host:
        back = ""
    if current_user.is_authenticated:  # and at their next sign-in, in any browser
        account_services.remember_locale(current_user.id, locale)
    response = redirect(safe_next(back, url_for("pages.home")))
    i18n.keep_choice(response, locale)
    return response
