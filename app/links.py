"""Links and tags that every page or a grid repeats: built once per app (and script root,
and host for external links), not per link. A part of a link that changes is quoted as
werkzeug quotes it."""

from typing import Any

from flask import current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.routing import BaseConverter, Map

from app import static_files
from app.extensions import bootstrap
from app.i18n import current_locale

_MARK = "URL-PART-MARK"
_quote = BaseConverter(Map()).to_url  # what the string and path converters build with


def url_with(endpoint: str, part: str, value: str, external: bool = False) -> str:
    """``url_for(endpoint, **{part: value}, _external=external)`` for a rule's ``<part>`` or
    ``<path:part>``; a static file's with its version (app/static_files.py)."""
    patterns = current_app.extensions.setdefault("storefront.url_patterns", {})
    key = (endpoint, part, request.script_root, request.host_url if external else None)
    pattern = patterns.get(key)
    if pattern is None:
        values: dict[str, Any] = {part: _MARK}
        url = url_for(endpoint, _external=external, **values)
        pattern = patterns[key] = url.split(_MARK)
    head, tail = pattern
    url = head + _quote(value) + tail
    version = static_files.version_of(endpoint, value) if part == "filename" else None
    return f"{url}?v={version}" if version else url


def link(endpoint: str) -> str:
    """``url_for(endpoint)`` for a rule without arguments (the header's links), built once
    per app and script root."""
    links = current_app.extensions.setdefault("storefront.links", {})
    key = (endpoint, request.script_root)
    if key not in links:
        links[key] = url_for(endpoint)
    return links[key]


def bootstrap_tags(kind: str) -> Markup:
    """Bootstrap-Flask's ``load_css()`` or ``load_js()`` (kind "css" or "js"), built once per
    app and script root: they read only the config and url_for."""
    tags = current_app.extensions.setdefault("storefront.bootstrap_tags", {})
    key = (kind, request.script_root)
    if key not in tags:
        tags[key] = getattr(bootstrap, f"load_{kind}")()
    return tags[key]


def shared_fragment(template: str) -> str:
    """``template`` rendered once per app, script root and language, for a part of a page that
    is the same for every visitor (the footer, a shared page's header): it may read only the
    config, ``g.shared_page`` and links. Rendered afresh while templates reload (development). Our
    own autoescaped render: templates put it in with ``|safe``."""
    fragments = current_app.extensions.setdefault("storefront.fragments", {})
    key = (template, request.script_root, current_locale())
    if key not in fragments or current_app.jinja_env.auto_reload:
        fragments[key] = render_template(template)
    return fragments[key]
