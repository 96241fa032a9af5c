"""Stripe events → subscription facts → the stored billing state. Pure: no I/O.

Order safety
------------
Stripe does not deliver events in order, and retries deliver old events late. We keep the
newest information by **ignoring what is older than what we stored**, rather than re-reading
the subscription from Stripe on every event:

- each event carries ``created`` (seconds); the stored state remembers the ``created`` of the
  event its status came from (``version``) and of the whole subscription snapshot its other
  fields came from (``snapshotVersion``). An event older than those changes nothing (it is
  still recorded as processed). Invoice events carry only part of the picture (status, period
  end), so they move ``version`` but leave the snapshot fields to subscription events.
- events of the same second are ordered by the lifecycle rank of their status (``incomplete``
  < ``trialing`` < ``active`` < ``past_due`` < ``unpaid`` < ``paused`` < terminal), so e.g.
  ``created(incomplete)`` and ``updated(active)`` of one second end ``active`` in either order.
- a terminal status (``canceled``, ``incomplete_expired``) is final for its subscription: a late
  ``invoice.paid`` of a canceled subscription does not revive it; and the end of an *old*
  subscription does not take away a newer live one.

Why not re-read from Stripe: it needs a Stripe call per event (the webhook then fails whenever
Stripe's API is slow), and two concurrent deliveries can still write their re-reads in the
wrong order unless they are versioned anyway; versions alone are enough and are testable.
``checkout.session.completed`` is the one event without a subscription state in it: its
subscription is fetched once (:mod:`aksio.billing.service`) and applied as a snapshot of that
event's time, under the same rules.

Grace while ``past_due``: ``pastDueSince`` is the time of the first ``past_due`` fact and is kept
while the status stays ``past_due``; :func:`aksio.plans.current_plan` grants the plan within
``BILLING_GRACE_DAYS`` of it. A failed *first* payment (``billing_reason=subscription_create``)
is ``incomplete``, never ``past_due``: nobody gets a grace period for a plan never paid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aksio import plans

SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
CHECKOUT_COMPLETED = "checkout.session.completed"
HANDLED_EVENTS = SUBSCRIPTION_EVENTS | INVOICE_EVENTS | {CHECKOUT_COMPLETED}

_RANK = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "unpaid": 4,
    "paused": 5,
    "canceled": 9,
    "incomplete_expired": 9,
}


def rank(status: str | None) -> int:
    return -1 if status is None else _RANK.get(status, 2)


def is_terminal(status: str | None) -> bool:
    return status in plans.TERMINAL_STATUSES


class EventError(ValueError):
    """A verified event we cannot read (a malformed payload): answered 400."""


@dataclass(frozen=True)
class Facts:
    """What one event says about one subscription of one customer, at ``created``."""

    event_id: str
    event_type: str
    created: int
    customer_id: str
    subscription_id: str
    status: str | None
    full: bool  # a whole subscription snapshot (subscription events) vs a partial one (invoices)
    price_id: str | None = None
    plan: str | None = None
    current_period_end: int | None = None
    cancel_at_period_end: bool | None = None


@dataclass(frozen=True)
class BillingState:
    """The map ``users/{uid}.billing``."""

    customer_id: str | None = None
    subscription_id: str | None = None
    plan: str = "free"
    price_id: str | None = None
    status: str | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    past_due_since: datetime | None = None
    version: int = 0  # ``created`` of the event the status came from
    snapshot_version: int = 0  # ``created`` of the subscription snapshot the other fields came from

    def to_stored(self) -> dict[str, Any]:
        return {
            "customerId": self.customer_id,
            "subscriptionId": self.subscription_id,
            "plan": self.plan,
            "priceId": self.price_id,
            "status": self.status,
            "currentPeriodEnd": self.current_period_end,
            "cancelAtPeriodEnd": self.cancel_at_period_end,
            "pastDueSince": self.past_due_since,
            "version": self.version,
            "snapshotVersion": self.snapshot_version,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> BillingState:
        data = data or {}

        def when(value: Any) -> datetime | None:
            return value if isinstance(value, datetime) else None

        return cls(
            customer_id=data.get("customerId"),
            subscription_id=data.get("subscriptionId"),
            plan=str(data.get("plan") or "free"),
            price_id=data.get("priceId"),
            status=data.get("status"),
            current_period_end=when(data.get("currentPeriodEnd")),
            cancel_at_period_end=bool(data.get("cancelAtPeriodEnd", False)),
            past_due_since=when(data.get("pastDueSince")),
            version=int(data.get("version") or 0),
            snapshot_version=int(data.get("snapshotVersion") or 0),
        )


@dataclass(frozen=True)
class Decision:
    state: BillingState
    outcome: str  # "applied" | "stale"
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.outcome == "applied"


def ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


# -- reading events ------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    """A Stripe reference: an id string, or an expanded object with an ``id``."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(items: Any) -> dict[str, Any]:
    data = items.get("data") if isinstance(items, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    return {}


def _price_of_item(item: dict[str, Any]) -> str | None:
    # API ≥ 2025-03-31: item.price; invoice lines: pricing.price_details.price; legacy: plan.
    price = _id(item.get("price"))
    if price:
        return price
    details = _map(_map(item.get("pricing")).get("price_details"))
    return _id(details.get("price")) or _id(item.get("plan"))


def _plan_id(price_id: str | None, metadata: Any) -> str | None:
    plan = plans.plan_for_price(price_id)
    if plan is not None:
        return plan.id
    if isinstance(metadata, dict) and metadata.get("plan") in plans.PLANS:
        return str(metadata["plan"])
    return None


def event_header(event: Any) -> tuple[str, str, int, dict[str, Any]]:
    """``(id, type, created, data.object)`` of an event, or :class:`EventError`."""
    if not isinstance(event, dict):
        raise EventError("The event is not a JSON object.")
    event_id, kind, created = event.get("id"), event.get("type"), _int(event.get("created"))
    obj = _map(event.get("data")).get("object")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or created is None:
        raise EventError("The event lacks id, type or created.")
    if not isinstance(obj, dict):
        raise EventError("The event lacks data.object.")
    return event_id, kind, created, obj


def subscription_facts(event_id: str, kind: str, created: int, sub: dict[str, Any]) -> Facts:
    """Facts of a whole subscription object (a subscription event, or one fetched from Stripe)."""
    sub_id, customer = _id(sub.get("id")), _id(sub.get("customer"))
    status = sub.get("status")
    if not sub_id or not customer or not isinstance(status, str):
        raise EventError("The subscription lacks id, customer or status.")
    item = _first(sub.get("items"))
    price = _price_of_item(item) or _id(sub.get("plan"))
    # API ≥ 2025-03-31 keeps the period on the items; older versions on the subscription.
    period_end = _int(sub.get("current_period_end")) or _int(item.get("current_period_end"))
    if kind == "customer.subscription.deleted" and not is_terminal(status):
        status = "canceled"
    return Facts(
        event_id=event_id,
        event_type=kind,
        created=created,
        customer_id=customer,
        subscription_id=sub_id,
        status=status,
        full=True,
        price_id=price,
        plan=_plan_id(price, sub.get("metadata")),
        current_period_end=period_end,
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")) or sub.get("cancel_at") is not None,
    )


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    sub = _id(invoice.get("subscription"))  # API < 2025-03-31
    if sub:
        return sub
    sub = _id(_map(_map(invoice.get("parent")).get("subscription_details")).get("subscription"))
    if sub:
        return sub
    line = _first(invoice.get("lines"))
    item_details = _map(_map(line.get("parent")).get("subscription_item_details"))
    return _id(item_details.get("subscription")) or _id(line.get("subscription"))


def invoice_facts(event_id: str, kind: str, created: int, invoice: dict[str, Any]) -> Facts | None:
    """Facts of ``invoice.paid`` / ``invoice.payment_failed``; None for an invoice of no subscription."""
    sub_id, customer = _invoice_subscription(invoice), _id(invoice.get("customer"))
    if not sub_id:
        return None
    if not customer:
        raise EventError("The invoice lacks a customer.")
    if kind == "invoice.paid":
        status = "active"
    else:
        # A failed first payment leaves the subscription incomplete; a failed renewal makes it past_due.
        status = "incomplete" if invoice.get("billing_reason") == "subscription_create" else "past_due"
    line = _first(invoice.get("lines"))
    price = _price_of_item(line)
    period = _map(line.get("period"))
    return Facts(
        event_id=event_id,
        event_type=kind,
        created=created,
        customer_id=customer,
        subscription_id=sub_id,
        status=status,
        full=False,
        price_id=price,
        plan=_plan_id(price, _map(_map(invoice.get("parent")).get("subscription_details")).get("metadata")),
        current_period_end=_int(period.get("end")) if kind == "invoice.paid" else None,
    )


@dataclass(frozen=True)
class CheckoutCompleted:
    event_id: str
    created: int
    customer_id: str
    subscription_id: str
    uid: str | None


def checkout_completed(event_id: str, created: int, session: dict[str, Any]) -> CheckoutCompleted | None:
    """A subscription-mode checkout that completed; None for any other checkout."""
    if session.get("mode") != "subscription":
        return None
    customer, sub = _id(session.get("customer")), _id(session.get("subscription"))
    if not customer or not sub:
        return None
    uid = session.get("client_reference_id")
    return CheckoutCompleted(event_id, created, customer, sub, uid if isinstance(uid, str) else None)


def event_facts(event: Any) -> Facts | CheckoutCompleted | None:
    """What a verified event means: facts to apply, a completed checkout (whose subscription is
    fetched by the caller), or None for an event we ignore."""
    event_id, kind, created, obj = event_header(event)
    if kind in SUBSCRIPTION_EVENTS:
        return subscription_facts(event_id, kind, created, obj)
    if kind in INVOICE_EVENTS:
        return invoice_facts(event_id, kind, created, obj)
    if kind == CHECKOUT_COMPLETED:
        return checkout_completed(event_id, created, obj)
    return None


# -- the rule ------------------------------------------------------------------------------


def apply(state: BillingState, facts: Facts) -> Decision:
    """Fold ``facts`` into ``state`` keeping the newest information (see the module doc)."""
    base = state
    if state.subscription_id and facts.subscription_id != state.subscription_id:
        if is_terminal(facts.status) and not is_terminal(state.status):
            return Decision(state, "stale", "an older subscription ended; the current one stays")
        if facts.created < state.version:
            return Decision(state, "stale", "older than the stored subscription")
        # Another subscription (e.g. a new one after a cancellation): start from its facts alone.
        base = BillingState(customer_id=state.customer_id)

    return _fold(state, base, facts)


def _fold(state: BillingState, base: BillingState, facts: Facts) -> Decision:
    status_newer = facts.status is not None and (
        facts.created > base.version or (facts.created == base.version and rank(facts.status) >= rank(base.status))
    )
    if is_terminal(base.status) and not is_terminal(facts.status):
        status_newer = False  # a canceled subscription stays canceled
    snapshot_newer = facts.full and facts.created >= base.snapshot_version
    if not status_newer and not snapshot_newer:
        return Decision(state, "stale", "older than the stored state")

    new = replace(base, subscription_id=facts.subscription_id, customer_id=facts.customer_id)
    if snapshot_newer:
        new = replace(
            new,
            plan=facts.plan or new.plan,
            price_id=facts.price_id or new.price_id,
            cancel_at_period_end=bool(facts.cancel_at_period_end),
            snapshot_version=facts.created,
        )
        if new.current_period_end is None and facts.current_period_end is not None:
            new = replace(new, current_period_end=ts(facts.current_period_end))
    elif facts.plan and new.plan == plans.FREE.id:
        new = replace(new, plan=facts.plan, price_id=facts.price_id)  # an invoice told us first
    if status_newer:
        assert facts.status is not None
        if facts.status != "past_due":
            past_due_since = None
        elif base.status == "past_due" and base.past_due_since is not None:
            past_due_since = base.past_due_since
        else:
            past_due_since = ts(facts.created)
        new = replace(new, status=facts.status, version=facts.created, past_due_since=past_due_since)
        if facts.current_period_end is not None:
            new = replace(new, current_period_end=ts(facts.current_period_end))
    return Decision(new, "applied")
