"""TOTP codes that work once: Flask-Security's Totp with passlib's replay protection.

passlib refuses a code whose time step is not newer than the last one used
(``last_counter``); Flask-Security leaves storing that counter to the application. It lives
on the user row (``tf_totp_last_counter``) and is advanced by a conditional UPDATE, so two
requests racing with the same code cannot both pass: the database decides, and the second
one matches no row. The row stays locked until the request's transaction ends, which the
views that check a code (2FA login and setup, the API token endpoint) commit at once.

This module imports nothing from the app: ``app.extensions`` builds Security with it.
"""

from flask_security import Totp
from passlib.exc import UsedTokenError
from sqlalchemy import or_, update
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value


class SingleUseTotp(Totp):
    def get_last_counter(self, user) -> int | None:
        return user.tf_totp_last_counter

    def set_last_counter(self, user, tmatch) -> None:
        """Record the code's time step, or refuse it when another request used it first.

        Raising passlib's TokenError here makes ``verify_totp`` answer False.
        """
        user = getattr(user, "_get_current_object", lambda: user)()  # current_user in setup
        model = type(user)
        session = object_session(user)
        if session is None:  # a detached user: no row to decide on
            raise UsedTokenError(expire_time=tmatch.expire_time)
        result = session.execute(
            update(model)
            .where(
                model.id == user.id,
                or_(
                    model.tf_totp_last_counter.is_(None),
                    model.tf_totp_last_counter < tmatch.counter,
                ),
            )
            .values(tf_totp_last_counter=tmatch.counter)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # DML: a CursorResult
            raise UsedTokenError(expire_time=tmatch.expire_time)
        set_committed_value(user, "tf_totp_last_counter", tmatch.counter)
