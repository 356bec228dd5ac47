"""Prometheus metrics at /metrics: request latency per endpoint (prometheus-flask-exporter),
orders placed, payment outcomes and job runs.

Under uwsgi the workers' numbers add up: prometheus_client's multiprocess mode keeps each
worker's in files under PROMETHEUS_MULTIPROC_DIR (set in the environment before the app starts)
and /metrics sums them. Elsewhere (``make run``, tests) each app counts in a registry of its
own, so that the many apps of a test run never register one metric twice.

/metrics answers only loopback callers that came through no proxy, or a caller with
``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets 404, as if there were none.
"""

import hmac
import logging
import os

from flask import Flask, abort, current_app, has_app_context, request
from prometheus_client import CollectorRegistry, Counter
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import UWsgiPrometheusMetrics

from app.extensions import limiter

log = logging.getLogger(__name__)

PATH = "/metrics"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
PAYMENT_OUTCOMES = ("succeeded", "pending", "processing", "declined", "failed")


class ShopMetrics:
    """The app's exporter and the shop's own counters, all in the exporter's registry."""

    def __init__(self, exporter: PrometheusMetrics):
        self.exporter = exporter
        registry = exporter.registry
        self.orders_placed = Counter(
            "storefront_orders_placed",
            "Orders placed (stock taken, order written)",
            [],
            registry=registry,
        )
        self.payments = Counter(
            "storefront_payments",
            "Payment outcomes as recorded (declined: refused at checkout, no order kept; "
            "failed: the provider could not be reached)",
            ["outcome"],
            registry=registry,
        )
        self.jobs = Counter(
            "storefront_jobs",
            "Job runs by outcome (done, retried, failed: kept for an admin)",
            ["job", "outcome"],
            registry=registry,
        )


def multiprocess() -> bool:
    """Whether the workers share their numbers through PROMETHEUS_MULTIPROC_DIR."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def init_app(app: Flask, under_uwsgi: bool) -> None:
    """The exporter (latency histograms grouped by endpoint, not path) and the /metrics view."""
    options = {"path": None, "group_by": "endpoint", "defaults_prefix": "storefront"}
    if multiprocess():
        exporter: PrometheusMetrics = UWsgiPrometheusMetrics(app=None, **options)
    else:
        if under_uwsgi:
            log.warning(
                "PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows one uwsgi worker's numbers"
            )
        exporter = PrometheusMetrics(app=None, registry=CollectorRegistry(), **options)
    exporter.init_app(app)
    app.extensions["metrics"] = ShopMetrics(exporter)
    app.add_url_rule(PATH, "metrics", metrics_view)


@limiter.exempt
@PrometheusMetrics.do_not_track()
def metrics_view():
    """The metrics, for loopback or the bearer of METRICS_TOKEN; 404 for anyone else."""
    if not allowed():
        abort(404)
    body, content_type = current_app.extensions["metrics"].exporter.generate_metrics(
        request.headers.get("Accept")
    )
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


def allowed() -> bool:
    """A loopback caller that no proxy forwarded (a proxy on this machine is loopback too), or
    the bearer of METRICS_TOKEN."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), str(token).encode()
        ):
            return True
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote_addr in LOOPBACK and not forwarded


def _shop_metrics() -> ShopMetrics | None:
    if not has_app_context():
        return None
    return current_app.extensions.get("metrics")


def order_placed() -> None:
    metrics = _shop_metrics()
    if metrics is not None:
        metrics.orders_placed.inc()


def payment(outcome: str) -> None:
    """Count a payment's outcome (one of PAYMENT_OUTCOMES)."""
    metrics = _shop_metrics()
    if metrics is not None:
        metrics.payments.labels(outcome=outcome).inc()


def job_run(job: str, outcome: str) -> None:
    """Count a job's run: done, retried or failed."""
    metrics = _shop_metrics()
    if metrics is not None:
        metrics.jobs.labels(job=job, outcome=outcome).inc()
