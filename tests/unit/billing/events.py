"""Stripe events as Stripe sends them (API 2026 shapes, with the fields we read), and the
``Stripe-Signature`` header computed exactly as Stripe computes it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

PRICE_PRO = "price_aksio_pro_local"


def sign(body: bytes | str, secret: str, timestamp: int | None = None, *, extra_secrets: tuple[str, ...] = ()) -> str:
    """``t=<ts>,v1=HMAC-SHA256(secret, "{t}.{body}")`` (one ``v1`` per secret, as during a roll)."""
    raw = body.encode() if isinstance(body, str) else body
    t = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={t}"]
    for s in (secret, *extra_secrets):
        mac = hmac.new(s.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        parts.append(f"v1={mac}")
    return ",".join(parts)


def event(kind: str, obj: dict[str, Any], created: int, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def subscription(
    sub_id: str,
    customer: str,
    status: str,
    *,
    period_end: int,
    price: str = PRICE_PRO,
    cancel_at_period_end: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": None,
        "metadata": {"uid": uid, "plan": "pro"} if uid else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id[4:]}",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "quantity": 1,
                    "current_period_start": period_end - 30 * 86400,
                    "current_period_end": period_end,
                }
            ],
        },
    }


def invoice(
    sub_id: str, customer: str, *, period_end: int, paid: bool, billing_reason: str = "subscription_cycle"
) -> dict[str, Any]:
    return {
        "id": f"in_{uuid.uuid4().hex[:20]}",
        "object": "invoice",
        "customer": customer,
        "billing_reason": billing_reason,
        "status": "paid" if paid else "open",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": f"il_{uuid.uuid4().hex[:20]}",
                    "object": "line_item",
                    "period": {"start": period_end - 30 * 86400, "end": period_end},
                    "pricing": {"type": "price_details", "price_details": {"price": PRICE_PRO, "product": "prod_x"}},
                    "parent": {"subscription_item_details": {"subscription": sub_id}},
                }
            ],
        },
    }


def checkout_session(customer: str, sub_id: str, uid: str) -> dict[str, Any]:
    return {
        "id": f"cs_test_{uuid.uuid4().hex[:24]}",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": customer,
        "subscription": sub_id,
        "client_reference_id": uid,
        "payment_status": "paid",
        "status": "complete",
    }


def lifecycle(customer: str, sub_id: str, start: int, *, cancel: bool = True) -> list[dict[str, Any]]:
    """A subscription's life as Stripe reports it, one stage per second apart and each stage's
    events sharing their second: created → updated (cancel at period end, then resumed) →
    renewal fails (past_due) → paid (active) → canceled."""
    p1, p2 = start + 30 * 86400, start + 60 * 86400
    out = [
        event("customer.subscription.created", subscription(sub_id, customer, "active", period_end=p1), start),
        event(
            "customer.subscription.updated",
            subscription(sub_id, customer, "active", period_end=p1, cancel_at_period_end=True),
            start + 10,
        ),
        event("invoice.payment_failed", invoice(sub_id, customer, period_end=p2, paid=False), start + 20),
        event("customer.subscription.updated", subscription(sub_id, customer, "past_due", period_end=p2), start + 20),
        event("invoice.paid", invoice(sub_id, customer, period_end=p2, paid=True), start + 30),
        event("customer.subscription.updated", subscription(sub_id, customer, "active", period_end=p2), start + 30),
    ]
    if cancel:
        out.append(
            event(
                "customer.subscription.deleted", subscription(sub_id, customer, "canceled", period_end=p2), start + 40
            )
        )
    return out


def body(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt, separators=(",", ":")).encode()
