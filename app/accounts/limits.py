"""Rate limits on Flask-Security's views, applied after ``security.init_app``.

One failed-login limit (``RATELIMIT_LOGIN_FAILURES`` per client, scope ``login-failures``)
counts every failed step of signing in or proving who you are: the password, the 2FA code,
a recovery code, a 2FA rescue request, a reset or confirmation link whose token is wrong, a
confirmation resend for an address that cannot have one. Successful steps never count, and
GET of a form is never limited (only the token links, which are themselves the guess).
Account e-mails (register, reset, confirmation resend) also count every POST against
``RATELIMIT_ACCOUNT_EMAILS``.

A step's outcome is read from Flask-Security's signals (a flag on ``g``), not from the status
code: failed forms answer 200 and bad links redirect, like successes.
"""

from flask import current_app, g, request, session
from flask_security import (
    confirm_instructions_sent,
    current_user,
    password_reset,
    tf_code_confirmed,
    tf_profile_changed,
    user_authenticated,
    user_confirmed,
)
from flask_security.confirmable import confirm_email_token_status
from flask_security.recoverable import reset_password_token_status

from app.extensions import limiter

FAILURES_SCOPE = "login-failures"
SUCCESS_SIGNALS = (
    user_authenticated,  # login, 2FA code or recovery code accepted
    tf_code_confirmed,
    tf_profile_changed,  # a 2FA setup confirmed by its code
    password_reset,
    user_confirmed,
    confirm_instructions_sent,
)


def _step_succeeded(_sender, **_extra) -> None:
    g.account_step_succeeded = True


def _succeeded() -> bool:
    return g.get("account_step_succeeded", False)


def login_failed(_response) -> bool:
    """A login POST failed when nobody is signed in and no 2FA step is pending."""
    return not current_user.is_authenticated and "tf_user_id" not in session


def step_failed(_response) -> bool:
    """A 2FA code, recovery code or confirmation resend that Flask-Security did not accept."""
    return not _succeeded()


def every_request(_response) -> bool:
    """A 2FA rescue never signs anyone in; each one mails a code or the support desk."""
    return True


def _token_link_failed(token_status):
    def failed(_response) -> bool:
        if _succeeded():
            return False
        expired, invalid, _user = token_status((request.view_args or {}).get("token", ""))
        return expired or invalid

    return failed


reset_link_failed = _token_link_failed(reset_password_token_status)
confirm_link_failed = _token_link_failed(confirm_email_token_status)


def failures_limit():
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


def emails_limit():
    return current_app.config["RATELIMIT_ACCOUNT_EMAILS"]


def _failures(deduct_when, methods=("POST",)):
    return limiter.shared_limit(
        failures_limit, scope=FAILURES_SCOPE, methods=list(methods), deduct_when=deduct_when
    )


def apply_account_limits(app) -> None:
    for signal in SUCCESS_SIGNALS:
        signal.connect_via(app)(_step_succeeded)
    views = app.view_functions
    for endpoint in ("security.register", "security.forgot_password", "security.send_confirmation"):
        if endpoint in views:
            views[endpoint] = limiter.shared_limit(emails_limit, scope=endpoint, methods=["POST"])(
                views[endpoint]
            )
    failures = {
        "security.login": _failures(login_failed),
        "security.two_factor_token_validation": _failures(step_failed),
        "security.mf_recovery": _failures(step_failed),
        "security.two_factor_rescue": _failures(every_request),
        "security.reset_password": _failures(reset_link_failed, ("GET", "POST")),
        "security.confirm_email": _failures(confirm_link_failed, ("GET", "POST")),
        "security.send_confirmation": _failures(step_failed),
    }
    for endpoint, decorate in failures.items():
        if endpoint in views:
            views[endpoint] = decorate(views[endpoint])
