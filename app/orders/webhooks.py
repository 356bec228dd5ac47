"""Webhooks: payment providers tell us about payments (machine callers, signed, no session)."""

import logging

from flask import Blueprint, abort, current_app, jsonify, request

from app.extensions import limiter
from app.orders import provider_events

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/stripe")
@limiter.exempt  # Stripe retries for days; the signature keeps others out
def stripe():
    """A Stripe event: 400 (and nothing changed) unless signed with STRIPE_WEBHOOK_SECRET."""
    if "stripe" not in current_app.config["PAYMENT_METHODS"]:
        abort(404)
    event = provider_events.stripe_provider().parse_webhook(
        request.get_data(), request.headers.get("Stripe-Signature")
    )
    outcome = provider_events.apply_stripe_event(event)
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return jsonify(received=True, outcome=outcome)
