"""Accounts: users, roles and everything Flask-Security-Too does for them."""
