"""Static files: URLs versioned by content (app/static_files.py), served by uwsgi with a
year-long Cache-Control (tests/test_operations.py runs uwsgi); HTML and JSON compressed."""

import gzip
import re

import brotli
from flask import url_for


def test_static_urls_change_with_the_files_content(app, tmp_path):
    """In development (debug) at once; otherwise a deployment's restart reads files anew."""
    app.static_folder = str(tmp_path)
    app.debug = True
    (tmp_path / "site.css").write_text("body { color: red }")
    with app.test_request_context():
        first = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: blue }")
        second = url_for("static", filename="site.css")
        missing = url_for("static", filename="missing.css")

    assert re.fullmatch(r"/static/site\.css\?v=[0-9a-f]{12}", first)
    assert second != first
    assert missing == "/static/missing.css"


def test_outside_development_a_file_is_read_once_per_process(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "once.css").write_text("body { color: red }")
    with app.test_request_context():
        first = url_for("static", filename="once.css")
        (tmp_path / "once.css").write_text("body { color: blue }")
        again = url_for("static", filename="once.css")

    assert re.fullmatch(r"/static/once\.css\?v=[0-9a-f]{12}", first)
    assert again == first


def test_pages_link_versioned_static_files_bootstraps_included(client):
    html = client.get("/about").get_data(as_text=True)

    links = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', html)
    assert len(links) >= 4  # site.css, favicon, Bootstrap's CSS and JS, visitor.js
    assert all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links), links
    for link in links:
        with client.get(link) as response:
            assert response.status_code == 200, link


def test_html_and_json_are_compressed_as_the_client_accepts(client, product_factory):
    for name in ("Green Tea", "Black Tea", "White Tea", "Oolong"):
        product_factory(name)
    for path in ("/products", "/api/v1/products"):
        plain = client.get(path)
        zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
        squeezed = client.get(path, headers={"Accept-Encoding": "br"})
        again = client.get(path, headers={"Accept-Encoding": "gzip"})  # from the page cache

        assert "Content-Encoding" not in plain.headers
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert squeezed.headers["Content-Encoding"] == "br"
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert gzip.decompress(zipped.get_data()) == plain.get_data()
        assert brotli.decompress(squeezed.get_data()) == plain.get_data()
        assert again.get_data() == zipped.get_data()
        assert len(zipped.get_data()) < len(plain.get_data()) / 2
