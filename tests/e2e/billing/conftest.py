"""Fixtures of the billing e2e tests.

The billing functions talk to Stripe at ``STRIPE_API_BASE``: in the stack, the stripe
component, ``local/stripe_front.py`` (Checkout Sessions, Billing Portal sessions, Prices,
``Idempotency-Key``) in front of localstripe (customers, subscriptions and the rest), with
the price ``STRIPE_PRICE_PRO`` created at start. These tests call the stack's own gateway,
with the stack's Stripe settings, and read what reached Stripe through the front's HTTP API
(``/_test/requests``); ``/_test/checkout/{id}/complete`` plays the customer paying.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.conftest import User, need_env
from tests.unit.billing import events as ev

STRIPE_VARS = ("STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_PRO")


@pytest.fixture(scope="session")
def stripe_settings() -> dict[str, str]:
    """The stack's Stripe settings (``STRIPE_API_BASE`` and the ones the functions read)."""
    return need_env(*STRIPE_VARS, "BILLING_RETURN_ORIGINS", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")


@dataclass
class LocalStripe:
    """The stack's Stripe, over HTTP as any client sees it, plus the front's ``/_test`` routes."""

    url: str
    key: str

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        return requests.get(f"{self.url}{path}", params=params, auth=(self.key, ""), timeout=30)

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        """The requests the front received for ``method path``, oldest first."""
        r = self.get("/_test/requests", {"method": method, "path": path})
        r.raise_for_status()
        return list(r.json()["data"])

    def complete_checkout(self, session_id: str) -> requests.Response:
        """The customer pays the Checkout Session: ``{session, subscription, event}``."""
        url = f"{self.url}/_test/checkout/{session_id}/complete"
        return requests.post(url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def customers_of(self, uid: str) -> list[dict[str, Any]]:
        """Every customer whose ``metadata[uid]`` is ``uid`` (all pages)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            r = self.get("/v1/customers", params)
            r.raise_for_status()
            page = r.json()
            found += [c for c in page["data"] if (c.get("metadata") or {}).get("uid") == uid]
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


@pytest.fixture(scope="session")
def local_stripe(stripe_settings: dict[str, str]) -> LocalStripe:
    stripe = LocalStripe(stripe_settings["STRIPE_API_BASE"].rstrip("/"), stripe_settings["STRIPE_SECRET_KEY"])
    price = stripe.get(f"/v1/prices/{stripe_settings['STRIPE_PRICE_PRO']}")
    assert price.status_code == 200, f"the stack's Stripe has no price STRIPE_PRICE_PRO: {price.text}"
    assert price.json()["recurring"]["interval"] == "month"
    return stripe


@dataclass
class Webhook:
    url: str
    secrets: tuple[str, ...]
    session: requests.Session

    def post(self, event: dict[str, Any], *, secret: str | None = None, header: str | None = None) -> requests.Response:
        body = ev.body(event)
        sig = header if header is not None else ev.sign(body, secret or self.secrets[0])
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": sig}
        return self.session.post(self.url, data=body, headers=headers, timeout=30)

    def ok(self, event: dict[str, Any], outcome: str | None = None) -> dict[str, Any]:
        r = self.post(event)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        if outcome is not None:
            assert data["outcome"] == outcome, data
        return data


@pytest.fixture
def webhook(gateway_url: str, stripe_settings: dict[str, str]) -> Webhook:
    """The stack's gateway's ``/stripe-webhook``, and the webhook secrets the stack configures."""
    secrets = tuple(s for s in stripe_settings["STRIPE_WEBHOOK_SECRET"].split(",") if s)
    return Webhook(f"{gateway_url}/stripe-webhook", secrets, requests.Session())


@dataclass
class Billing:
    """A signed-in user's calls to the billing functions."""

    base: str
    user: User

    def post(self, function: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(f"{self.base}/{function}", json=body or {}, headers=self.user.headers, timeout=30)


@pytest.fixture
def billing_for(gateway_url: str, local_stripe: LocalStripe) -> Callable[[User], Billing]:
    """Calls through the stack's gateway (``local_stripe``: its Stripe is checked first)."""
    return lambda user: Billing(gateway_url, user)


def mapped_customer(db: Any, uid: str | None = None) -> tuple[str, str]:
    """A customer id mapped to a uid in Firestore (as checkout leaves it), without Stripe."""
    uid = uid or f"uid-{uuid.uuid4().hex[:12]}"
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    db.collection("stripeCustomers").document(customer).set({"uid": uid})
    db.collection("users").document(uid).set({"billing": {"customerId": customer}}, merge=True)
    return uid, customer


def billing_doc(db: Any, uid: str) -> dict[str, Any]:
    snap = db.collection("users").document(uid).get()
    return dict((snap.to_dict() or {}).get("billing") or {}) if snap.exists else {}
