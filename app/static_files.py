"""Static files under URLs that change with their content (``?v=`` and a digest), so that
browsers and proxies may keep them a year. uwsgi serves them (uwsgi.ini: ``static-map``);
Python serves them only in development."""

import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app
from flask.sansio.scaffold import Scaffold


def add_version(endpoint: str, values: dict) -> None:
    """``url_for('static', filename=...)`` (any blueprint's static too) gets ``v=<digest>``."""
    filename = values.get("filename")
    if not filename or "v" in values:
        return
    version = version_of(endpoint, filename)
    if version:
        values["v"] = version


def version_of(endpoint: str, filename: str) -> str | None:
    """The digest of a static endpoint's file, None for another endpoint or a missing file."""
    if endpoint != "static" and not endpoint.endswith(".static"):
        return None
    scaffold: Scaffold = current_app
    if endpoint != "static":
        scaffold = current_app.blueprints.get(endpoint.rpartition(".")[0], current_app)
    if scaffold.static_folder is None:
        return None
    path = os.path.join(scaffold.static_folder, filename)
    if not current_app.debug:
        return _deployed_digest(path)  # files change with a deployment, which restarts
    try:
        modified = os.stat(path).st_mtime_ns
    except OSError:
        return None  # no such file: its URL is left as it is (and answers 404)
    return _digest(path, modified)


@lru_cache(maxsize=1024)
def _digest(path: str, _modified: int) -> str:
    """The first 12 hex digits of the file's SHA-256: a new one whenever it changes."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


@lru_cache(maxsize=1024)
def _deployed_digest(path: str) -> str | None:
    """The digest read once per process (no stat per URL: a listing builds dozens)."""
    try:
        return _digest(path, os.stat(path).st_mtime_ns)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
