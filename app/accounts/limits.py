"""Rate limits on Flask-Security's views, applied after ``security.init_app``.

Failed logins and 2FA codes count per client; successful ones never do. Account
e-mails (register, reset, confirmation resend) count every POST.
"""

from flask import current_app, session
from flask_security import current_user

from app.extensions import limiter


def login_failed(_response) -> bool:
    """A login POST failed when nobody is signed in and no 2FA step is pending."""
    return not current_user.is_authenticated and "tf_user_id" not in session


def code_failed(_response) -> bool:
    """A 2FA code POST failed when the user is still not signed in."""
    return not current_user.is_authenticated


def failures_limit():
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


def emails_limit():
    return current_app.config["RATELIMIT_ACCOUNT_EMAILS"]


def apply_account_limits(app) -> None:
    views = app.view_functions
    wrap = {
        "security.login": limiter.shared_limit(
            failures_limit, scope="login-failures", methods=["POST"], deduct_when=login_failed
        ),
        "security.two_factor_token_validation": limiter.shared_limit(
            failures_limit, scope="tf-failures", methods=["POST"], deduct_when=code_failed
        ),
    }
    for endpoint in ("security.register", "security.forgot_password", "security.send_confirmation"):
        wrap[endpoint] = limiter.shared_limit(emails_limit, scope=endpoint, methods=["POST"])
    for endpoint, decorate in wrap.items():
        if endpoint in views:
            views[endpoint] = decorate(views[endpoint])
