"""The pages blueprint (HTML). Site-wide pages live here; each domain's views nest under it."""

from flask import Blueprint, render_template, request

from app.accounts import views as accounts_views
from app.extensions import csrf

bp = Blueprint("pages", __name__)
bp.register_blueprint(accounts_views.bp)


@bp.before_request
def check_csrf():
    """Every unsafe request to a page, in any nested domain blueprint, needs the CSRF token."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.get("/")
def home():
    """Home: sign-up and log-in links for visitors, the account for members."""
    return render_template("pages/home.html")


@bp.get("/about")
def about():
    """What this shop is."""
    return render_template("pages/about.html")
