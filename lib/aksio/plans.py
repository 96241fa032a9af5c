"""Plans and what they allow: one place every function asks "what may this user do now".

The plan comes from the subscription the billing webhook stores on ``users/{uid}``
(map ``billing``: ``plan``, ``status``, ``currentPeriodEnd``, ``cancelAtPeriodEnd``,
``pastDueSince``; see :mod:`aksio.billing.model` for the rest). Pure: no I/O.

A paid plan is sold at a Stripe price whose id comes from the environment variable named
by ``Plan.price_env`` (``STRIPE_PRICE_PRO``); :func:`plan_for_price` maps it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aksio.config import get_config

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    max_pages_per_document: int
    pages_per_month: int
    generations_per_month: int
    tutor_messages_per_day: int
    # Model tokens (prompt + completion) of flashcard generation and the tutor, and tokens
    # embedded (documents and questions), per UTC month: reserved before each call
    # (aksio.usage.reserve) and settled after with what the call really used.
    ai_tokens_per_month: int
    embedding_tokens_per_month: int
    # Requests to the model or the embeddings API (each reserved before it is made).
    ai_calls_per_month: int


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    limits: Limits
    # The environment variable holding this plan's Stripe price id (None for free).
    price_env: str | None = None

    @property
    def price_id(self) -> str | None:
        return get_config().stripe_prices.get(self.price_env) if self.price_env else None


FREE = Plan(
    "free",
    "Free",
    Limits(
        max_upload_bytes=25 * MB,
        max_pages_per_document=500,
        pages_per_month=1000,
        generations_per_month=10,
        tutor_messages_per_day=30,
        ai_tokens_per_month=1_000_000,
        embedding_tokens_per_month=2_000_000,
        ai_calls_per_month=3_000,
    ),
)
PRO = Plan(
    "pro",
    "Pro",
    Limits(
        max_upload_bytes=100 * MB,
        max_pages_per_document=2000,
        pages_per_month=20000,
        generations_per_month=300,
        tutor_messages_per_day=500,
        ai_tokens_per_month=20_000_000,
        embedding_tokens_per_month=40_000_000,
        ai_calls_per_month=60_000,
    ),
    price_env="STRIPE_PRICE_PRO",
)
PLANS: dict[str, Plan] = {p.id: p for p in (FREE, PRO)}

# Subscription statuses that grant the paid plan; past_due only within the grace period.
ACTIVE_STATUSES = {"active", "trialing"}
# Statuses after which a subscription never grants anything again.
TERMINAL_STATUSES = {"canceled", "incomplete_expired"}
# Statuses of a subscription that still exists for the customer to pay or manage.
LIVE_STATUSES = ACTIVE_STATUSES | {"past_due", "unpaid"}


def paid_plans() -> tuple[Plan, ...]:
    return tuple(p for p in PLANS.values() if p.price_env)


def plan_for_price(price_id: str | None) -> Plan | None:
    """The paid plan sold at this Stripe price id (from the plans' price variables), if any."""
    if not price_id:
        return None
    for plan in paid_plans():
        if plan.price_id and plan.price_id == price_id:
            return plan
    return None


def grace_period() -> timedelta:
    return timedelta(days=get_config().billing_grace_days)


def current_plan(user: dict[str, Any] | None, now: datetime | None = None) -> Plan:
    """The plan the user may use at ``now``, from the stored billing state."""
    billing = (user or {}).get("billing") or {}
    plan = PLANS.get(str(billing.get("plan", "free")), FREE)
    if plan is FREE:
        return FREE
    status = billing.get("status")
    if status in ACTIVE_STATUSES:
        return plan
    if status == "past_due":
        since = billing.get("pastDueSince")
        now = now or datetime.now(UTC)
        if isinstance(since, datetime) and now - since <= grace_period():
            return plan
    return FREE


def limits_for(user: dict[str, Any] | None, now: datetime | None = None) -> Limits:
    return current_plan(user, now).limits


def has_live_subscription(user: dict[str, Any] | None) -> bool:
    """Whether the stored subscription is one a second checkout would duplicate (the user
    manages it in the Billing Portal instead): paying, trialing, or behind on payment."""
    billing = (user or {}).get("billing") or {}
    return bool(billing.get("subscriptionId")) and billing.get("status") in LIVE_STATUSES
