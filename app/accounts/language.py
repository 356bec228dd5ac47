"""A member's language follows them: the one they chose while signed in is kept in their
account (``User.locale``, by the footer's selector), and signing in makes it the browser's
choice again (the locale cookie, app/i18n.py), in any browser."""

from flask import Flask, Response, current_app, g, request
from flask_security import user_authenticated

from app import i18n

SIGN_IN_LOCALE = "storefront_sign_in_locale"  # in g: the locale to keep on this response


def init_app(app: Flask) -> None:
    user_authenticated.connect(_signed_in, app)
    app.after_request(_keep_members_locale)


def _signed_in(_app, user, **_extra) -> None:
    if user.locale in current_app.config["LANGUAGES"]:
        setattr(g, SIGN_IN_LOCALE, user.locale)


def _keep_members_locale(response: Response) -> Response:
    locale = g.pop(SIGN_IN_LOCALE, None)
    if locale is not None and request.cookies.get(i18n.LOCALE_COOKIE) != locale:
        i18n.keep_choice(response, locale)
    return response
