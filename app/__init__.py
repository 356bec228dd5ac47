"""Storefront, a Flask ecommerce starter; ``flask`` finds ``create_app`` here (FLASK_APP=app)."""

from app.app_factory import create_app

__all__ = ["create_app"]
