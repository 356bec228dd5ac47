"""Authorization matrix for every shop page: anonymous, customer, other customer, admin."""

import pytest

from app.accounts.services import ensure_roles
from app.cart.services import CartOwner, add_to_cart
from app.orders import checkout as checkout_service
from tests.helpers import ADDRESS, ROLES, csrf_token, login

LOGIN = "login"  # expected: redirect to /login

# (method, path, {role: expected status or LOGIN})
MATRIX = [
    ("GET", "/", dict.fromkeys(ROLES, 200)),
    ("GET", "/products", dict.fromkeys(ROLES, 200)),
    ("GET", "/products/green-tea", dict.fromkeys(ROLES, 200)),
    ("GET", "/cart", dict.fromkeys(ROLES, 200)),
    ("POST", "/cart/add", dict.fromkeys(ROLES, 302)),
    ("GET", "/checkout", {"anonymous": 302, "customer": 200, "other": 302, "admin": 302}),
    ("GET", "/orders", {"anonymous": LOGIN, "customer": 200, "other": 200, "admin": 200}),
    ("GET", "/orders/{number}", {"anonymous": LOGIN, "customer": 200, "other": 404, "admin": 404}),
    (
        "POST",
        "/orders/{number}/cancel",
        {"anonymous": LOGIN, "customer": 302, "other": 404, "admin": 404},
    ),
    ("GET", "/account", {"anonymous": LOGIN, "customer": 200, "other": 200, "admin": 200}),
]


@pytest.fixture
def shop(app, user_factory, product_factory):
    customer = user_factory(email="customer@example.com")
    user_factory(email="other@example.com")
    with app.app_context():
        ensure_roles()
    user_factory(email="admin@example.com", roles=["admin"])
    tea = product_factory("Green Tea", stock=10)
    with app.app_context():
        add_to_cart(CartOwner(user_id=customer), tea, 1)
        number = checkout_service.place_order(customer, "k", ADDRESS, "manual").number
        add_to_cart(CartOwner(user_id=customer), tea, 1)  # something to check out
    return {"number": number, "tea": tea}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)
def test_shop_authorization(app, client, shop, role, method, path, expected):
    if role != "anonymous":
        login(client, email=f"{'customer' if role == 'customer' else role}@example.com")
    url = path.format(number=shop["number"])
    token = csrf_token(client, "/products")

    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(
            url, data={"csrf_token": token, "product_id": shop["tea"], "quantity": "1"}
        )

    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == want
