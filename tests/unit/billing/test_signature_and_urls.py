"""Webhook signatures (as Stripe signs them) and the return-URL allow-list."""

from __future__ import annotations

import time

import pytest

from aksio import errors, plans
from aksio.billing import signature, urls
from aksio.config import get_config
from tests.unit.billing.events import sign

BODY = b'{"id":"evt_1","type":"invoice.paid"}'
OLD, NEW = "whsec_old", "whsec_new"


def test_valid_signature_passes() -> None:
    signature.verify(BODY, sign(BODY, OLD), (OLD,))


BAD_HEADERS = {
    "none": lambda: None,
    "missing": lambda: "",
    "malformed": lambda: "garbage",
    "bad timestamp": lambda: "t=notanumber,v1=abc",
    "no v1": lambda: f"t={int(time.time())}",
    "wrong secret": lambda: sign(BODY, "whsec_wrong"),
    "signed another body": lambda: sign(BODY + b" ", OLD),
    "older than 300 s": lambda: sign(BODY, OLD, int(time.time()) - 301),
}


@pytest.mark.parametrize("why", sorted(BAD_HEADERS))
def test_bad_signatures_are_refused(why: str) -> None:
    with pytest.raises(signature.InvalidSignature):
        signature.verify(BODY, BAD_HEADERS[why](), (OLD,))


def test_tampered_body_is_refused() -> None:
    header = sign(BODY, OLD)
    with pytest.raises(signature.InvalidSignature):
        signature.verify(BODY.replace(b"paid", b"void"), header, (OLD,))


def test_within_tolerance_passes() -> None:
    signature.verify(BODY, sign(BODY, OLD, int(time.time()) - 290), (OLD,))


def test_rotation_two_v1_and_two_secrets() -> None:
    # Stripe rolling its secret: two v1 in one header; either of ours matching is enough.
    both = sign(BODY, "whsec_unknown", extra_secrets=(NEW,))
    signature.verify(BODY, both, (NEW,))
    # Our rotation: old and new configured, events signed with either pass.
    for secret in (OLD, NEW):
        signature.verify(BODY, sign(BODY, secret), (OLD, NEW))
    with pytest.raises(signature.InvalidSignature):
        signature.verify(BODY, sign(BODY, "whsec_other"), (OLD, NEW))


def test_non_utf8_body_is_refused() -> None:
    with pytest.raises(signature.InvalidSignature):
        signature.verify(b"\xff\xfe", sign(b"\xff\xfe", OLD), (OLD,))


def test_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from aksio import secrets

    monkeypatch.setattr(secrets, "_cache", {})
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", f" {OLD}, {NEW} ,")
    assert signature.webhook_secrets() == (OLD, NEW)


ORIGINS = ("http://localhost:5173", "https://app.aksio.example")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:5173/billing/done",
        "https://app.aksio.example/x?session_id={CHECKOUT_SESSION_ID}",
        "HTTPS://APP.aksio.example/",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert urls.resolve(url, "/x", "successUrl", ORIGINS) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:5174/",
        "https://evil.example/",
        "https://app.aksio.example.evil.example/",
        "https://user@app.aksio.example/",
        "javascript:alert(1)",
        "//app.aksio.example/",
        "http://app.aksio.example/",
        "https://app.aksio.example:99999/",
        "https://app.aksio.example/" + "a" * 3000,
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(errors.Invalid) as info:
        urls.resolve(url, "/x", "successUrl", ORIGINS)
    assert info.value.code == "return_url_not_allowed"


def test_default_urls_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert urls.resolve(None, urls.CANCEL_PATH, "cancelUrl", ORIGINS) == "http://localhost:5173/billing/canceled"
    monkeypatch.setenv("BILLING_RETURN_ORIGINS", "http://localhost:5173/, https://App.Example ")
    assert urls.allowed_origins() == ("http://localhost:5173", "https://app.example")
    monkeypatch.setenv("BILLING_RETURN_ORIGINS", "")
    get_config.cache_clear()
    with pytest.raises(RuntimeError):
        urls.resolve(None, "/", "returnUrl")


def test_price_mapping_and_live_subscriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_PRICE_PRO", "price_123")
    assert plans.plan_for_price("price_123") is plans.PRO
    assert plans.plan_for_price("price_other") is None
    assert plans.plan_for_price(None) is None
    assert plans.paid_plans() == (plans.PRO,)
    for status, live in (
        ("active", True),
        ("past_due", True),
        ("unpaid", True),
        ("canceled", False),
        ("incomplete", False),
    ):
        assert plans.has_live_subscription({"billing": {"subscriptionId": "sub_1", "status": status}}) is live
    assert plans.has_live_subscription({"billing": {"customerId": "cus_1"}}) is False
