"""Account pages beyond Flask-Security's own (which live under /login, /register, ...)."""

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_security import auth_required, current_user, logout_user

from app.accounts import menu as member_menu
from app.accounts import services
from app.accounts.services import user_summary

bp = Blueprint("accounts", __name__)


@bp.get("/account")
@auth_required()
def account():
    """The signed-in user's e-mail, roles, 2FA status and security links."""
    return render_template("accounts/account.html", summary=user_summary(current_user))


@bp.get("/account/menu")
def menu():
    """The header links of the member signed in, for the shared pages the page cache serves
    (static/visitor.js); JSON, stored by no cache."""
    response = jsonify(member_menu.menu_of(current_user))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.post("/account/logout-everywhere")
@auth_required("session")
def logout_everywhere():
    """End every session, remember-me cookie and API token of the user, this browser's too."""
    services.revoke_all_sessions(current_user)
    logout_user()
    flash(_("You have been logged out everywhere, here too. Log in again to go on."), "info")
    return redirect(url_for("security.login"))
