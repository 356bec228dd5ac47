"""Media files served by the app itself, for development (``make run``, Flask's server).

In production uwsgi serves MEDIA_ROOT under MEDIA_URL (``static-map`` in uwsgi.ini) before a
request reaches Python; this route then only answers what uwsgi did not find, with a 404.
"""

from flask import Flask, abort, send_from_directory

from app.media.storage import LocalStorage, checked_key, media_storage

# Media keys are random per image and never change content: browsers may keep them a year.
MAX_AGE = 31_536_000


def init_app(app: Flask) -> None:
    """Serve ``MEDIA_URL`` from the local store, when MEDIA_URL is a path on this site (not
    another host's URL, such as a bucket's or a CDN's)."""
    base = app.config["MEDIA_URL"]
    if not base.startswith("/") or base.startswith("//"):
        return
    app.add_url_rule(f"{base.rstrip('/')}/<path:key>", "media", serve_media)


def serve_media(key: str):
    """The file stored under ``key``; 404 for anything that is not a key of a stored file."""
    storage = media_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    try:
        checked_key(key)
    except ValueError:
        abort(404)
    return send_from_directory(storage.root, key, max_age=MAX_AGE, conditional=True)
