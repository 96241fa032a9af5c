"""Firestore of billing: the customer mapping, event dedupe, the billing state; the claim.

- ``stripeCustomers/{customerId}`` → ``{uid}`` and ``users/{uid}.billing.customerId``: the
  mapping both ways, written together in one transaction, once per user.
- ``stripeEvents/{eventId}``: created (``create``, never ``set``) in the same transaction as the
  change the event causes, so an event is applied at most once even when Stripe delivers it
  twice at the same time: the second transaction sees the record (or its commit fails with
  ALREADY_EXISTS) and changes nothing. ``expireAt`` is for a Firestore TTL policy (Stripe stops
  retrying after 3 days; records are kept 30).
- ``users/{uid}.billing``: :class:`aksio.billing.model.BillingState`.

The ``plan`` custom claim is a cache of :func:`aksio.plans.current_plan` of the stored state,
merged into the user's other claims after each delivery (duplicates too, so a claim update
that failed is repaired by Stripe's retry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import firestore as fs
from aksio import log, plans
from aksio.account import activity
from aksio.account import service as account
from aksio.billing.model import BillingState, Facts, apply

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

_log = log.get_logger("aksio.billing")
EVENT_TTL = timedelta(days=30)


def customers(db: Client) -> Any:
    return db.collection("stripeCustomers")


def events(db: Client) -> Any:
    return db.collection("stripeEvents")


def read_user(db: Client, uid: str) -> dict[str, Any]:
    return fs.read_user(db, uid)


def billing_of(user: dict[str, Any]) -> BillingState:
    return BillingState.from_stored(user.get("billing"))


# -- customers -----------------------------------------------------------------------------


def ensure_customer(db: Client, uid: str, create: Callable[[], str]) -> str:
    """The user's Stripe customer id, created (by ``create``) only if the user has none.

    ``create`` must be idempotent per user (a Stripe idempotency key derived from the uid), so
    two first checkouts racing each other get the same customer; the mapping is then written
    once, in a transaction that keeps whichever mapping landed first.
    """
    existing = billing_of(read_user(db, uid)).customer_id
    if existing:
        return existing
    created = create()

    user_ref, customer_ref = fs.user_doc(db, uid), customers(db).document(created)

    def link(tx: Any) -> str:
        snap = user_ref.get(transaction=tx)
        current = billing_of((snap.to_dict() or {}) if snap.exists else {}).customer_id
        if current:
            return current
        tx.set(customer_ref, {"uid": uid, "createdAt": fs.utcnow()})
        tx.set(user_ref, {"billing": {"customerId": created}, "updatedAt": fs.utcnow()}, merge=True)
        return created

    customer_id = fs.run_transaction(db, link, what="billing link")
    if customer_id != created:
        _log.warning("a concurrent checkout linked another customer first", extra={"uid": uid})
    return customer_id


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    outcome: str  # applied | stale | duplicate | unknown_customer | account_deleted
    uid: str | None = None
    reason: str = ""


def record(db: Client, facts: Facts) -> Recorded:
    """Apply ``facts`` to the customer's user and record the event, in one transaction."""
    event_ref = events(db).document(facts.event_id)
    customer_ref = customers(db).document(facts.customer_id)

    def change(tx: Any) -> Recorded:
        seen = event_ref.get(transaction=tx)
        if seen.exists:
            return Recorded("duplicate", (seen.to_dict() or {}).get("uid"))
        mapping = customer_ref.get(transaction=tx)
        uid = (mapping.to_dict() or {}).get("uid") if mapping.exists else None
        if not uid:
            return Recorded("unknown_customer")
        if account.deleted_in(tx, db, uid):  # acknowledged; the deletion removes what there was
            return Recorded("account_deleted")
        user_ref = fs.user_doc(db, uid)
        snap = user_ref.get(transaction=tx)
        user = (snap.to_dict() or {}) if snap.exists else {}
        state = billing_of(user)
        decision = apply(state, facts)
        now = fs.utcnow()
        tx.create(
            event_ref,
            {
                "type": facts.event_type,
                "created": facts.created,
                "uid": uid,
                "customerId": facts.customer_id,
                "subscriptionId": facts.subscription_id,
                "outcome": decision.outcome,
                "processedAt": now,
                "expireAt": now + EVENT_TTL,
            },
        )
        if decision.changed:
            tx.set(user_ref, {"billing": decision.state.to_stored(), "updatedAt": now}, merge=True)
            before = plans.current_plan(user, now).id
            after = plans.current_plan({"billing": decision.state.to_stored()}, now).id
            if before != after:
                change = {"from": before, "to": after, "status": decision.state.status}
                activity.record_in(tx, db, uid, "plan_changed", facts.event_id, details=change)
        return Recorded(decision.outcome, uid, decision.reason)

    try:
        return fs.run_transaction(db, change, what="billing event")
    except Exception as exc:
        if not fs.already_exists(exc):  # ALREADY_EXISTS on the event record: a concurrent delivery won
            raise
        return Recorded("duplicate", fs.data_of(event_ref.get()).get("uid"))


def event_recorded(db: Client, event_id: str) -> bool:
    return fs.read(events(db).document(event_id)) is not None


def uid_of_customer(db: Client, customer_id: str) -> str | None:
    snap = customers(db).document(customer_id).get()
    uid = (snap.to_dict() or {}).get("uid") if snap.exists else None
    return str(uid) if uid else None


# -- the custom claim ----------------------------------------------------------------------


def sync_claim(db: Client, uid: str) -> str | None:
    """Make the user's ``plan`` claim the plan of the stored state, merged into their other
    claims. Returns the plan, or None for a user Auth no longer knows.

    Two deliveries for one user may finish in any order, so after changing the claim the state
    is read again and the claim set again if it moved meanwhile: whichever delivery finishes
    last has read the last committed state, and the claim converges to it.
    """
    from firebase_admin import auth

    from aksio.auth import firebase_app

    app = firebase_app()
    plan = plans.current_plan(read_user(db, uid)).id
    for _ in range(3):
        try:
            claims = dict(auth.get_user(uid, app=app).custom_claims or {})
        except auth.UserNotFoundError:
            _log.warning("billing event for a user Auth does not know", extra={"uid": uid})
            return None
        if claims.get("plan") == plan:
            return plan
        claims["plan"] = plan
        auth.set_custom_user_claims(uid, claims, app=app)
        now_plan = plans.current_plan(read_user(db, uid)).id
        if now_plan == plan:
            return plan
        plan = now_plan
    return plan


# -- account deletion ----------------------------------------------------------------------


def customers_of_user(db: Client, uid: str) -> list[str]:
    """The user's Stripe customer ids: the one on the user and any mapped to the uid."""
    found = {s.id for s in customers(db).where(filter=fs.where("uid", "==", uid)).select([]).stream()}
    own = billing_of(read_user(db, uid)).customer_id
    if own:
        found.add(own)
    return sorted(found)


def delete_user_records(db: Client, uid: str) -> int:
    """Delete ``stripeCustomers`` and ``stripeEvents`` entries that name ``uid``."""
    deleted = fs.delete_matching(db, customers(db).where(filter=fs.where("uid", "==", uid)))
    return deleted + fs.delete_matching(db, events(db).where(filter=fs.where("uid", "==", uid)))
