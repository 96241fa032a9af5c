"""The stripe-webhook function in-process with a fake store: what is answered when, and that
nothing is touched before the signature is verified. Fetching a completed checkout's
subscription from Stripe is tested against the stack's Stripe (localstripe), in
``tests/e2e/billing/test_webhook.py`` (``…_the_retry_applies``) and the upgrade flow."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from aksio import secrets
from aksio.billing import repository as store
from aksio.endpoints import stripe_webhook
from tests.unit.billing import events as ev

SECRET = "whsec_unit"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_cache", {})
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STRIPE_PRICE_PRO", ev.PRICE_PRO)
    monkeypatch.setattr(stripe_webhook, "firestore_client", lambda: "db")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []

    def record(db: Any, facts: Any) -> store.Recorded:
        seen.append(facts)
        return store.Recorded("applied", "uid-1")

    monkeypatch.setattr(store, "record", record)
    monkeypatch.setattr(store, "sync_claim", lambda db, uid: "pro")
    return seen


def post(body: bytes, header: str | None) -> Any:
    headers = {"Stripe-Signature": header} if header is not None else {}
    env = EnvironBuilder(path="/", method="POST", data=body, headers=headers, content_type="application/json")
    return stripe_webhook.api(Request(env.get_environ()))


def evt() -> dict[str, Any]:
    return ev.event(
        "customer.subscription.updated", ev.subscription("sub_1", "cus_1", "active", period_end=9), int(time.time())
    )


def test_verified_event_is_applied(calls: list[Any]) -> None:
    body = ev.body(evt())
    r = post(body, ev.sign(body, SECRET))
    assert r.status_code == 200
    assert json.loads(r.data) | {"eventId": None} == {
        "received": True,
        "eventId": None,
        "type": "customer.subscription.updated",
        "outcome": "applied",
        "plan": "pro",
    }
    assert len(calls) == 1


def test_bad_signature_touches_nothing(calls: list[Any]) -> None:
    body = ev.body(evt())
    for header in (None, "t=1,v1=00", ev.sign(body, "whsec_other")):
        r = post(body, header)
        assert r.status_code == 400
        assert json.loads(r.data)["error"]["code"] == "invalid_signature"
    assert calls == []


def test_our_failures_are_5xx(monkeypatch: pytest.MonkeyPatch, calls: list[Any]) -> None:
    body = ev.body(evt())

    def broken(db: Any, facts: Any) -> store.Recorded:
        raise RuntimeError("firestore is down")

    monkeypatch.setattr(store, "record", broken)
    r = post(body, ev.sign(body, SECRET))
    assert r.status_code == 500
    assert json.loads(r.data)["error"]["code"] == "internal"
    assert b"firestore" not in r.data

    monkeypatch.setattr(store, "record", lambda db, facts: store.Recorded("applied", "uid-1"))

    def claim_down(db: Any, uid: str) -> str:
        raise ConnectionError("auth unreachable")

    monkeypatch.setattr(store, "sync_claim", claim_down)
    r = post(body, ev.sign(body, SECRET))  # a dependency that is down: 503, so Stripe retries
    assert r.status_code == 503
    assert json.loads(r.data)["error"]["code"] == "unavailable"
    assert b"auth unreachable" not in r.data


def test_missing_secret_is_5xx(monkeypatch: pytest.MonkeyPatch, calls: list[Any]) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    body = ev.body(evt())
    assert post(body, ev.sign(body, SECRET)).status_code == 500
    assert calls == []


def test_unknown_customer_is_200_without_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "record", lambda db, facts: store.Recorded("unknown_customer"))

    def no_claim(db: Any, uid: str) -> str:
        raise AssertionError("no claim for an unknown customer")

    monkeypatch.setattr(store, "sync_claim", no_claim)
    body = ev.body(evt())
    r = post(body, ev.sign(body, SECRET))
    assert r.status_code == 200
    assert json.loads(r.data)["outcome"] == "unknown_customer"
