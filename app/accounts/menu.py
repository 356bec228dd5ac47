"""What a member's browser needs to complete a shared page (app/page_cache.py), which has no
one's parts: a cookie saying the browser is signed in (``MEMBER_COOKIE``, readable by
``static/visitor.js``, no secret in it) and the member's own header links (``menu``,
served at ``/account/menu``). Anonymous visitors carry no such cookie, so their browsers ask
for nothing more than the shared page."""

from flask import Flask, Response, current_app, request, session

from app.accounts.models import ADMIN

MEMBER_COOKIE = "member"


def init_app(app: Flask) -> None:
    app.after_request(keep_member_cookie)


def keep_member_cookie(response: Response) -> Response:
    """Set ``MEMBER_COOKIE`` while the session signs a member in (from the response that signs
    them in), delete it once it no longer does (logged out, session expired or ended)."""
    marked = MEMBER_COOKIE in request.cookies
    if not marked and not session.modified:
        return response
    signed_in = "_user_id" in session  # `in` leaves the session unaccessed: no Vary: Cookie
    if signed_in and not marked:
        lifetime = current_app.permanent_session_lifetime if session.permanent else None
        response.set_cookie(
            MEMBER_COOKIE,
            "1",
            max_age=lifetime,
            path="/",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=False,  # static/visitor.js reads it
            samesite="Lax",
        )
    elif marked and not signed_in:
        response.delete_cookie(MEMBER_COOKIE, path="/", samesite="Lax")
    return response


def menu_of(user) -> dict:
    """``{"email": ..., "admin": true|false}`` of a member signed in, ``{"email": None,
    "admin": False}`` for anyone else (``user`` anonymous)."""
    if not user.is_authenticated:
        return {"email": None, "admin": False}
    return {"email": user.email, "admin": user.has_role(ADMIN)}
