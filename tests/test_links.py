"""app.links: links built once a request are the links url_for builds; Bootstrap's tags too."""

import pytest
from flask import render_template_string, url_for

from app.extensions import bootstrap
from app.links import url_with


@pytest.mark.parametrize("script_root", ["", "/shop"])
@pytest.mark.parametrize(
    "value", ["green-tea", "a b", "ä/ö?#&x=1%20", "a+b;c@d!$'()*,:=", "~._-", "日本"]
)
def test_url_with_builds_what_url_for_builds(app, script_root, value):
    with app.test_request_context("/products", base_url=f"http://localhost{script_root}/"):
        assert url_for("pages.home") == f"{script_root}/"
        for _ in range(2):  # the second time from the request's pattern
            assert url_with("pages.catalog.detail", "slug", value) == url_for(
                "pages.catalog.detail", slug=value
            )
            assert url_with("static", "filename", f"products/{value}") == url_for(
                "static", filename=f"products/{value}"
            )


def test_bootstrap_tags_are_bootstrap_flasks(app):
    with app.test_request_context("/"):
        expected = (bootstrap.load_css(), bootstrap.load_js())
        template = '{{ bootstrap_tags("css") }}|{{ bootstrap_tags("js") }}'
        for _ in range(2):
            assert render_template_string(template) == "|".join(expected)
