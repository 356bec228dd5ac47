"""API: the human-readable docs page, Swagger UI over /api/v1/openapi.json."""

import flask
from flask import render_template

from app.api.spec import Blueprint

bp = Blueprint("docs", __name__, description="API documentation")


def page():
    """Swagger UI, served from app/static and started by static/api-docs.js."""
    return render_template("api/docs.html")


# Flask's own add_url_rule, not flask-smorest's: an HTML page is not an API operation, so it
# stays out of openapi.json (tests/api/test_contract.py lists it as undocumented on purpose).
flask.Blueprint.add_url_rule(bp, "/docs", "page", page)
