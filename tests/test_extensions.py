"""app.extensions.Talisman sends exactly the headers Flask-Talisman builds, with less work."""

import flask_talisman
import pytest
from flask import Flask

from app.extensions import Talisman

POLICIES = [
    {"default-src": "'self'", "img-src": ["'self'", "data:"], "script-src": "'self'"},
    "default-src 'self'; script-src 'self' cdn.example; style-src 'self'",
]


def headers(talisman_class, policy, nonce_in) -> dict:
    app = Flask(__name__)
    talisman = talisman_class()
    talisman.init_app(
        app,
        force_https=False,
        content_security_policy=policy,
        content_security_policy_nonce_in=nonce_in,
    )

    @app.get("/")
    def index():
        return "index"

    @app.get("/framed")
    @talisman(frame_options="SAMEORIGIN", content_security_policy={"default-src": "*"})
    def framed():
        return "framed"

    client = app.test_client()
    answers = {}
    for url in ("/", "/framed", "/missing", "/"):
        response = client.get(url)
        answers[url] = {k: v for k, v in response.headers if k not in ("Date", "Content-Length")}
    return answers


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("nonce_in", [[], ["script-src"], ["script-src", "default-src"]])
def test_same_headers_as_flask_talisman(monkeypatch, policy, nonce_in):
    monkeypatch.setattr(flask_talisman.talisman, "get_random_string", lambda n: "n" * n)
    ours = headers(Talisman, policy, nonce_in)
    assert ours == headers(flask_talisman.Talisman, policy, nonce_in)
    assert ("'nonce-nnn" in ours["/"]["Content-Security-Policy"]) == bool(nonce_in)
