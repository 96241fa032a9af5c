"""The upgrade as a browser goes through it, through the stack: the web app's checkout session,
Stripe's hosted Checkout page (the stack's ``local/stripe_front.py``), paying with the test
card, back to ``success_url``, and the plan becomes Pro because the stack's Stripe delivered
``checkout.session.completed`` to the gateway's ``/stripe-webhook``, signed, by itself (the
test posts no webhook). Pages are fetched and forms posted as a browser would, without an API
key."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import User
from tests.e2e.ai.test_spend_guards import verify_email
from tests.e2e.billing.conftest import Billing, LocalStripe

pytestmark = pytest.mark.stack


def events_for(stripe: LocalStripe, session_id: str) -> list[dict[str, Any]]:
    r = stripe.get("/_test/webhooks")
    r.raise_for_status()
    return [e for e in r.json()["data"] if e["object"] == session_id]


def plan_of(gateway_url: str, user: User) -> str:
    r = requests.get(f"{gateway_url}/account/usage", headers=user.headers, timeout=30)
    r.raise_for_status()
    return str(r.json()["plan"])


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def links(page: str) -> list[tuple[str, str]]:
    """(href, text) of every link of the page."""
    return [(html.unescape(h), t) for h, t in re.findall(r'<a href="([^"]*)">([^<]*)</a>', page)]


def test_paying_on_the_checkout_page_comes_back_and_makes_the_account_pro(
    billing_for: Callable[[User], Billing],
    new_user: Callable[[], User],
    local_stripe: LocalStripe,
    gateway_url: str,
    auth_emulator: str,
) -> None:
    user = verify_email(auth_emulator, new_user())  # so Stripe knows the email, and the page shows it
    created = billing_for(user).post("create-checkout-session", {"plan": "pro"})
    assert created.status_code == 200, created.text
    sid, url = created.json()["id"], created.json()["url"]
    session = local_stripe.get(f"/v1/checkout/sessions/{sid}").json()

    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "€9.00 per month" in page.text  # the stack's STRIPE_PRICE_PRO
    assert f'value="{html.escape(user.email)}"' in page.text
    assert f'<form method="post" action="/c/pay/{sid}">' in page.text
    assert '<label for="card">Card number</label>' in page.text
    assert 'value="4242 4242 4242 4242"' in page.text
    assert '<button type="submit">Pay</button>' in page.text
    assert (session["cancel_url"], "Back") in links(page.text)
    assert plan_of(gateway_url, user) == "free"

    paid = requests.post(url, data={"card_number": "4242 4242 4242 4242"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303, paid.text
    assert paid.headers["Location"] == session["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
    assert sid in paid.headers["Location"]

    wait_for(lambda: plan_of(gateway_url, user) == "pro", 30, "the webhook to make the plan pro")
    [event] = events_for(local_stripe, sid)
    assert event["type"] == "checkout.session.completed"
    assert [d["status"] for d in event["deliveries"]][-1] == 200
    assert event["deliveries"][-1]["url"] == f"{gateway_url}/stripe-webhook"
    assert local_stripe.get(f"/v1/checkout/sessions/{sid}").json()["status"] == "complete"

    # again (the back button, a double click): no second payment, no second event
    again = requests.post(url, data={"card_number": "4242 4242 4242 4242"}, allow_redirects=False, timeout=30)
    assert again.status_code == 200
    assert "already paid" in again.text
    assert (paid.headers["Location"], "Continue") in links(again.text)
    assert len(events_for(local_stripe, sid)) == 1  # events are recorded before the page answers
    assert "already paid" in requests.get(url, timeout=30).text


def test_a_declined_card_leaves_the_session_open_and_sends_nothing(
    billing_for: Callable[[User], Billing], user: User, local_stripe: LocalStripe
) -> None:
    created = billing_for(user).post("create-checkout-session", {"plan": "pro"})
    sid, url = created.json()["id"], created.json()["url"]
    declined = requests.post(url, data={"card_number": "4000 0000 0000 0002"}, allow_redirects=False, timeout=30)
    assert declined.status_code == 402
    assert 'role="alert"' in declined.text
    assert 'id="email"' not in declined.text  # an unverified email is not given to Stripe
    assert "Your card was declined" in declined.text
    assert local_stripe.get(f"/v1/checkout/sessions/{sid}").json()["status"] == "open"
    assert events_for(local_stripe, sid) == []


def test_unknown_sessions_are_404_pages(local_stripe: LocalStripe) -> None:
    base = local_stripe.url
    assert requests.get(f"{base}/c/pay/cs_test_nothing", timeout=30).status_code == 404
    assert requests.post(f"{base}/c/pay/cs_test_nothing", data={}, timeout=30).status_code == 404
    assert requests.get(f"{base}/p/session/bps_nothing", timeout=30).status_code == 404


def test_the_portal_page_links_back_to_the_return_url(
    billing_for: Callable[[User], Billing], user: User, stripe_settings: dict[str, str]
) -> None:
    billing = billing_for(user)
    assert billing.post("create-checkout-session").status_code == 200  # makes the customer
    back = stripe_settings["BILLING_RETURN_ORIGINS"].split(",")[0] + "/settings/billing"
    portal = billing.post("create-portal-session", {"returnUrl": back})
    assert portal.status_code == 200, portal.text
    page = requests.get(portal.json()["url"], timeout=30)
    assert page.status_code == 200
    assert (back, "Return to Aksio") in links(page.text)


def test_concurrent_payments_of_one_session_pay_once(
    billing_for: Callable[[User], Billing], user: User, local_stripe: LocalStripe
) -> None:
    """Several submits at once (a double click, two tabs): one payment, one event."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    created = billing_for(user).post("create-checkout-session", {"plan": "pro"})
    sid, url = created.json()["id"], created.json()["url"]
    n = 4
    barrier = Barrier(n)

    def pay(_: int) -> requests.Response:
        barrier.wait()
        return requests.post(url, data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(pay, range(n)))
    assert sorted(a.status_code for a in answers) == [200] * (n - 1) + [303]
    assert all("already paid" in a.text for a in answers if a.status_code == 200)
    assert len(events_for(local_stripe, sid)) == 1
    customer = local_stripe.get(f"/v1/checkout/sessions/{sid}").json()["customer"]
    subscriptions = local_stripe.get("/v1/subscriptions", {"customer": customer}).json()["data"]
    assert len(subscriptions) == 1
