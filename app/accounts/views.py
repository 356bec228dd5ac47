"""Account pages beyond Flask-Security's own (which live under /login, /register, ...)."""

from flask import Blueprint, render_template
from flask_security import auth_required, current_user

from app.accounts.services import user_summary

bp = Blueprint("accounts", __name__)


@bp.get("/account")
@auth_required()
def account():
    """The signed-in user's e-mail, roles, 2FA status and security links."""
    return render_template("accounts/account.html", summary=user_summary(current_user))
