"""What the billing functions do: checkout, portal, webhook. Composed of the pure model, the
signature check, the Stripe adapter and the Firestore store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aksio import errors, log, plans
from aksio.billing import model, signature, stripe_api, urls
from aksio.billing import repository as store

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.billing")


def _idempotency_key(uid: str) -> str:
    # Stripe keeps idempotency keys 24 h; after that the Firestore mapping exists.
    return f"aksio-customer-{uid}"


def ensure_customer(db: Client, uid: str, email: str | None) -> str:
    """The user's Stripe customer, created once per user and reused."""

    def create() -> str:
        params: dict[str, Any] = {"metadata": {"uid": uid}}
        if email:
            params["email"] = email
        options = {"idempotency_key": _idempotency_key(uid)}
        customer = stripe_api.call(
            "customer create", lambda: stripe_api.client().v1.customers.create(params=params, options=options)
        )
        return str(stripe_api.as_dict(customer)["id"])

    return store.ensure_customer(db, uid, create)


# -- checkout and portal -------------------------------------------------------------------


def checkout(
    db: Client, uid: str, *, email: str | None, plan_id: str, success_url: str | None, cancel_url: str | None
) -> dict[str, Any]:
    """A Checkout Session in subscription mode for ``plan_id``'s price: ``{id, url}``."""
    plan = plans.PLANS.get(plan_id)
    if plan is None or plan.price_env is None:
        raise errors.Invalid(f"No paid plan {plan_id!r}.", code="unknown_plan")
    price = plan.price_id
    if not price:
        raise RuntimeError(f"{plan.price_env} is not configured")
    success = urls.resolve(success_url, urls.SUCCESS_PATH, "successUrl")
    cancel = urls.resolve(cancel_url, urls.CANCEL_PATH, "cancelUrl")
    if plans.has_live_subscription(store.read_user(db, uid)):
        raise errors.Conflict(
            "You already have a subscription; manage it in the billing portal.", code="already_subscribed"
        )
    customer = ensure_customer(db, uid, email)
    params = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": uid,
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": success,
        "cancel_url": cancel,
        "metadata": {"uid": uid, "plan": plan.id},
        "subscription_data": {"metadata": {"uid": uid, "plan": plan.id}},
    }
    session = stripe_api.call(
        "checkout session create", lambda: stripe_api.client().v1.checkout.sessions.create(params=params)
    )
    data = stripe_api.as_dict(session)
    _log.info("checkout session created", extra={"event": "checkout_started", "plan": plan.id})
    return {"id": data["id"], "url": data["url"], "customer_id": customer}


def portal(db: Client, uid: str, return_url: str | None) -> dict[str, Any]:
    """A Billing Portal session for the user's customer; 404 when the user has none."""
    back = urls.resolve(return_url, urls.RETURN_PATH, "returnUrl")
    customer = store.billing_of(store.read_user(db, uid)).customer_id
    if not customer:
        raise errors.NotFound("You have no billing account yet; subscribe first.", code="no_customer")
    params = {"customer": customer, "return_url": back}
    session = stripe_api.call(
        "portal session create", lambda: stripe_api.client().v1.billing_portal.sessions.create(params=params)
    )
    data = stripe_api.as_dict(session)
    return {"id": data["id"], "url": data["url"]}


# -- the webhook ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    outcome: str  # applied | stale | duplicate | unknown_customer | account_deleted | ignored
    plan: str | None = None


def _subscription_snapshot(done: model.CheckoutCompleted) -> model.Facts:
    sub = stripe_api.call(
        "subscription retrieve", lambda: stripe_api.client().v1.subscriptions.retrieve(done.subscription_id)
    )
    facts = model.subscription_facts(done.event_id, model.CHECKOUT_COMPLETED, done.created, stripe_api.as_dict(sub))
    if facts.customer_id != done.customer_id:
        raise model.EventError("The checkout's subscription belongs to another customer.")
    return facts


def webhook(db: Client, payload: bytes, header: str | None) -> WebhookResult:
    """Verify, read and apply one Stripe event. Raises :class:`signature.InvalidSignature` or
    :class:`model.EventError` for a request to refuse (400); anything else is our failure."""
    signature.verify(payload, header, signature.webhook_secrets())
    try:
        event = json.loads(payload)
    except ValueError:
        raise model.EventError("The body is not JSON.") from None
    event_id, kind, _, _ = model.event_header(event)
    meaning = model.event_facts(event)
    if meaning is None:
        _log.info("stripe event ignored", extra={"eventId": event_id, "eventType": kind})
        return WebhookResult(event_id, kind, "ignored")
    if isinstance(meaning, model.CheckoutCompleted):
        # The session names the subscription but not its state: fetch it once (not for a
        # customer we do not know, nor for a duplicate of an event already recorded).
        uid = store.uid_of_customer(db, meaning.customer_id)
        if uid is None:
            return _unknown(event_id, kind, meaning.customer_id)
        if store.event_recorded(db, event_id):
            recorded = store.Recorded("duplicate", uid)
        else:
            recorded = store.record(db, _subscription_snapshot(meaning))
    else:
        recorded = store.record(db, meaning)
    if recorded.outcome == "unknown_customer":
        return _unknown(event_id, kind, meaning.customer_id)
    plan = store.sync_claim(db, recorded.uid) if recorded.uid else None
    _log.info(
        "stripe event %s",
        recorded.outcome,
        extra={
            "eventId": event_id,
            "eventType": kind,
            "uid": recorded.uid,
            "reason": recorded.reason or None,
            "event": "checkout_completed"
            if isinstance(meaning, model.CheckoutCompleted) and recorded.outcome == "applied"
            else None,
        },
    )
    return WebhookResult(event_id, kind, recorded.outcome, plan)


def _unknown(event_id: str, kind: str, customer: str) -> WebhookResult:
    _log.warning(
        "stripe event for a customer we do not know; nothing written",
        extra={"eventId": event_id, "eventType": kind, "customerId": customer},
    )
    return WebhookResult(event_id, kind, "unknown_customer")


# -- account deletion ----------------------------------------------------------------------


def close_customer(db: Client, uid: str) -> int:
    """Account deletion, first step: cancel every live subscription of the user's Stripe
    customer(s) at once (no proration, no further invoice) and delete the customer, so Stripe
    keeps nothing of the user. Idempotent: a customer already deleted counts as done.
    Returns how many subscriptions were canceled."""
    import stripe

    canceled = 0
    for customer in store.customers_of_user(db, uid):
        with stripe_api.stripe_errors("account close"):
            try:
                subs = stripe_api.client().v1.subscriptions.list(params={"customer": customer, "status": "all"})
                for sub in stripe_api.as_dict(subs).get("data") or []:
                    data = stripe_api.as_dict(sub)
                    if data.get("status") not in plans.TERMINAL_STATUSES:
                        stripe_api.client().v1.subscriptions.cancel(str(data["id"]))
                        canceled += 1
                stripe_api.client().v1.customers.delete(customer)
            except stripe.InvalidRequestError as exc:
                if getattr(exc, "http_status", None) != 404:  # 404: deleted by an earlier attempt
                    raise
    _log.info("stripe customer closed", extra={"uid": uid, "canceled": canceled})
    return canceled


def forget_user(db: Client, uid: str) -> int:
    """Account deletion: the global records naming the user (customer mappings, processed
    events). Returns how many were deleted."""
    return store.delete_user_records(db, uid)
