"""JSON API tests, one module per domain. Tokens and the error shape: tests.helpers; the
callers below (token client, logged-in browser, anonymous browser) on top of them."""

from app.accounts.services import ensure_roles
from tests.helpers import TOKEN_HEADER, csrf_token, get_token, login

EMAILS = {
    "customer": "customer@example.com",
    "other": "other@example.com",
    "admin": "admin@example.com",
}


class Caller:
    """One party calling the API with its own test client, its credentials on every request."""

    def __init__(self, client, headers: dict[str, str]):
        self.client = client
        self.headers = headers

    def open(self, method: str, path: str, headers=None, **kwargs):
        return self.client.open(
            path, method=method, headers={**self.headers, **(headers or {})}, **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


def make_callers(app, user_factory):
    """Create customer, other customer and admin; return ``caller(role, auth)``.

    ``auth`` is "token" (Authentication-Token header), "session" (logged-in browser sending
    X-CSRF-Token) or, for the role "anonymous", "cookie" (a browser with a session for the
    CSRF token and, after its first add, the cart cookie).
    """
    user_factory(email=EMAILS["customer"])
    user_factory(email=EMAILS["other"])
    with app.app_context():
        ensure_roles()
    user_factory(email=EMAILS["admin"], roles=["admin"])

    def caller(role: str, auth: str = "token") -> Caller:
        client = app.test_client()
        if role == "anonymous":
            return Caller(client, {"X-CSRF-Token": csrf_token(client, "/")})
        if auth == "token":
            token = get_token(client, email=EMAILS[role]).get_json()["token"]
            return Caller(client, {TOKEN_HEADER: token})
        login(client, email=EMAILS[role])
        return Caller(client, {"X-CSRF-Token": csrf_token(client, "/account")})

    return caller


def as_role(client, role, tokens, method) -> dict:
    """Headers for a role: a token, or for anonymous a browser session's CSRF token (so the
    request gets past the CSRF check to authentication)."""
    if role != "anonymous":
        return tokens[role]
    return {} if method == "GET" else {"X-CSRF-Token": csrf_token(client, "/products")}
