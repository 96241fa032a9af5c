"""create-checkout-session and create-portal-session through the stack's gateway, whose Stripe
is the stack's (``local/stripe_front.py``: Checkout, Portal, Prices, in front of localstripe:
customers, subscriptions); and the whole upgrade: free user at the generation quota →
checkout → pays → webhook → can generate again."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.billing.conftest import Billing, LocalStripe, Webhook, billing_doc

pytestmark = pytest.mark.stack
ORIGIN = "http://localhost:5173"  # an allowed origin (a dev server of web/)


def default_origin(stripe_settings: dict[str, str]) -> str:
    """Where return URLs go by default: the first allowed origin (the stack's gateway, serving web/)."""
    return stripe_settings["BILLING_RETURN_ORIGINS"].split(",")[0]


def sent_for(stripe: LocalStripe, path: str, customer: str) -> list[dict[str, Any]]:
    """The forms POSTed to ``path`` for ``customer`` (other tests' calls are left out)."""
    return [c["form"] for c in stripe.calls("POST", path) if c["form"].get("customer") == customer]


def test_checkout_needs_a_signed_in_user(gateway_url: str) -> None:
    r = requests.post(f"{gateway_url}/create-checkout-session", json={}, timeout=30)
    assert r.status_code == 401
    r = requests.post(f"{gateway_url}/create-portal-session", json={}, timeout=30)
    assert r.status_code == 401


def test_checkout_creates_the_customer_once_and_a_subscription_session(
    billing_for: Callable[[User], Billing],
    user: User,
    local_stripe: LocalStripe,
    firestore_db: Any,
    stripe_settings: dict[str, str],
) -> None:
    billing = billing_for(user)
    first = billing.post("create-checkout-session", {"plan": "pro"})
    assert first.status_code == 200, first.text
    session = first.json()
    assert session["id"].startswith("cs_test_")
    assert session["url"].startswith(local_stripe.url)
    assert local_stripe.get(f"/v1/checkout/sessions/{session['id']}").json()["status"] == "open"
    customer = billing_doc(firestore_db, user.uid)["customerId"]
    mapping = firestore_db.collection("stripeCustomers").document(customer).get().to_dict()
    assert mapping["uid"] == user.uid
    [form] = sent_for(local_stripe, "/v1/checkout/sessions", customer)
    assert form["mode"] == "subscription"
    assert form["client_reference_id"] == user.uid
    assert form["line_items"] == [{"price": stripe_settings["STRIPE_PRICE_PRO"], "quantity": "1"}]
    default = default_origin(stripe_settings)
    assert form["success_url"] == f"{default}/billing/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert form["cancel_url"] == f"{default}/billing/canceled"
    assert form["subscription_data"]["metadata"] == {"uid": user.uid, "plan": "pro"}
    creates = [c for c in local_stripe.calls("POST", "/v1/customers") if c["form"]["metadata"]["uid"] == user.uid]
    assert [c["idempotencyKey"] for c in creates] == [f"aksio-customer-{user.uid}"]
    # again: the same customer, no new one
    custom = {"successUrl": "http://127.0.0.1:5173/done?s={CHECKOUT_SESSION_ID}", "cancelUrl": f"{ORIGIN}/pricing"}
    second = billing.post("create-checkout-session", custom)
    assert second.status_code == 200, second.text
    last = sent_for(local_stripe, "/v1/checkout/sessions", customer)[-1]
    assert (last["customer"], last["success_url"], last["cancel_url"]) == (
        customer,
        custom["successUrl"],
        custom["cancelUrl"],
    )
    assert len(local_stripe.customers_of(user.uid)) == 1


def test_concurrent_first_checkouts_make_one_customer(
    billing_for: Callable[[User], Billing], user: User, firestore_db: Any, local_stripe: LocalStripe
) -> None:
    billing = billing_for(user)
    n = 6
    barrier = Barrier(n)

    def go(_: int) -> requests.Response:
        barrier.wait()
        return billing.post("create-checkout-session")

    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(go, range(n)))
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
    found = local_stripe.customers_of(user.uid)
    assert len(found) == 1
    assert billing_doc(firestore_db, user.uid)["customerId"] == found[0]["id"]
    mapped = [s.id for s in firestore_db.collection("stripeCustomers").stream() if s.to_dict().get("uid") == user.uid]
    assert mapped == [found[0]["id"]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"plan": "free"}, 400, "unknown_plan"),
        ({"plan": "gold"}, 400, "unknown_plan"),
        ({"successUrl": "https://evil.example/x"}, 400, "return_url_not_allowed"),
        ({"cancelUrl": "javascript:alert(1)"}, 400, "return_url_not_allowed"),
        ({"plan": "pro", "extra": 1}, 400, "invalid_argument"),
    ],
)
def test_checkout_refusals(  # noqa: PLR0917
    billing_for: Callable[[User], Billing], user: User, firestore_db: Any, body: dict[str, Any], status: int, code: str
) -> None:
    r = billing_for(user).post("create-checkout-session", body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert "customerId" not in billing_doc(firestore_db, user.uid)  # refused before any customer


def test_portal(
    billing_for: Callable[[User], Billing],
    user: User,
    local_stripe: LocalStripe,
    firestore_db: Any,
    stripe_settings: dict[str, str],
) -> None:
    billing = billing_for(user)
    r = billing.post("create-portal-session")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_customer"
    assert billing.post("create-checkout-session").status_code == 200
    customer = billing_doc(firestore_db, user.uid)["customerId"]
    r = billing.post("create-portal-session", {"returnUrl": f"{ORIGIN}/settings/billing"})
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith(local_stripe.url)
    forms = sent_for(local_stripe, "/v1/billing_portal/sessions", customer)
    assert forms == [{"customer": customer, "return_url": f"{ORIGIN}/settings/billing"}]
    r = billing.post("create-portal-session", {"returnUrl": "https://evil.example/"})
    assert r.status_code == 400
    r = billing.post("create-portal-session")
    assert r.status_code == 200
    assert sent_for(local_stripe, "/v1/billing_portal/sessions", customer)[-1]["return_url"] == (
        f"{default_origin(stripe_settings)}/billing"
    )


def test_upgrade_flow_lifts_the_generation_quota(
    billing_for: Callable[[User], Billing], user: User, local_stripe: LocalStripe, webhook: Webhook, firestore_db: Any
) -> None:
    """Free user at the quota → checkout → pays → checkout.session.completed → Pro limits."""
    from firebase_admin import auth

    from aksio import errors, plans
    from aksio.auth import firebase_app

    charge = _generation_charge(firestore_db, user.uid)
    for _ in range(plans.FREE.limits.generations_per_month):
        charge()
    with pytest.raises(errors.QuotaExceeded) as info:
        charge()
    assert info.value.code == "quota_exceeded"

    billing = billing_for(user)
    r = billing.post("create-checkout-session", {"plan": "pro"})
    assert r.status_code == 200, r.text
    paid = local_stripe.complete_checkout(r.json()["id"])
    assert paid.status_code == 200, paid.text
    done = paid.json()
    result = webhook.ok(done["event"], "applied")
    assert result["plan"] == "pro"
    assert webhook.ok(done["event"])["outcome"] == "duplicate"

    stored = firestore_db.collection("users").document(user.uid).get().to_dict()
    assert stored["billing"]["subscriptionId"] == done["subscription"]["id"]
    assert stored["billing"]["status"] == "active"
    assert plans.current_plan(stored) is plans.PRO
    assert auth.get_user(user.uid, app=firebase_app()).custom_claims == {"plan": "pro"}
    charge()  # can generate again
    # a second checkout now is a 409: the subscription is managed in the portal
    again = billing.post("create-checkout-session", {"plan": "pro"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_subscribed"
    assert billing.post("create-portal-session").status_code == 200


def _generation_charge(db: Any, uid: str) -> Callable[[], Any]:
    """What admits one flashcard generation: the AI functions' quota check, which reads the
    plan's limits from ``users/{uid}``."""
    from aksio import usage

    return lambda: usage.charge(db, uid, usage.GENERATIONS)
