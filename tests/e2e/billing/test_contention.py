"""Billing's transactions under contention: a Stripe event, and a first checkout's customer
link, answer 503 ``contention`` (Stripe and the browser retry) and write nothing until they
go through."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.conftest import Aborts
from tests.e2e.billing.conftest import Webhook, billing_doc, mapped_customer
from tests.e2e.test_contention import contended
from tests.unit.billing import events as ev

pytestmark = pytest.mark.stack


def test_a_stripe_event_under_contention_is_a_503_so_stripe_retries(
    webhook: Webhook, firestore_db: Any, aborts: Aborts
) -> None:
    uid, customer = mapped_customer(firestore_db)
    created = int(time.time())
    sub = ev.subscription("sub_" + uuid.uuid4().hex[:14], customer, "active", period_end=created + 30 * 86400)
    event = ev.event("customer.subscription.updated", sub, created)
    aborts.on(f"stripeEvents/{event['id']}")
    contended(webhook.post(event))
    assert not firestore_db.collection("stripeEvents").document(event["id"]).get().exists
    assert billing_doc(firestore_db, uid).get("status") is None
    aborts.off(f"stripeEvents/{event['id']}")
    assert webhook.ok(event)["outcome"] == "applied"
    assert billing_doc(firestore_db, uid)["status"] == "active"


def test_a_first_checkout_under_contention_is_a_503_and_links_one_customer_on_retry(
    billing_for: Any, user: Any, local_stripe: Any, firestore_db: Any, aborts: Aborts
) -> None:
    billing = billing_for(user)
    aborts.on(f"users/{user.uid}")
    contended(billing.post("create-checkout-session", {"plan": "pro"}))
    assert billing_doc(firestore_db, user.uid).get("customerId") is None
    aborts.off(f"users/{user.uid}")
    again = billing.post("create-checkout-session", {"plan": "pro"})
    assert again.status_code == 200, again.text
    customer = billing_doc(firestore_db, user.uid)["customerId"]
    assert firestore_db.collection("stripeCustomers").document(customer).get().to_dict()["uid"] == user.uid
    created = [c for c in local_stripe.calls("POST", "/v1/customers") if c["form"]["metadata"]["uid"] == user.uid]
    assert {c["idempotencyKey"] for c in created} == {f"aksio-customer-{user.uid}"}  # one customer, asked twice
