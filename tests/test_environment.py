"""The environment's layer of the configuration, read by Flask's from_prefixed_env."""

from app.app_factory import create_app
from tests.helpers import TEST_CONFIG

# The test settings less the ones these tests set through the environment (overrides win).
CONFIG = {
    key: value
    for key, value in TEST_CONFIG.items()
    if key not in ("SITE_URL", "RATELIMIT_STORAGE_URI", "SECURITY_PASSWORD_SALT")
}


def test_unprefixed_settings_load_as_from_prefixed_env_loads_them(monkeypatch):
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.com")
    monkeypatch.setenv("MAIL_TIMEOUT", "5")  # README: every MAIL_* setting, not a chosen few
    monkeypatch.setenv("SITE_URL", "http://shop.example.com:8080")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "salt-from-the-environment")

    app = create_app(CONFIG)

    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["MAIL_SERVER"] == "smtp.example.com"
    assert app.config["MAIL_TIMEOUT"] == 5
    assert app.config["SITE_URL"] == "http://shop.example.com:8080"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["SECURITY_PASSWORD_SALT"] == "salt-from-the-environment"


def test_prefixed_settings_take_json_and_win_over_unprefixed(monkeypatch):
    monkeypatch.setenv("SITE_URL", "http://plain.example.com")
    monkeypatch.setenv("STOREFRONT_SITE_URL", "http://prefixed.example.com")
    monkeypatch.setenv("STOREFRONT_PAYMENT_METHODS", '["manual"]')
    monkeypatch.setenv("STOREFRONT_CART_MAX_QUANTITY", "7")

    app = create_app(CONFIG)

    assert app.config["SITE_URL"] == "http://prefixed.example.com"
    assert app.config["PAYMENT_METHODS"] == ["manual"]
    assert app.config["CART_MAX_QUANTITY"] == 7


def test_environment_is_no_wider_than_documented(monkeypatch):
    """Only the documented names are read without the prefix: SECURITY_* as a whole is not."""
    monkeypatch.setenv("SECURITY_CONFIRMABLE", "false")

    app = create_app(CONFIG)

    assert app.config["SECURITY_CONFIRMABLE"] is True
