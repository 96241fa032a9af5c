"""A Stripe event meeting contention answers 503 ``contention`` (Stripe retries), and
writes nothing until it goes through."""

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
