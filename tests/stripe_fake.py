"""An offline fake of the few Stripe API endpoints the shop calls, for tests.

A werkzeug server on 127.0.0.1 (a port of its own) answering as Stripe's API documents:
``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/<id>`` (``expand[]``),
``GET /v1/payment_intents/<id>`` and ``POST /v1/refunds``, form-encoded requests as
stripe-python sends them, ``Idempotency-Key`` honoured on POSTs, Stripe-shaped errors. As on
Stripe (API version 2022-08-01 on), a session's PaymentIntent is created when the customer
confirms the payment (``pay``, ``decline``), not with the session.

The test plays the customer and Stripe's side with ``pay``, ``decline``, ``expire``,
``refund_in_dashboard``, ``fail_next`` (errors and lost answers) and ``event`` (a signed webhook);
a browser can pay at the session's ``url`` (a page with Pay, Decline and Back buttons).
"""

import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
from html import escape
from typing import Any

import stripe
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

API_VERSION = stripe.api_version  # what the library sends, and reads in events
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"  # the fake's own, not a secret


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def parse_form(pairs) -> dict:
    """Stripe's form encoding back to objects: ``a[0][b]=1`` -> ``{"a": [{"b": "1"}]}``."""
    root: dict = {}
    for key, value in pairs:
        path = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for i, part in enumerate(path[:-1]):
            node = node.setdefault(part, {})
            if path[i + 1] == "":  # expand[]=a: the next free index
                path[i + 1] = str(len(node))
        node[path[-1]] = value
    return _lists(root)


def _lists(node):
    """Objects whose keys are 0..n-1 (an encoded array) become lists."""
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if node and sorted(node) == sorted(str(i) for i in range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


class ApiError(HTTPException):
    """An answer in Stripe's error shape: ``{"error": {"type", "message", "code"?, "param"?}}``."""

    def __init__(self, status: int, kind: str, message: str, code=None, param=None):
        error = {"type": kind, "message": message}
        error.update({k: v for k, v in (("code", code), ("param", param)) if v})
        response = Response(json.dumps({"error": error}), status, mimetype="application/json")
        super().__init__(message, response=response)


def missing(kind: str, object_id: str) -> ApiError:
    return ApiError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param="id",
    )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class StripeFake:
    """The fake's state and its WSGI app; ``start`` serves it in a daemon thread."""

    def __init__(self, webhook_secret: str = WEBHOOK_SECRET):
        self._webhook_secret = self.webhook_secret = webhook_secret
        self.url = ""
        self._lock = threading.RLock()
        self._server: Any = None
        self._map = Map(
            [
                Rule("/v1/checkout/sessions", methods=["POST"], endpoint="create_session"),
                Rule("/v1/checkout/sessions/<id>", methods=["GET"], endpoint="get_session"),
                Rule(
                    "/v1/checkout/sessions/<id>/expire", methods=["POST"], endpoint="expire_session"
                ),
                Rule("/v1/payment_intents/<id>", methods=["GET"], endpoint="get_intent"),
                Rule("/v1/refunds", methods=["POST"], endpoint="create_refund"),
                Rule("/v1/refunds", methods=["GET"], endpoint="list_refunds"),
            ]
        )
        self.reset()

    def reset(self) -> None:
        """Forget every object, request and pending failure; sign with the first secret."""
        with self._lock:
            self.webhook_secret = self._webhook_secret
            self.sessions: dict[str, dict] = {}
            self.intents: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.requests: list[dict] = []  # method, path, params, idempotency_key
            self._idempotent: dict[str, tuple[str, dict, int, bytes]] = {}
            self._failures: list[str] = []

    # -- serving -------------------------------------------------------------------------

    def start(self) -> "StripeFake":
        self._server = make_server("127.0.0.1", 0, self, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith("/c/pay/"):
            return self._hosted_page(request)(environ, start_response)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            try:
                if failure == "error":
                    raise ApiError(500, "api_error", "An unknown error occurred (the fake).")
                response = self._answer(request)
            except HTTPException as error:
                response = error.get_response(environ)
        if failure == "drop":  # done, but the answer never arrives
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        response.headers["Request-Id"] = _id("req")
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if not request.headers.get("Authorization", "").startswith("Bearer sk_test_"):
            raise ApiError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth.",
            )
        endpoint, args = self._map.bind_to_environ(request.environ).match()
        params = parse_form(
            (request.form if request.method == "POST" else request.args).items(multi=True)
        )
        key = request.headers.get("Idempotency-Key")
        self.requests.append(
            {"method": request.method, "path": request.path, "params": params, "key": key}
        )
        if request.method == "POST" and key:
            return self._idempotently(key, request.path, params, endpoint, args)
        return self._json(getattr(self, f"_{endpoint}")(params, **args))

    def _idempotently(
        self, key: str, path: str, params: dict, endpoint: str, args: dict
    ) -> Response:
        """Stripe replays the first answer to a key; other parameters under it are an error."""
        if key in self._idempotent:
            first_path, first_params, status, body = self._idempotent[key]
            if (first_path, first_params) != (path, params):
                raise ApiError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                )
            return Response(body, status, mimetype="application/json")
        try:
            response = self._json(getattr(self, f"_{endpoint}")(params, **args))
        except HTTPException as error:
            response = error.get_response()
        self._idempotent[key] = (path, params, response.status_code, response.get_data())
        return response

    @staticmethod
    def _json(obj: dict) -> Response:
        return Response(json.dumps(obj), mimetype="application/json")

    # -- the API -------------------------------------------------------------------------

    def _create_session(self, params: dict) -> dict:
        try:
            [item] = params["line_items"]
            price = item["price_data"]
            amount = int(price["unit_amount"]) * int(item.get("quantity", 1))
        except (KeyError, ValueError, TypeError):
            raise ApiError(
                400, "invalid_request_error", "Invalid line_items.", param="line_items"
            ) from None
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise ApiError(400, "invalid_request_error", f"Missing {name}.", param=name)
        if amount < 50:
            raise ApiError(
                400,
                "invalid_request_error",
                "The Checkout Session's total amount due must add up to at least €0.50 eur",
                code="amount_too_small",
            )
        now = int(time.time())
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params["cancel_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": price["currency"],
            "customer_email": params.get("customer_email"),
            "expires_at": int(params.get("expires_at", now + 24 * 60 * 60)),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{self.url}/c/pay/{session_id}",
            "_intent_metadata": params.get("payment_intent_data", {}).get("metadata", {}),
        }
        self.sessions[session_id] = session
        return self._public(session)

    def _get_session(self, params: dict, id: str) -> dict:
        if id not in self.sessions:
            raise missing("checkout.session", id)
        session = self._public(self.sessions[id])
        if "payment_intent" in params.get("expand", []) and session["payment_intent"]:
            session["payment_intent"] = dict(self.intents[session["payment_intent"]])
        return session

    def _expire_session(self, params: dict, id: str) -> dict:
        if id not in self.sessions:
            raise missing("checkout.session", id)
        if self.sessions[id]["status"] != "open":
            raise ApiError(
                400,
                "invalid_request_error",
                'Only Checkout Sessions with a status in ["open"] can be expired.',
            )
        self.expire(id)
        return self._public(self.sessions[id])

    def _get_intent(self, params: dict, id: str) -> dict:
        if id not in self.intents:
            raise missing("payment_intent", id)
        return dict(self.intents[id])

    def _create_refund(self, params: dict) -> dict:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            raise missing("payment_intent", params.get("payment_intent", ""))
        if intent["status"] != "succeeded":
            raise ApiError(
                400,
                "invalid_request_error",
                "This PaymentIntent does not have a successful charge to refund.",
            )
        left = intent["amount_received"] - intent["_refunded"]
        amount = int(params.get("amount", left))
        if left == 0:
            raise ApiError(
                400,
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > left:
            raise ApiError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        return self._refund(intent, amount, params.get("metadata", {}))

    def _list_refunds(self, params: dict) -> dict:
        """GET /v1/refunds?payment_intent=: newest first, as Stripe lists them."""
        found = [
            r for r in self.refunds.values() if r["payment_intent"] == params.get("payment_intent")
        ]
        return {
            "object": "list",
            "data": list(reversed(found)),
            "has_more": False,
            "url": "/v1/refunds",
        }

    def _refund(self, intent: dict, amount: int, metadata: dict | None = None) -> dict:
        intent["_refunded"] += amount
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": metadata or {},
            "payment_intent": intent["id"],
            "reason": None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return refund

    @staticmethod
    def _public(obj: dict) -> dict:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _hosted_page(self, request: Request) -> Response:
        """Stripe's payment page at a session's ``url``, reduced to buttons (browser tests):
        Pay and Cancel go back to ``success_url`` ({CHECKOUT_SESSION_ID} filled in) and
        ``cancel_url`` as Stripe does; Decline stays on the page."""
        session_id = request.path.rsplit("/", 1)[-1]
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session["status"] != "open":
                return Response("This Checkout Session is no longer active.", 404)
            action = request.form.get("action") if request.method == "POST" else None
            if action == "pay":
                self.pay(session_id)
                url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                return redirect(url, 303)
            if action == "cancel":
                return redirect(session["cancel_url"], 303)
            if action == "decline":
                self.decline(session_id)
            amount = escape(f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}")
        buttons = "".join(
            f'<button name="action" value="{value}">{label}</button>'
            for value, label in (
                ("pay", f"Pay {amount}"),
                ("decline", "Decline"),
                ("cancel", "Back"),
            )
        )
        message = "<p>Your card was declined.</p>" if action == "decline" else ""
        page = '<!doctype html><title>Fake Stripe Checkout</title><link rel="icon" href="data:,">'
        page += message
        page += f'<form method="post">{buttons}</form>'
        return Response(page, mimetype="text/html")

    # -- the test's controls -------------------------------------------------------------

    def _confirm(self, session_id: str, status: str, error: dict | None = None) -> dict:
        """The customer submits the form: the session's PaymentIntent, made on first use."""
        session = self.sessions[session_id]
        assert session["status"] == "open", f"session {session_id} is {session['status']}"
        if session["payment_intent"] is None:
            session["payment_intent"] = _id("pi")
            self.intents[session["payment_intent"]] = {
                "id": session["payment_intent"],
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0,
                "created": int(time.time()),
                "currency": session["currency"],
                "latest_charge": None,
                "livemode": False,
                "metadata": session["_intent_metadata"],
                "_refunded": 0,
            }
        intent = self.intents[session["payment_intent"]]
        intent["status"] = status
        intent["last_payment_error"] = error
        if status == "succeeded":
            intent["amount_received"] = intent["amount"]
            intent["latest_charge"] = _id("ch")
        return intent

    def pay(self, session_id: str) -> str:
        """The customer pays: the session is complete and paid; returns the PaymentIntent id."""
        with self._lock:
            intent = self._confirm(session_id, "succeeded")
            self.sessions[session_id].update(status="complete", payment_status="paid")
            return intent["id"]

    def decline(self, session_id: str) -> str:
        """The customer's card is declined: the session stays open (they may try another)."""
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
        }
        with self._lock:
            return self._confirm(session_id, "requires_payment_method", error)["id"]

    def expire(self, session_id: str) -> None:
        """The session expires unpaid (after 24 hours, or expired through the API)."""
        with self._lock:
            session = self.sessions[session_id]
            assert session["status"] == "open", f"session {session_id} is {session['status']}"
            session["status"] = "expired"
            if session["payment_intent"]:
                self.intents[session["payment_intent"]]["status"] = "canceled"

    def refund_in_dashboard(self, pi_id: str, amount: int) -> dict:
        """Someone refunds in Stripe's dashboard, outside the shop: the Refund object."""
        with self._lock:
            return self._refund(self.intents[pi_id], amount)

    def fail_next(self, count: int = 1, how: str = "error") -> None:
        """The next ``count`` requests fail: ``"error"`` answers 500 without doing anything,
        ``"drop"`` does the work and closes the connection without answering (a lost answer)."""
        assert how in ("error", "drop")
        with self._lock:
            self._failures.extend([how] * count)

    def intent(self, intent_id: str) -> dict:
        """A PaymentIntent as the API shows it."""
        with self._lock:
            return self._public(self.intents[intent_id])

    def charge(self, intent_id: str) -> dict:
        """The PaymentIntent's Charge, as a ``charge.*`` event carries it (refunds not listed,
        as in Stripe's API since 2022-11-15)."""
        with self._lock:
            intent = self.intents[intent_id]
            return {
                "id": intent["latest_charge"],
                "object": "charge",
                "amount": intent["amount_received"],
                "amount_refunded": intent["_refunded"],
                "currency": intent["currency"],
                "metadata": {},
                "payment_intent": intent_id,
                "refunded": intent["_refunded"] == intent["amount_received"],
                "status": "succeeded",
            }

    def session(self, session_id: str) -> dict:
        """A session as the API shows it."""
        with self._lock:
            return self._public(self.sessions[session_id])

    def event(self, type: str, obj: dict, *, timestamp: int | None = None) -> tuple[bytes, str]:
        """A webhook delivery of a ``type`` event about ``obj``: its body and Stripe-Signature
        header (``t=<time>,v1=<HMAC-SHA256 of "<time>.<body>" with the webhook secret>``)."""
        event = {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        payload = json.dumps(event).encode()
        signed_at = int(time.time()) if timestamp is None else timestamp
        signature = hmac.new(
            self.webhook_secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        return payload, f"t={signed_at},v1={signature}"
