"""Fixtures of the billing e2e tests.

The billing functions talk to Stripe at ``STRIPE_API_BASE``. The stack points that at
localstripe, which has customers, subscriptions and legacy plans but no Checkout, Billing
Portal or Prices; so these tests run :class:`FakeStripe` (that wire format, proxying the
rest to the stack's localstripe) and a second gateway of the same code (``local/gateway.py``)
whose ``STRIPE_API_BASE`` is the fake, beside the stack's own gateway and with the stack's
emulators (Firestore, Auth). The Stripe settings are the stack's when it exports them, else
the same local values.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import User, need_env
from tests.e2e.billing.fake_stripe import FakeStripe
from tests.unit.billing import events as ev

ROOT = Path(__file__).resolve().parents[3]
LOCAL_STRIPE_ENV = {
    "STRIPE_SECRET_KEY": "sk_test_aksio_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_aksio_local_1,whsec_aksio_local_2",
    "STRIPE_PRICE_PRO": ev.PRICE_PRO,
    "BILLING_RETURN_ORIGINS": "http://localhost:5173,http://127.0.0.1:5173",
}


@pytest.fixture(scope="session")
def stripe_settings() -> dict[str, str]:
    need_env("STRIPE_API_BASE", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
    return {k: os.environ.get(k) or v for k, v in LOCAL_STRIPE_ENV.items()}


@pytest.fixture(scope="session")
def localstripe(stripe_settings: dict[str, str]) -> str:
    base = os.environ["STRIPE_API_BASE"].rstrip("/")
    # localstripe has legacy Plans only: the Pro "price" is a plan under the price's id.
    plan = {"id": stripe_settings["STRIPE_PRICE_PRO"], "amount": "900", "currency": "eur", "interval": "month"}
    plan["product[name]"] = "Aksio Pro"
    key = (stripe_settings["STRIPE_SECRET_KEY"], "")
    r = requests.post(f"{base}/v1/plans", data=plan, auth=key, timeout=10)
    assert r.status_code in (200, 400, 409), r.text  # 409: another test worker made it first
    assert requests.get(f"{base}/v1/plans/{plan['id']}", auth=key, timeout=10).status_code == 200
    return base


@pytest.fixture(scope="session")
def fake_stripe(localstripe: str, stripe_settings: dict[str, str]) -> Iterator[FakeStripe]:
    price_id = stripe_settings["STRIPE_PRICE_PRO"]
    price = {"id": price_id, "object": "price", "active": True, "currency": "eur", "unit_amount": 900}
    price["recurring"] = {"interval": "month", "interval_count": 1}
    fake = FakeStripe(localstripe, {price_id: price}).start()
    yield fake
    fake.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def billing_gateway(fake_stripe: FakeStripe, stripe_settings: dict[str, str], tmp_path_factory: Any) -> Iterator[str]:
    """``local/gateway.py`` with the stack's environment, Stripe at the fake."""
    port = _free_port()
    env = {**os.environ, **stripe_settings, "STRIPE_API_BASE": fake_stripe.url}
    log = (tmp_path_factory.mktemp("billing-gateway") / "gateway.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "local" / "gateway.py"), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/", timeout=2)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"billing gateway did not start; see {log.name}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
def webhook(billing_gateway: str, stripe_settings: dict[str, str]) -> Webhook:
    secrets = tuple(s for s in stripe_settings["STRIPE_WEBHOOK_SECRET"].split(",") if s)
    return Webhook(f"{billing_gateway}/stripe-webhook", secrets, requests.Session())


@dataclass
class Billing:
    """A signed-in user's calls to the billing functions."""

    base: str
    user: User

    def post(self, function: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(f"{self.base}/{function}", json=body or {}, headers=self.user.headers, timeout=30)


@pytest.fixture
def billing_for(billing_gateway: str) -> Callable[[User], Billing]:
    return lambda user: Billing(billing_gateway, user)


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
