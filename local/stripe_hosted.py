"""Stripe's hosted pages and webhook deliveries, for the local Stripe (``local/stripe_front.py``).

- ``GET /c/pay/{id}`` (a Checkout Session's ``url``): the customer's page, a small accessible
  form: what is bought (the line item's price: product, amount, interval), the customer's email,
  a card number prefilled with the test card ``4242 4242 4242 4242``, a "Pay" button and a
  "Back" link to the session's ``cancel_url``. ``POST /c/pay/{id}`` (form-encoded, no API key:
  it is the customer's page) pays it as ``/_test/checkout/{id}/complete`` does, queues the
  ``checkout.session.completed`` event for every webhook endpoint, and answers 303 to the
  session's ``success_url`` (``{CHECKOUT_SESSION_ID}`` replaced by the id, as Stripe does). A
  session already paid: the page says so and links to ``success_url`` (no second payment, no
  second event). Another card number than the test card: 402 and the page again, "declined".
- ``GET /p/session/{id}`` (a Billing Portal session's ``url``): the customer and a "Return to
  Aksio" link to the session's ``return_url``.
- Webhook endpoints, as configured in Stripe's dashboard: ``URL`` and its signing secret
  (``--webhook URL=ENV``: the secret is read from the variable ``ENV``, never from argv or a
  log). Each event is POSTed as JSON to each endpoint with ``Stripe-Signature:
  t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`` (signed afresh at each
  attempt), in a background thread; a connection error or a status other than 2xx is tried
  again after 1, 2, 4... s (at most :data:`MAX_BACKOFF`), :data:`ATTEMPTS` times in all, so
  an endpoint that is not up yet (the gateway starts after Stripe) gets it once it is.
  ``GET /_test/webhooks`` (API key) lists the events queued, newest last, each with its
  deliveries ``{url, attempt, status, time}`` (status 0: no connection).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

ATTEMPTS = 12
MAX_BACKOFF = 16.0  # seconds between two attempts, at most (Stripe: hours; locally: seconds)
TEST_CARD_NUMBER = "4242424242424242"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;"
    "box-sizing:border-box}button{margin-top:1.5rem;width:100%;padding:.75rem;font-size:1.1rem}"
    "[role=alert]{color:#a00;font-weight:600}.amount{font-size:1.5rem;font-weight:700}"
)


def signature(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header of ``payload``: ``t=<timestamp>,v1=<hex HMAC-SHA256>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class Webhooks:
    """The webhook endpoints (url, secret) and the events queued for them."""

    endpoints: list[tuple[str, str]]
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for every endpoint (recorded now; sent by a background thread)."""
        record = {"id": event["id"], "type": event["type"], "object": event["data"]["object"].get("id")}
        record["deliveries"] = []
        with self.lock:
            self.events.append(record)
        payload = json.dumps(event, separators=(",", ":"))
        for url, secret in self.endpoints:
            threading.Thread(target=self._send, args=(record, url, secret, payload), daemon=True).start()

    def _send(self, record: dict[str, Any], url: str, secret: str, payload: str) -> None:
        delay = 1.0
        for attempt in range(1, ATTEMPTS + 1):
            headers = {"Content-Type": "application/json; charset=utf-8"}
            headers["Stripe-Signature"] = signature(payload, secret, int(time.time()))
            try:
                r = requests.post(url, data=payload.encode(), headers=headers, timeout=30, allow_redirects=False)
                status = r.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                record["deliveries"].append({"url": url, "attempt": attempt, "status": status, "time": time.time()})
            print(f"stripe-front: webhook {record['type']} {record['id']} -> {url}: {status or 'no connection'}")
            if 200 <= status < 300:
                return
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def listing(self) -> dict[str, Any]:
        with self.lock:
            return {"object": "list", "data": json.loads(json.dumps(self.events))}


def webhooks_from_args(values: list[str], environ: dict[str, str]) -> Webhooks:
    """``URL=ENV`` values: each endpoint's URL and the variable holding its signing secret."""
    endpoints = []
    for value in values:
        url, _, var = value.rpartition("=")
        secret = environ.get(var, "").split(",")[0].strip()
        if not url or not secret:
            raise SystemExit(f"--webhook {url or value}=...: the variable {var!r} holds no secret")
        endpoints.append((url, secret))
    return Webhooks(endpoints)


def success_url(session: dict[str, Any]) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def amount_text(price: dict[str, Any] | None) -> str:
    """``€9.00 per month`` from a plan/price (amount in cents)."""
    if not price:
        return ""
    symbols = {"eur": "€", "usd": "$", "gbp": "£"}
    currency = str(price.get("currency") or "").lower()
    amount = int(price.get("amount") or price.get("unit_amount") or 0) / 100
    money = f"{symbols[currency]}{amount:.2f}" if currency in symbols else f"{amount:.2f} {currency.upper()}"
    interval = price.get("interval") or (price.get("recurring") or {}).get("interval")
    return f"{money} per {interval}" if interval else money


def checkout_page(
    session: dict[str, Any], price: dict[str, Any] | None, product: str, email: str | None, declined: bool = False
) -> str:
    """The Checkout page of an open session (``declined``: after a refused card)."""
    sid = html.escape(session["id"])
    if session["status"] != "open":
        back = html.escape(success_url(session))
        return _page(
            "Already paid",
            f'<h1>This checkout is already paid</h1><p>Nothing more to pay.</p><p><a href="{back}">Continue</a></p>',
        )
    alert = (
        '<p role="alert" id="card-error">Your card was declined. Use the test card 4242 4242 4242 4242.</p>'
        if declined
        else ""
    )
    email_field = (
        f'<label for="email">Email</label><input id="email" name="email" type="email" '
        f'value="{html.escape(email)}" readonly autocomplete="email">'
        if email
        else ""
    )
    described = ' aria-describedby="card-error" aria-invalid="true"' if declined else ""
    cancel = session.get("cancel_url")
    back = f'<p><a href="{html.escape(cancel)}">Back</a></p>' if cancel else ""
    return _page(
        f"Pay {product}",
        f"<h1>Subscribe to {html.escape(product)}</h1>"
        f'<p class="amount" id="amount">{html.escape(amount_text(price))}</p>'
        f'<form method="post" action="/c/pay/{sid}">{alert}{email_field}'
        f'<label for="card">Card number</label><input id="card" name="card_number" inputmode="numeric" '
        f'autocomplete="cc-number" required value="4242 4242 4242 4242"{described}>'
        f'<button type="submit">Pay</button></form>{back}'
        f"<p><small>Local stand-in for Stripe Checkout: no real payment.</small></p>",
    )


def portal_page(session: dict[str, Any]) -> str:
    back = session.get("return_url")
    link = f'<p><a href="{html.escape(back)}">Return to Aksio</a></p>' if back else ""
    return _page(
        "Billing",
        f"<h1>Billing</h1><p>Customer <code>{html.escape(str(session.get('customer')))}</code>.</p>"
        f"<p>Local stand-in for the Stripe Billing Portal: there is nothing to manage here.</p>{link}",
    )


def card_accepted(number: str) -> bool:
    return re.sub(r"[\s-]", "", number) == TEST_CARD_NUMBER
