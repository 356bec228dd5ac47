"""/metrics: Prometheus's text format, for loopback or the bearer of METRICS_TOKEN only; latency
per endpoint, orders placed, payment outcomes and job runs."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.app_factory import create_app
from tests.factories import fill_cart
from tests.helpers import BODY, DECLINED_CARD, TEST_CONFIG, token_headers

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "a-metrics-token-of-some-length"  # noqa: S105  # a test's


def samples(response) -> dict[tuple[str, tuple], float]:
    """Each sample by (name, sorted labels)."""
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def scrape(client) -> dict[tuple[str, tuple], float]:
    return samples(client.get("/metrics"))


def test_loopback_gets_the_metrics_and_anyone_else_404(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    # A proxy on this machine (nginx) is loopback too: what it forwards is not.
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE, headers=auth(TOKEN)).status_code == 404


@pytest.mark.app_config(PROXY_FIX_X_FOR=1)
def test_a_client_through_the_proxy_is_refused(client):
    """With ProxyFix, the client nginx forwards has its own address: refused."""
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status_code == 404


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.app_config(METRICS_TOKEN=TOKEN)
def test_the_bearer_of_metrics_token_gets_them_from_anywhere(client):
    assert client.get("/metrics", environ_base=OUTSIDE, headers=auth(TOKEN)).status_code == 200
    wrong = client.get("/metrics", environ_base=OUTSIDE, headers=auth(TOKEN + "x"))
    assert wrong.status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404


def test_latency_is_grouped_by_endpoint_not_by_path(client, product_factory):
    product_factory("Green Tea")
    product_factory("Black Tea")

    for slug in ("green-tea", "black-tea", "no-such-tea"):
        client.get(f"/products/{slug}")
    found = scrape(client)

    counts = {
        labels: value
        for (name, labels), value in found.items()
        if name == "storefront_http_request_duration_seconds_count"
    }
    detail = [dict(labels) for labels in counts if ("endpoint", "pages.catalog.detail") in labels]
    assert sorted(labels["status"] for labels in detail) == ["200", "404"]
    assert not any("tea" in str(labels) for labels in counts)
    assert not any(dict(labels)["endpoint"] == "metrics" for labels in counts)


def test_orders_payments_and_jobs_are_counted(app, client, filled_cart, product_factory, outbox):
    headers = token_headers(client)

    assert client.post("/api/v1/orders", json=BODY, headers=headers).status_code == 201
    fill_cart(app, filled_cart["user_id"], (product_factory("Oolong"), 1))
    declined = {**BODY, "payment": {"method": "test", "card_number": DECLINED_CARD}}
    assert client.post("/api/v1/orders", json=declined, headers=headers).status_code == 402
    found = scrape(client)

    assert found[("storefront_orders_placed_total", ())] == 2  # the declined one went again
    assert found[("storefront_payments_total", (("outcome", "succeeded"),))] == 1
    assert found[("storefront_payments_total", (("outcome", "declined"),))] == 1
    done = (("job", "orders.mail"), ("outcome", "done"))
    assert found[("storefront_jobs_total", done)] == 1  # the confirmation
    assert len(outbox) == 1


def test_each_app_counts_in_its_own_registry():
    """Tests make many apps: none registers a metric twice, none sees another's counts."""
    first = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    first.test_client().get("/api/v1/")

    def requests_to_root(app) -> float:
        found = scrape(app.test_client())
        return sum(
            value
            for (name, labels), value in found.items()
            if name == "storefront_http_request_duration_seconds_count"
            and ("endpoint", "api.meta.index") in labels
        )

    assert (requests_to_root(first), requests_to_root(second)) == (1, 0)
