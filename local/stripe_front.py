"""The local stack's Stripe: a front speaking Stripe's wire format for what localstripe lacks,
in front of localstripe for everything else, so the real ``stripe`` client runs against it.

``local/stack serve-stripe`` (:mod:`stack.stripe_server`) runs localstripe on a private loopback
port and this front on the stripe component's port (``STRIPE_API_BASE``). The front itself serves:

- Checkout Sessions: ``POST /v1/checkout/sessions`` (checks the mode, ``success_url``, that
  every line item's price and the customer exist) and ``GET /v1/checkout/sessions/{id}``.
- Billing Portal sessions: ``POST /v1/billing_portal/sessions`` (the customer must exist).
- Prices: ``POST /v1/prices`` (recurring only), ``GET /v1/prices/{id}`` and ``GET /v1/prices``.
  localstripe has legacy Plans only, so a price *is* a localstripe plan under the price's
  id, shown as a Price; subscriptions made from a checkout use that plan.
  :meth:`StripeFront.ensure_price` creates one at start (the stack's ``STRIPE_PRICE_PRO``).
- ``Idempotency-Key`` on every POST, as Stripe does (localstripe ignores it): the first
  answer under a key (per API key, for 24 h) is stored and replayed with
  ``Idempotent-Replayed: true``; concurrent requests with one key wait for the first; the
  key reused with other parameters is a 400 ``idempotency_error``. 5xx answers are not kept.

Every other request (customers, subscriptions, payment methods, plans, invoices, events...)
is proxied unchanged to localstripe, which checks its API key itself. The front's own routes
want a secret key (``sk_...``, as Bearer or Basic), like Stripe.

Local-only routes, for tests and for trying things by hand (API key required):

- ``POST /_test/checkout/{id}/complete`` plays the customer paying on the hosted page: a test
  card is attached to the customer and made its default, the subscription is created in
  localstripe (with the session's ``subscription_data[metadata]``), the session completed,
  and ``{"session", "subscription", "event"}`` returned, where ``event`` is the
  ``checkout.session.completed`` event's payload (unsigned: whoever delivers it signs it).
- ``GET /_test/requests[?method=POST&path=/v1/checkout/sessions]``: the last requests the
  front received (newest last, at most :data:`REQUEST_LOG_SIZE`), each
  ``{method, path, query, form, idempotencyKey, status, replayed, time}``, query and form
  decoded (never the API key).

The session URLs are Stripe's hosted pages (:mod:`stripe_hosted`): ``/c/pay/{id}`` a Checkout
form a browser pays with (``POST /c/pay/{id}``, no API key: the session is paid as by
``/_test/.../complete``, ``checkout.session.completed`` is delivered, signed, to the webhook
endpoints ``--webhook URL=ENV``, and the browser sent to ``success_url``), ``/p/session/{id}``
the portal with a link back to ``return_url``; ``GET /_test/webhooks`` lists the events sent
and their deliveries. Sessions and idempotency answers live in memory, or in ``state_path`` (JSON,
rewritten on every change) when given. Standard library and ``requests`` only.

Run alone (the stack does this for you)::

    python local/stripe_front.py --upstream http://127.0.0.1:8421 --port 8420 [--price price_x] \\
        [--webhook http://127.0.0.1:8000/stripe-webhook=STRIPE_WEBHOOK_SECRET]
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from stripe_hosted import Webhooks, card_accepted, checkout_page, portal_page, success_url, webhooks_from_args

HOST = "127.0.0.1"
API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_TTL = 24 * 3600  # seconds, as Stripe
REQUEST_LOG_SIZE = 2000
INTERNAL_KEY = "sk_test_stripe_front"  # the front's own calls to localstripe (it takes any sk_ key)
TEST_CARD = {
    "type": "card",
    "card[number]": "4242424242424242",
    "card[exp_month]": "12",
    "card[exp_year]": "2035",
    "card[cvc]": "123",
}

Answer = tuple[int, dict[str, Any]]


def decode_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=x`` → ``{"a": {"b": [{"c": "x"}]}}`` (Stripe's form encoding)."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: Any = value if last else ([] if parts[i + 1].isdigit() else {})
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if node[idx] is None or last:
                    node[idx] = nxt
                node = node[idx]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return out


def api_key(authorization: str) -> str | None:
    """The secret key of an ``Authorization`` header (Bearer, or Basic with the key as user)."""
    scheme, _, value = authorization.partition(" ")
    if scheme == "Basic":
        try:
            value = base64.b64decode(value).decode().split(":", 1)[0]
        except ValueError:
            return None
    elif scheme != "Bearer":
        return None
    return value if value.startswith("sk_") and len(value) > 3 else None


def error(status: int, message: str, param: str | None = None, kind: str = "invalid_request_error") -> Answer:
    return status, {"error": {"type": kind, "message": message, "param": param}}


def price_of_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """A localstripe (legacy) plan shown as the recurring Price it stands for."""
    return {
        "id": plan["id"],
        "object": "price",
        "active": plan.get("active", True),
        "billing_scheme": plan.get("billing_scheme", "per_unit"),
        "created": plan.get("created"),
        "currency": plan.get("currency"),
        "livemode": False,
        "lookup_key": None,
        "metadata": plan.get("metadata") or {},
        "nickname": plan.get("nickname"),
        "product": plan.get("product"),
        "recurring": {
            "interval": plan.get("interval"),
            "interval_count": plan.get("interval_count", 1),
            "usage_type": plan.get("usage_type", "licensed"),
        },
        "type": "recurring",
        "unit_amount": plan.get("amount"),
    }


def _public(session: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in session.items() if not k.startswith("_")}


class StripeFront:
    """The front: an HTTP server on ``host:port`` (0: a free port), localstripe at ``upstream``."""

    def __init__(
        self,
        upstream: str,
        *,
        host: str = HOST,
        port: int = 0,
        state_path: Path | None = None,
        webhooks: Webhooks | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.webhooks = webhooks or Webhooks([])
        self.host, self.port = host, port
        self.state_path = state_path
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        # (hash of the API key, Idempotency-Key) -> fingerprint, status, body, time
        self._idem: dict[str, dict[str, Any]] = {}
        self._idem_locks: dict[str, threading.Lock] = {}
        self._lock = threading.RLock()
        self._completing = threading.Lock()  # one payment at a time: a session is completed once
        self.requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._load()
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> StripeFront:
        """Bind (raises ``OSError`` if the port is taken) and serve in a background thread."""
        self.server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="stripe-front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # -- state ----------------------------------------------------------------------------

    def _load(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        state = json.loads(self.state_path.read_text())
        self.checkout_sessions = state.get("checkoutSessions", {})
        self.portal_sessions = state.get("portalSessions", {})
        self._idem = state.get("idempotency", {})

    def _save(self) -> None:
        """Write the state file, if any (callers hold ``self._lock``)."""
        if self.state_path is None:
            return
        state = {
            "checkoutSessions": self.checkout_sessions,
            "portalSessions": self.portal_sessions,
            "idempotency": self._idem,
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state) + "\n")
        tmp.replace(self.state_path)

    # -- localstripe ----------------------------------------------------------------------

    def _up(self, method: str, path: str, key: str, data: dict[str, Any] | None = None) -> requests.Response:
        return requests.request(method, f"{self.upstream}{path}", data=data, auth=(key, ""), timeout=30)

    def _customer_exists(self, key: str, customer: str) -> bool:
        r = self._up("GET", f"/v1/customers/{customer}", key)
        return r.status_code == 200 and not r.json().get("deleted")

    def _plan(self, key: str, price: str) -> dict[str, Any] | None:
        r = self._up("GET", f"/v1/plans/{price}", key)
        return dict(r.json()) if r.status_code == 200 else None

    # -- prices ---------------------------------------------------------------------------

    def create_price(self, key: str, form: dict[str, Any]) -> Answer:
        recurring = form.get("recurring")
        if not isinstance(recurring, dict) or not recurring.get("interval"):
            return error(400, "Only recurring prices exist locally: recurring[interval] is required.", "recurring")
        plan: dict[str, Any] = {
            "amount": form.get("unit_amount", ""),
            "currency": form.get("currency", ""),
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", "1"),
        }
        # ``id`` is not Stripe's API (Stripe picks ids): it is how the stack gets a known price id.
        plan["id"] = form.get("id") or "price_" + secrets.token_hex(12)
        if form.get("nickname"):
            plan["nickname"] = form["nickname"]
        if form.get("product"):
            plan["product"] = form["product"]
        else:
            plan["product[name]"] = (form.get("product_data") or {}).get("name") or "Local product"
        for name, value in (form.get("metadata") or {}).items():
            plan[f"metadata[{name}]"] = value
        r = self._up("POST", "/v1/plans", key, plan)
        if r.status_code != 200:
            return r.status_code, r.json()
        return 200, price_of_plan(r.json())

    def ensure_price(
        self, price_id: str, *, unit_amount: int = 900, currency: str = "eur", interval: str = "month", product: str
    ) -> dict[str, Any]:
        """The price ``price_id``, created in localstripe unless it is already there."""
        if not re.fullmatch(r"[A-Za-z0-9_-]+", price_id):
            raise ValueError(f"not a price id: {price_id!r}")
        plan = self._plan(INTERNAL_KEY, price_id)
        if plan is not None:
            return price_of_plan(plan)
        form = {
            "id": price_id,
            "unit_amount": str(unit_amount),
            "currency": currency,
            "recurring": {"interval": interval},
            "product_data": {"name": product},
        }
        status, body = self.create_price(INTERNAL_KEY, form)
        if status != 200:
            raise RuntimeError(f"cannot create the price {price_id}: {status} {body}")
        return body

    def list_prices(self, key: str, query: str) -> Answer:
        r = requests.get(f"{self.upstream}/v1/plans", params=query, auth=(key, ""), timeout=30)
        if r.status_code != 200:
            return r.status_code, r.json()
        listing = dict(r.json())
        listing.update(url="/v1/prices", data=[price_of_plan(p) for p in listing.get("data", [])])
        return 200, listing

    # -- checkout and portal --------------------------------------------------------------

    def create_checkout_session(self, key: str, form: dict[str, Any]) -> Answer:
        if form.get("mode") not in ("payment", "subscription", "setup"):
            return error(400, "Invalid mode", "mode")
        if not form.get("success_url"):
            return error(400, "Missing required param: success_url.", "success_url")
        items = form.get("line_items") or []
        if not items or not isinstance(items, list):
            return error(400, "line_items is required in subscription mode", "line_items")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("price") or self._plan(key, item["price"]) is None:
                price = item.get("price") if isinstance(item, dict) else None
                return error(400, f"No such price: '{price}'", f"line_items[{i}][price]")
        customer = form.get("customer")
        if customer and not self._customer_exists(key, customer):
            return error(400, f"No such customer: '{customer}'", "customer")
        sid = "cs_test_" + secrets.token_hex(16)
        now = int(time.time())
        session = {
            "id": sid,
            "object": "checkout.session",
            "mode": form["mode"],
            "customer": customer,
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "metadata": form.get("metadata") or {},
            "status": "open",
            "payment_status": "unpaid",
            "subscription": None,
            "livemode": False,
            "created": now,
            "expires_at": now + 86400,
            "url": f"{self.url}/c/pay/{sid}",
            "_line_items": items,
            "_subscription_data": form.get("subscription_data") or {},
        }
        with self._lock:
            self.checkout_sessions[sid] = session
            self._save()
        return 200, _public(session)

    def create_portal_session(self, key: str, form: dict[str, Any]) -> Answer:
        customer = form.get("customer")
        if not customer:
            return error(400, "Missing required param: customer.", "customer")
        if not self._customer_exists(key, customer):
            return error(400, f"No such customer: '{customer}'", "customer")
        pid = "bps_" + secrets.token_hex(12)
        session = {
            "id": pid,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": form.get("return_url"),
            "livemode": False,
            "created": int(time.time()),
            "url": f"{self.url}/p/session/{pid}",
        }
        with self._lock:
            self.portal_sessions[pid] = session
            self._save()
        return 200, session

    def complete_checkout(self, key: str, sid: str) -> Answer:
        """The customer pays: a card, the subscription (in localstripe), the completed session."""
        with self._completing:
            return self._complete_checkout(key, sid)

    def _complete_checkout(self, key: str, sid: str) -> Answer:
        session = self.checkout_sessions.get(sid)
        if session is None:
            return error(404, f"No such checkout.session: '{sid}'", "id")
        if session["status"] != "open" or session["mode"] != "subscription" or not session["customer"]:
            return error(400, "Only an open subscription-mode session with a customer can be completed locally.")
        customer = session["customer"]
        pm = self._up("POST", "/v1/payment_methods", key, TEST_CARD)
        pm.raise_for_status()
        pm_id = pm.json()["id"]
        self._up("POST", f"/v1/payment_methods/{pm_id}/attach", key, {"customer": customer}).raise_for_status()
        default = {"invoice_settings[default_payment_method]": pm_id}
        self._up("POST", f"/v1/customers/{customer}", key, default).raise_for_status()
        data: dict[str, str] = {"customer": customer}
        for i, item in enumerate(session["_line_items"]):
            data[f"items[{i}][plan]"] = item["price"]  # the price's plan, under the same id
            data[f"items[{i}][quantity]"] = str(item.get("quantity") or 1)
        for name, value in (session["_subscription_data"].get("metadata") or {}).items():
            data[f"metadata[{name}]"] = value
        sub = self._up("POST", "/v1/subscriptions", key, data)
        if sub.status_code != 200:
            return sub.status_code, sub.json()
        with self._lock:
            session.update(status="complete", payment_status="paid", subscription=sub.json()["id"])
            self._save()
        return 200, {
            "session": _public(session),
            "subscription": sub.json(),
            "event": {
                "id": "evt_" + secrets.token_hex(12),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(time.time()),
                "type": "checkout.session.completed",
                "data": {"object": _public(session)},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
            },
        }

    def logged_requests(self, query: str) -> Answer:
        wanted = dict(parse_qsl(query))
        with self._lock:
            found = [
                r
                for r in self.requests
                if r["method"] == wanted.get("method", r["method"]) and r["path"] == wanted.get("path", r["path"])
            ]
        return 200, {"object": "list", "data": found}

    # -- HTTP -----------------------------------------------------------------------------

    def route(self, method: str, path: str, query: str, key: str, form: dict[str, Any]) -> Answer | None:
        """The front's own answer, or None for a request to pass to localstripe."""
        match = re.fullmatch(r"(/v1/checkout/sessions|/v1/prices|/_test/checkout)/([^/]+)(/complete)?", path)
        ident = match.group(2) if match else ""
        shape = f"{match.group(1)}/{{id}}{match.group(3) or ''}" if match else path
        routes: dict[tuple[str, str], Callable[[], Answer]] = {
            ("POST", "/v1/checkout/sessions"): lambda: self.create_checkout_session(key, form),
            ("GET", "/v1/checkout/sessions/{id}"): lambda: self.get_checkout_session(ident),
            ("POST", "/v1/billing_portal/sessions"): lambda: self.create_portal_session(key, form),
            ("POST", "/v1/prices"): lambda: self.create_price(key, form),
            ("GET", "/v1/prices"): lambda: self.list_prices(key, query),
            ("GET", "/v1/prices/{id}"): lambda: self.get_price(key, ident),
            ("POST", "/_test/checkout/{id}/complete"): lambda: self.complete_checkout(key, ident),
            ("GET", "/_test/requests"): lambda: self.logged_requests(query),
            ("GET", "/_test/webhooks"): lambda: (200, self.webhooks.listing()),
        }
        handler = routes.get((method, shape))
        return handler() if handler is not None else None

    def get_checkout_session(self, sid: str) -> Answer:
        session = self.checkout_sessions.get(sid)
        return (200, _public(session)) if session else error(404, f"No such checkout.session: '{sid}'", "id")

    def get_price(self, key: str, price: str) -> Answer:
        plan = self._plan(key, price)
        return (200, price_of_plan(plan)) if plan else error(404, f"No such price: '{price}'", "price")

    @staticmethod
    def owns(path: str) -> bool:
        """Whether ``path`` is one of the front's own (else localstripe answers it)."""
        return path.startswith(("/v1/checkout/", "/v1/billing_portal/", "/v1/prices", "/_test/"))

    def hosted(self, method: str, path: str, raw: bytes) -> tuple[int, str, list[tuple[str, str]]] | None:
        """Stripe's hosted pages (the sessions' URLs): status, HTML and headers; None: not one."""
        match = re.fullmatch(r"/(c/pay|p/session)/([^/]+)", path)
        if match is None or method not in ("GET", "POST"):
            return None
        kind, sid = match.groups()
        missing = 404, "<!doctype html><title>Not found</title><h1>This page does not exist</h1>", []
        if kind == "p/session":
            portal = self.portal_sessions.get(sid)
            return (200, portal_page(portal), []) if portal and method == "GET" else missing
        session = self.checkout_sessions.get(sid)
        if session is None:
            return missing
        if method == "POST" and session["status"] == "open":
            paid = self._pay(session, dict(parse_qsl(raw.decode(errors="replace"))))
            if paid is not None:
                return paid
        return 200, self._checkout_page(session), []  # open, or paid already (by another request)

    def _pay(self, session: dict[str, Any], form: dict[str, str]) -> tuple[int, str, list[tuple[str, str]]] | None:
        """The customer pays: the session completed, its event delivered, 303 to success_url."""
        if not card_accepted(form.get("card_number", "")):
            return 402, self._checkout_page(session, declined=True), []
        status, done = self.complete_checkout(INTERNAL_KEY, session["id"])
        if status == 200:
            self.webhooks.deliver(done["event"])
            return 303, "", [("Location", success_url(session))]
        if session["status"] == "open":  # not completable (no customer, not a subscription)
            return status, f"<!doctype html><title>Error</title><p>{done['error']['message']}</p>", []
        return None  # completed meanwhile by another request: the "already paid" page

    def _checkout_page(self, session: dict[str, Any], declined: bool = False) -> str:
        items = session.get("_line_items") or [{}]
        plan = self._plan(INTERNAL_KEY, items[0].get("price", "")) if items[0].get("price") else None
        product = "your subscription"
        if plan and isinstance(plan.get("product"), str):
            r = self._up("GET", f"/v1/products/{plan['product']}", INTERNAL_KEY)
            product = r.json().get("name") or product if r.status_code == 200 else product
        email = None
        if session.get("customer"):
            r = self._up("GET", f"/v1/customers/{session['customer']}", INTERNAL_KEY)
            email = r.json().get("email") if r.status_code == 200 else None
        return checkout_page(session, plan, product, email, declined)

    @contextlib.contextmanager
    def _idempotent(self, scope: str, key: str | None) -> Iterator[threading.Lock | None]:
        """One lock per idempotency key: concurrent requests with one key go one at a time."""
        if key is None:
            yield None
            return
        with self._lock:
            lock = self._idem_locks.setdefault(f"{scope}:{key}", threading.Lock())
        with lock:
            yield lock

    def _replay(self, cache_key: str, fingerprint: str) -> tuple[int, bytes, bool] | None:
        """The stored answer under ``cache_key`` (and whether it is a replay), if any."""
        with self._lock:
            now = time.time()
            for name in [k for k, v in self._idem.items() if now - v["time"] > IDEMPOTENCY_TTL]:
                del self._idem[name]
            stored = self._idem.get(cache_key)
        if stored is None:
            return None
        if stored["fingerprint"] != fingerprint:
            status, payload = error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                kind="idempotency_error",
            )
            return status, json.dumps(payload).encode(), False
        return stored["status"], base64.b64decode(stored["body"]), True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "aksio-stripe-front"

            def log_message(self, format: str, *args: Any) -> None:
                print(f"stripe-front: {format % args}", flush=True)

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(8))
                for name, value in self._extra_headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _serve(self, method: str) -> None:
                self._extra_headers: list[tuple[str, str]] = []
                split = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    hosted = front.hosted(method, split.path, raw)
                except requests.RequestException as exc:
                    hosted = 502, f"<!doctype html><p>localstripe is unreachable: {type(exc).__name__}</p>", []
                if hosted is not None:
                    status, page, headers = hosted
                    self._extra_headers += headers
                    self._send(status, page.encode(), "text/html; charset=utf-8")
                    return
                form = decode_form(raw.decode(errors="replace")) if raw else {}
                authorization = self.headers.get("Authorization", "")
                idem = self.headers.get("Idempotency-Key") if method == "POST" else None
                scope = hashlib.sha256(authorization.encode()).hexdigest()[:16]
                fingerprint = hashlib.sha256(f"{method} {split.path}?{split.query}\n".encode() + raw).hexdigest()
                status, body, content_type, replayed = 500, b"", "application/json", False
                try:
                    with front._idempotent(scope, idem):
                        cache_key = f"{scope}:{idem}"
                        stored = front._replay(cache_key, fingerprint) if idem is not None else None
                        if stored is not None:
                            status, body, replayed = stored
                        else:
                            status, body, content_type = self._answer(method, split, authorization, form, raw)
                            if idem is not None and status < 500:
                                entry = {"fingerprint": fingerprint, "status": status, "time": time.time()}
                                entry["body"] = base64.b64encode(body).decode()
                                with front._lock:
                                    front._idem[cache_key] = entry
                                    front._save()
                except requests.RequestException as exc:
                    status, payload = error(502, f"localstripe is unreachable: {type(exc).__name__}", kind="api_error")
                    body = json.dumps(payload).encode()
                if replayed:
                    self._extra_headers.append(("Idempotent-Replayed", "true"))
                if idem is not None:
                    self._extra_headers.append(("Idempotency-Key", idem))
                with front._lock:
                    front.requests.append(
                        {
                            "method": method,
                            "path": split.path,
                            "query": decode_form(split.query),
                            "form": form,
                            "idempotencyKey": idem,
                            "status": status,
                            "replayed": replayed,
                            "time": time.time(),
                        }
                    )
                self._send(status, body, content_type)

            def _answer(
                self, method: str, split: Any, authorization: str, form: dict[str, Any], raw: bytes
            ) -> tuple[int, bytes, str]:
                if front.owns(split.path):
                    key = api_key(authorization)
                    if key is None:
                        status, payload = error(401, "Invalid API Key provided", kind="authentication_error")
                    else:
                        routed = front.route(method, split.path, split.query, key, form)
                        status, payload = routed or error(404, f"Unrecognized request URL ({method}: {split.path}).")
                    return status, json.dumps(payload).encode(), "application/json"
                url = front.upstream + split.path + (f"?{split.query}" if split.query else "")
                wanted = ("authorization", "content-type")
                headers = {k: v for k, v in self.headers.items() if k.lower() in wanted}
                r = requests.request(method, url, data=raw or None, headers=headers, timeout=30)
                return r.status_code, r.content, r.headers.get("Content-Type", "application/json")

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description="Stripe's wire format in front of localstripe (local only).")
    parser.add_argument("--upstream", required=True, help="localstripe's URL")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, help="JSON file keeping sessions and idempotency (default: memory)")
    parser.add_argument("--price", action="append", default=[], help="a price id to create if missing (repeatable)")
    parser.add_argument("--product-name", default="Aksio Pro", help="the product of the prices created")
    parser.add_argument("--webhook", action="append", default=[], help="URL=ENV: an endpoint, its secret in $ENV")
    args = parser.parse_args()
    webhooks = webhooks_from_args(args.webhook, dict(os.environ))
    front = StripeFront(args.upstream, host=args.host, port=args.port, state_path=args.state, webhooks=webhooks)
    for price in args.price:
        front.ensure_price(price, product=args.product_name)
    front.start()
    print(f"stripe front listening on {front.url}; localstripe at {front.upstream}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    front.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
