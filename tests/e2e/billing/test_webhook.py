"""stripe-webhook through a gateway, with the Firestore and Auth emulators: signatures,
dedupe (sequential and concurrent), order safety over HTTP, claims, unknown input, 5xx."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
import requests

from aksio.billing.model import BillingState
from tests.conftest import Aborts, User, need_env
from tests.e2e.billing.conftest import Billing, LocalStripe, Webhook, billing_doc, mapped_customer
from tests.unit.billing import events as ev

pytestmark = pytest.mark.stack


def sub_event(
    customer: str, status: str = "active", kind: str = "customer.subscription.updated", **kw: Any
) -> dict[str, Any]:
    sub_id = kw.pop("sub_id", "sub_" + uuid.uuid4().hex[:14])
    created = kw.pop("created", int(time.time()))
    return ev.event(kind, ev.subscription(sub_id, customer, status, period_end=created + 30 * 86400, **kw), created)


def event_record(db: Any, event_id: str) -> Any:
    return db.collection("stripeEvents").document(event_id).get()


def test_signature_failures_are_400_and_write_nothing(webhook: Webhook, firestore_db: Any) -> None:
    uid, customer = mapped_customer(firestore_db)
    evt = sub_event(customer)
    body = ev.body(evt)
    now = int(time.time())
    cases = {
        "missing": "",
        "wrong secret": ev.sign(body, "whsec_not_ours"),
        "too old": ev.sign(body, webhook.secrets[0], now - 301),
        "malformed": "v1=abc",
    }
    for name, header in cases.items():
        r = webhook.post(evt, header=header)
        assert r.status_code == 400, name
        assert r.json()["error"]["code"] == "invalid_signature", name
    tampered = dict(evt, data={"object": dict(evt["data"]["object"], status="canceled")})
    r = webhook.session.post(
        webhook.url, data=ev.body(tampered), headers={"Stripe-Signature": ev.sign(body, webhook.secrets[0])}, timeout=30
    )
    assert r.status_code == 400
    assert not event_record(firestore_db, evt["id"]).exists
    assert billing_doc(firestore_db, uid) == {"customerId": customer}


def test_rotation_every_configured_secret_and_two_v1(webhook: Webhook, firestore_db: Any) -> None:
    assert len(webhook.secrets) >= 2, "the stack configures two webhook secrets (rotation)"
    _, customer = mapped_customer(firestore_db)
    for secret in webhook.secrets:
        r = webhook.post(sub_event(customer), secret=secret)
        assert r.status_code == 200, r.text
    evt = sub_event(customer)
    body = ev.body(evt)
    header = ev.sign(body, "whsec_retired", extra_secrets=(webhook.secrets[-1],))
    assert webhook.post(evt, header=header).status_code == 200


def test_event_applies_and_merges_the_claim(webhook: Webhook, firestore_db: Any, user: User) -> None:
    from firebase_admin import auth

    from aksio.auth import firebase_app

    auth.set_custom_user_claims(user.uid, {"role": "beta", "plan": "free"}, app=firebase_app())
    _, customer = mapped_customer(firestore_db, user.uid)
    created = int(time.time())
    sub_id = "sub_" + uuid.uuid4().hex[:14]
    data = webhook.ok(sub_event(customer, "active", "customer.subscription.created", sub_id=sub_id, created=created))
    assert (data["outcome"], data["plan"]) == ("applied", "pro")
    billing = billing_doc(firestore_db, user.uid)
    assert billing["plan"] == "pro"
    assert billing["status"] == "active"
    assert billing["subscriptionId"] == sub_id
    assert billing["cancelAtPeriodEnd"] is False
    assert int(billing["currentPeriodEnd"].timestamp()) == created + 30 * 86400
    assert auth.get_user(user.uid, app=firebase_app()).custom_claims == {"role": "beta", "plan": "pro"}
    # canceled at period end, then deleted: the claim follows, the other claims stay
    webhook.ok(sub_event(customer, "active", sub_id=sub_id, created=created + 1, cancel_at_period_end=True))
    assert billing_doc(firestore_db, user.uid)["cancelAtPeriodEnd"] is True
    deleted = sub_event(customer, "canceled", "customer.subscription.deleted", sub_id=sub_id, created=created + 2)
    assert webhook.ok(deleted)["plan"] == "free"
    assert auth.get_user(user.uid, app=firebase_app()).custom_claims == {"role": "beta", "plan": "free"}


def test_past_due_keeps_access_during_grace(webhook: Webhook, firestore_db: Any, user: User) -> None:
    from firebase_admin import auth

    from aksio.auth import firebase_app

    _, customer = mapped_customer(firestore_db, user.uid)
    sub_id, t = "sub_" + uuid.uuid4().hex[:14], int(time.time())
    webhook.ok(sub_event(customer, "active", "customer.subscription.created", sub_id=sub_id, created=t - 2))
    failed = ev.event("invoice.payment_failed", ev.invoice(sub_id, customer, period_end=t + 99, paid=False), t - 1)
    assert webhook.ok(failed, "applied")["plan"] == "pro"
    billing = billing_doc(firestore_db, user.uid)
    assert billing["status"] == "past_due"
    assert int(billing["pastDueSince"].timestamp()) == t - 1
    assert auth.get_user(user.uid, app=firebase_app()).custom_claims["plan"] == "pro"
    paid = ev.event("invoice.paid", ev.invoice(sub_id, customer, period_end=t + 99, paid=True), t)
    webhook.ok(paid, "applied")
    billing = billing_doc(firestore_db, user.uid)
    assert (billing["status"], billing["pastDueSince"]) == ("active", None)


def test_each_event_is_processed_once_even_concurrently(webhook: Webhook, firestore_db: Any) -> None:
    uid, customer = mapped_customer(firestore_db)
    evt = sub_event(customer, "active", "customer.subscription.created")
    assert webhook.ok(evt)["outcome"] == "applied"
    assert webhook.ok(evt)["outcome"] == "duplicate"

    evt2 = sub_event(customer, "past_due", created=evt["created"] + 1, sub_id=evt["data"]["object"]["id"])
    n = 12
    barrier = Barrier(n)

    def deliver(_: int) -> requests.Response:
        session = requests.Session()
        barrier.wait()
        body = ev.body(evt2)
        headers = {"Stripe-Signature": ev.sign(body, webhook.secrets[0]), "Content-Type": "application/json"}
        return session.post(webhook.url, data=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(deliver, range(n)))
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses if r.status_code != 200]
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * (n - 1)
    record = event_record(firestore_db, evt2["id"]).to_dict()
    assert (record["uid"], record["outcome"], record["type"]) == (uid, "applied", "customer.subscription.updated")
    assert billing_doc(firestore_db, uid)["status"] == "past_due"


def test_shuffled_lifecycles_end_in_the_newest_state(webhook: Webhook, firestore_db: Any) -> None:
    """100 random orderings of a subscription's lifecycle (with repeats), each for its own
    customer, delivered over HTTP; every one ends in the state of the in-order delivery."""
    rng = random.Random(20261123)
    start = int(time.time()) - 3600
    runs = []
    for i in range(100):
        uid, customer = mapped_customer(firestore_db)
        events = ev.lifecycle(customer, f"sub_{uuid.uuid4().hex[:14]}", start, cancel=i % 4 != 0)
        order = events[:]
        rng.shuffle(order)
        order += rng.sample(events, 2)  # and a few redeliveries
        runs.append((uid, events, order))
    orders = {tuple(e["type"] + str(e["created"]) for e in order[:7]) for _, _, order in runs}
    assert len(orders) > 50

    def deliver(run: tuple[str, list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        session = requests.Session()
        for e in run[2]:
            body = ev.body(e)
            headers = {"Stripe-Signature": ev.sign(body, webhook.secrets[0]), "Content-Type": "application/json"}
            r = session.post(webhook.url, data=body, headers=headers, timeout=60)
            assert r.status_code == 200, r.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(deliver, runs))

    for uid, events, _ in runs:
        stored = BillingState.from_stored(billing_doc(firestore_db, uid))
        canceled = len(events) == 7
        newest = events[-1]["data"]["object"]
        assert stored.status == ("canceled" if canceled else "active"), uid
        assert stored.subscription_id == newest["id"]
        assert stored.cancel_at_period_end is False
        assert stored.past_due_since is None
        assert stored.plan == "pro"
        assert stored.version == events[-1]["created"]
        assert int(stored.current_period_end.timestamp()) == newest["items"]["data"][0]["current_period_end"]  # type: ignore[union-attr]


def test_unknown_types_and_customers_are_200_and_write_nothing(webhook: Webhook, firestore_db: Any) -> None:
    _, customer = mapped_customer(firestore_db)
    other = ev.event("customer.created", {"id": customer, "object": "customer"}, int(time.time()))
    assert webhook.ok(other)["outcome"] == "ignored"
    assert not event_record(firestore_db, other["id"]).exists
    stranger = "cus_" + uuid.uuid4().hex[:14]
    evt = sub_event(stranger)
    assert webhook.ok(evt)["outcome"] == "unknown_customer"
    assert not event_record(firestore_db, evt["id"]).exists
    assert not firestore_db.collection("stripeCustomers").document(stranger).get().exists


def test_unreadable_events_are_400(webhook: Webhook) -> None:
    for body in (b"not json", b'{"id": "evt_1"}', b'{"id":"evt_1","type":"invoice.paid","created":1,"data":{}}'):
        headers = {"Stripe-Signature": ev.sign(body, webhook.secrets[0]), "Content-Type": "application/json"}
        r = webhook.session.post(webhook.url, data=body, headers=headers, timeout=30)
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "invalid_event"


def test_too_large_is_413(webhook: Webhook) -> None:
    body = b'{"pad":"' + b"x" * (1024 * 1024) + b'"}'
    r = webhook.session.post(
        webhook.url, data=body, headers={"Stripe-Signature": ev.sign(body, webhook.secrets[0])}, timeout=30
    )
    assert r.status_code == 413


def test_our_failure_is_5xx_and_nothing_is_recorded(webhook: Webhook, firestore_db: Any, user: User) -> None:
    """checkout.session.completed whose subscription Stripe cannot give us: 5xx, nothing
    recorded, so Stripe retries it."""
    _, customer = mapped_customer(firestore_db, user.uid)
    evt = ev.event(
        "checkout.session.completed", ev.checkout_session(customer, "sub_missing", user.uid), int(time.time())
    )
    r = webhook.post(evt)
    assert r.status_code >= 500, r.text
    assert r.json()["error"]["code"] in ("internal", "stripe_unavailable")
    assert not event_record(firestore_db, evt["id"]).exists
    assert billing_doc(firestore_db, user.uid) == {"customerId": customer}


def test_our_failure_is_5xx_and_the_retry_applies(  # noqa: PLR0917
    webhook: Webhook,
    firestore_db: Any,
    user: User,
    billing_for: Callable[[User], Billing],
    local_stripe: LocalStripe,
    aborts: Aborts,
) -> None:
    """A real checkout (localstripe made the subscription) whose first delivery fails on our
    side (Firestore keeps aborting the user's commits): 5xx, nothing recorded. Stripe's retry,
    the same event signed anew, fetches the subscription from Stripe and applies it, once."""
    r = billing_for(user).post("create-checkout-session", {"plan": "pro"})
    assert r.status_code == 200, r.text
    paid = local_stripe.complete_checkout(r.json()["id"])
    assert paid.status_code == 200, paid.text
    event, subscription = paid.json()["event"], paid.json()["subscription"]
    before = billing_doc(firestore_db, user.uid)
    aborts.on(f"users/{user.uid}")
    first = webhook.post(event)
    assert first.status_code == 503, first.text
    assert not event_record(firestore_db, event["id"]).exists
    assert billing_doc(firestore_db, user.uid) == before
    aborts.off(f"users/{user.uid}")
    retry = webhook.ok(event, "applied")
    assert retry["plan"] == "pro"
    stored = billing_doc(firestore_db, user.uid)
    assert (stored["subscriptionId"], stored["status"]) == (subscription["id"], "active")
    assert event_record(firestore_db, event["id"]).exists
    assert webhook.ok(event)["outcome"] == "duplicate"


def test_stack_gateway_serves_the_webhook(gateway_url: str, firestore_db: Any) -> None:
    """The stack's gateway with the stack's settings as they are: the last of the rotating secrets."""
    secret = need_env("STRIPE_WEBHOOK_SECRET")["STRIPE_WEBHOOK_SECRET"].split(",")[-1]
    url = f"{gateway_url}/stripe-webhook"
    r = requests.post(url, data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}, timeout=30)
    assert r.status_code == 400
    uid, customer = mapped_customer(firestore_db)
    evt = sub_event(customer, "active", "customer.subscription.created")
    body = ev.body(evt)
    r = requests.post(url, data=body, headers={"Stripe-Signature": ev.sign(body, secret)}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "applied"
    assert billing_doc(firestore_db, uid)["status"] == "active"


def test_concurrent_deliveries_of_a_whole_lifecycle(webhook: Webhook, firestore_db: Any, new_user: Any) -> None:
    """All of a subscription's events (each twice) at once, for a few real users: the stored
    state and the claim end in the newest state."""
    from firebase_admin import auth
    from google.cloud.firestore_v1.base_query import FieldFilter

    from aksio.auth import firebase_app

    start = int(time.time()) - 600
    runs = []
    for i in range(4):
        user = new_user()
        _, customer = mapped_customer(firestore_db, user.uid)
        events = ev.lifecycle(customer, f"sub_{uuid.uuid4().hex[:14]}", start, cancel=i % 2 == 0)
        runs.append((user.uid, events))
    deliveries = [e for _, events in runs for e in events * 2]
    random.Random(5).shuffle(deliveries)

    def deliver(e: dict[str, Any]) -> int:
        body = ev.body(e)
        headers = {"Stripe-Signature": ev.sign(body, webhook.secrets[0]), "Content-Type": "application/json"}
        return requests.post(webhook.url, data=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(deliver, deliveries)) == {200}
    for uid, events in runs:
        stored = BillingState.from_stored(billing_doc(firestore_db, uid))
        canceled = len(events) == 7
        assert stored.status == ("canceled" if canceled else "active")
        assert stored.version == events[-1]["created"]
        claims = auth.get_user(uid, app=firebase_app()).custom_claims or {}
        assert claims.get("plan") == ("free" if canceled else "pro")
        by_uid = FieldFilter("uid", "==", uid)
        recorded = sorted(s.id for s in firestore_db.collection("stripeEvents").where(filter=by_uid).stream())
        assert recorded == sorted(e["id"] for e in events)  # each event recorded once
