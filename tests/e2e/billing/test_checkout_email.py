"""Checkout gives Stripe the user's email only once the account has verified it (an
unverified address could be anyone's: the receipt and the customer record would name them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import User
from tests.e2e.ai.test_spend_guards import verify_email
from tests.e2e.billing.conftest import Billing, LocalStripe

pytestmark = pytest.mark.stack


def customer_forms(local_stripe: LocalStripe, uid: str) -> list[dict[str, Any]]:
    return [c["form"] for c in local_stripe.calls("POST", "/v1/customers") if c["form"]["metadata"]["uid"] == uid]


def test_stripe_gets_only_a_verified_email(
    billing_for: Callable[[User], Billing],
    new_user: Callable[[], User],
    local_stripe: LocalStripe,
    auth_emulator: str,
) -> None:
    unverified = new_user()
    assert billing_for(unverified).post("create-checkout-session", {"plan": "pro"}).status_code == 200
    [form] = customer_forms(local_stripe, unverified.uid)
    assert "email" not in form
    verified = verify_email(auth_emulator, new_user())
    assert billing_for(verified).post("create-checkout-session", {"plan": "pro"}).status_code == 200
    [form] = customer_forms(local_stripe, verified.uid)
    assert form["email"] == verified.email
