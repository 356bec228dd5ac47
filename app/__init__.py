"""Storefront: a Flask ecommerce starter."""
