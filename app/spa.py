"""The React storefront (frontend/) under /app/: a single-page app on the JSON API.

``make frontend`` builds it into ``frontend/dist``: ``index.html`` and ``assets/``, whose
files carry a digest of their content in their names. Every address under /app/ answers the
same ``index.html`` (the app's router draws the screen), which browsers check again each
time; the assets may be kept a year. uwsgi.ini and the nginx files serve the assets
themselves in production; this blueprint serves them in development. The page has no inline
script or style, so the site's Content-Security-Policy holds unchanged.
"""

from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory
from flask.typing import ResponseReturnValue

bp = Blueprint("spa", __name__, url_prefix="/app")

ASSETS = "assets/"
YEAR = 365 * 24 * 60 * 60


def dist_folder() -> Path:
    """FRONTEND_DIST, else frontend/dist beside app/ in this checkout."""
    configured = current_app.config["FRONTEND_DIST"]
    return Path(configured or Path(current_app.root_path).parent / "frontend" / "dist")


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def app_page(path: str) -> ResponseReturnValue:
    dist = dist_folder()
    if path.startswith(ASSETS):
        response = send_from_directory(dist, path, max_age=YEAR)
        response.cache_control.public = True
        response.cache_control.immutable = True
        return response
    try:
        page = (dist / "index.html").read_bytes()  # half a kilobyte
    except FileNotFoundError:
        abort(503, "The storefront app is not built: run `make frontend` (`make run` does).")
    response = current_app.response_class(page, mimetype="text/html")
    response.cache_control.no_cache = True  # a deployment changes it: always revalidate
    response.add_etag()
    return response.make_conditional(request)
