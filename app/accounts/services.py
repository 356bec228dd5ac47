"""Account use cases that Flask-Security does not provide as views: API tokens, roles, admins."""

from typing import cast

from flask import current_app
from flask_security import hash_password, verify_and_update_password
from flask_security.confirmable import confirm_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.datastore import ROLE_DESCRIPTIONS, user_datastore
from app.accounts.models import ADMIN, CUSTOMER, Role, User
from app.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from app.extensions import db, security
from app.transactions import atomic

BAD_CREDENTIALS = "Invalid e-mail, password or two-factor code."


def issue_api_token(email: str, password: str, code: str | None = None) -> str:
    """Check credentials (and the TOTP code when 2FA is on); return an auth token.

    Every failure gives the same message and costs one password hash, so the endpoint
    does not reveal which accounts exist. Unconfirmed and inactive accounts get no token.
    """
    user = cast(User | None, user_datastore.find_user(case_insensitive=True, email=email.strip()))
    if user is None:
        # As Flask-Security's login form does: one hash of the configured scheme, so an
        # unknown e-mail costs as long as a wrong password and the timing tells nothing.
        hash_password(password)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if not verify_and_update_password(password, user):
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if not user.active:
        raise AuthenticationFailed("This account is disabled.")
    if current_app.config["SECURITY_CONFIRMABLE"] and user.confirmed_at is None:
        raise AuthenticationFailed("Confirm your e-mail address before asking for a token.")
    if user.two_factor_enabled and not _totp_ok(user, code):
        raise AuthenticationFailed(BAD_CREDENTIALS)
    token = user.get_auth_token()  # a str since Flask-Security 4, still typed str | bytes
    db.session.commit()  # a password re-hash or TOTP counter may have changed
    return token if isinstance(token, str) else token.decode()


def _totp_ok(user: User, code: str | None) -> bool:
    if not code or user.tf_primary_method != "authenticator":
        return False
    return security.totp_factory.verify_totp(
        token=code.replace(" ", ""),
        totp_secret=user.tf_totp_secret,  # type: ignore[arg-type]  # fsqla declares Column
        user=user,
        window=current_app.config["SECURITY_TWO_FACTOR_AUTHENTICATOR_VALIDITY"],
    )


def revoke_all_sessions(user: User) -> None:
    """Invalidate every auth token and every session of the user (new fs_uniquifier)."""
    user_datastore.set_uniquifier(user)
    db.session.commit()


def confirm_email(email: str) -> bool:
    """Mark an account's e-mail as confirmed (for admins made from the command line).

    Returns False when it was confirmed already.
    """
    user = user_datastore.find_user(case_insensitive=True, email=email.strip())
    if user is None:
        raise NotFound(f"No user with e-mail {email}.")
    changed = confirm_user(user)
    db.session.commit()
    return changed


def create_admin(email: str, password: str) -> User:
    """Create a confirmed, active admin (also a customer): the shop's first admin, from the CLI.

    The e-mail and password pass Flask-Security's own checks, as at sign-up (length, breach
    and zxcvbn score as configured).

    :raises ValidationFailed: the e-mail is invalid or the password too weak.
    :raises Conflict: an account with this e-mail exists.
    """
    try:
        email = security._mail_util.validate(email.strip())
    except ValueError as error:  # Flask-Security's EmailValidateException
        raise ValidationFailed(str(error), {"email": [str(error)]}) from error
    problems, password = security._password_util.validate(password, True, email=email)
    if problems:
        raise ValidationFailed(" ".join(problems), {"password": list(problems)})
    existing = user_datastore.find_user(case_insensitive=True, email=email)
    if existing is not None:
        raise _email_taken(existing.email)
    user = user_datastore.create_user(
        email=email,
        password=hash_password(password),
        active=True,
        roles=[user_datastore.find_or_create_role(name) for name in (ADMIN, CUSTOMER)],
    )
    confirm_user(user)
    try:
        db.session.commit()
    except IntegrityError as error:  # created meanwhile by someone else
        db.session.rollback()
        raise _email_taken(email) from error
    return cast(User, user)


def _email_taken(email: str) -> Conflict:
    return Conflict(
        f"A user with e-mail {email} already exists. To make them an admin, run "
        f"`users confirm {email}` and `roles add {email} {ADMIN}` instead."
    )


def admin_exists() -> bool:
    """Whether any user has the admin role."""
    admin = select(User).where(User.roles.any(Role.name == ADMIN)).limit(1)
    return db.session.scalars(admin).first() is not None


def ensure_roles() -> list[str]:
    """Create the built-in roles that are missing; return the names created."""
    created = [name for name in ROLE_DESCRIPTIONS if user_datastore.find_role(name) is None]
    for name in created:
        user_datastore.find_or_create_role(name)
    db.session.commit()
    return created


def user_summary(user: User) -> dict:
    """The public view of a user, for the account page and the API."""
    return {
        "id": user.id,
        "email": user.email,
        "roles": user.role_names,
        "confirmed": user.confirmed_at is not None,
        "two_factor": user.two_factor_enabled,
    }


@atomic
def remember_locale(user_id: int, locale: str) -> None:
    """The language the member chose (a LANGUAGES locale), theirs again at each sign-in."""
    user = db.session.get(User, user_id)
    if user is not None:
        user.locale = locale
