"""The React storefront's files under /app/ (app/spa.py), on a stand-in build: the journeys
in tests/e2e/test_app_*.py run the real one."""

import pytest

INDEX = '<!doctype html><script type="module" src="/app/assets/index-1a2b3c.js"></script>'


@pytest.fixture
def dist(app, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-1a2b3c.js").write_text("console.log('app')")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    app.config["FRONTEND_DIST"] = str(tmp_path)
    return tmp_path


@pytest.mark.parametrize("path", ["/app/", "/app/products/tea", "/app/account/orders/3"])
def test_every_address_of_the_app_is_its_page(client, dist, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == INDEX
    assert "no-cache" in response.headers["Cache-Control"]  # a deployment changes it
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_app_without_its_slash_is_sent_to_it(client, dist):
    response = client.get("/app")

    assert response.status_code == 308
    assert response.headers["Location"].endswith("/app/")


def test_assets_are_kept_a_year(client, dist):
    response = client.get("/app/assets/index-1a2b3c.js")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "console.log('app')"
    assert set(response.headers["Cache-Control"].split(", ")) == {
        "public",
        "max-age=31536000",
        "immutable",
    }
    response.close()


@pytest.mark.parametrize(
    "path", ["/app/assets/index-0000.js", "/app/assets/../../secret.txt", "/app/assets/"]
)
def test_missing_assets_and_paths_out_of_the_build_are_404(client, dist, path):
    assert client.get(path).status_code == 404


def test_an_app_not_built_says_how_to_build_it(client, app, tmp_path):
    app.config["FRONTEND_DIST"] = str(tmp_path / "dist")

    response = client.get("/app/")

    assert response.status_code == 503
    assert "make frontend" in response.get_data(as_text=True)
    assert client.get("/api/v1/products").status_code == 200  # the API is there all the same


def test_the_build_is_looked_for_beside_app_unless_configured(app, tmp_path):
    from app import spa
    from app.app_factory import PROJECT_ROOT

    with app.app_context():
        app.config["FRONTEND_DIST"] = None
        assert spa.dist_folder() == PROJECT_ROOT / "frontend" / "dist"
        app.config["FRONTEND_DIST"] = str(tmp_path)
        assert spa.dist_folder() == tmp_path
