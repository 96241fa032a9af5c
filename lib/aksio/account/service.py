"""The account's reads and the tombstone checks other domains call.

- :func:`usage`: the plan, each limit, what each meter used in its current period and when it
  resets, and the subscription's state (status, period end, cancel at period end, grace end).
- :func:`is_deleted` / :func:`deleted_in`: whether the account is being (or was) deleted. Work
  that arrives for such a user (a Stripe event, a generation step, an upload event, a reminder
  run) is acknowledged and writes nothing: each domain asks this in its own path, inside its
  transaction when it has one (the tombstone is one of the transaction's reads; no test races a
  deletion against a commit yet).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aksio import errors, plans
from aksio import firestore as fs
from aksio import usage as meters
from aksio.account import repository as repo
from aksio.params import camel
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

Json = dict[str, Any]


class AccountDeleted(errors.Conflict):
    """The account is being deleted: the work at hand must write nothing (a 409 if it was a
    request)."""

    def __init__(self) -> None:
        super().__init__("This account is being deleted.", code="account_deleted")


def is_deleted(db: Client, uid: str) -> bool:
    return repo.read_tombstone(db, uid) is not None


def deleted_in(tx: Any, db: Client, uid: str) -> bool:
    """Inside transaction ``tx`` (a read: before the caller's writes)."""
    return repo.read_tombstone(db, uid, tx) is not None


def refuse_if_deleted_in(tx: Any, db: Client, uid: str) -> None:
    if deleted_in(tx, db, uid):
        raise AccountDeleted()


def subscription_view(user: dict[str, Any], now: datetime) -> Json:
    billing = user.get("billing") or {}
    status = billing.get("status")
    since = billing.get("pastDueSince")
    grace_end = since + plans.grace_period() if status == "past_due" and isinstance(since, datetime) else None
    return compact(
        {
            "status": status,
            "plan": billing.get("plan") if status else None,
            "currentPeriodEnd": iso(billing.get("currentPeriodEnd")),
            "cancelAtPeriodEnd": bool(billing.get("cancelAtPeriodEnd", False)) if status else None,
            "graceEndsAt": iso(grace_end),
            "inGrace": (now <= grace_end) if grace_end is not None else None,
        }
    )


def usage_view(user: dict[str, Any], quotas: list[dict[str, Any]], now: datetime) -> Json:
    plan = plans.current_plan(user, now)
    limits = {camel(f.name): getattr(plan.limits, f.name) for f in fields(plan.limits)}
    return {
        "plan": plan.id,
        "planName": plan.name,
        "limits": limits,
        "quotas": [q | {"resetsAt": iso(q["resetsAt"])} for q in quotas],
        "subscription": subscription_view(user, now),
        "at": iso(now),
    }


def usage(db: Client, uid: str, now: datetime | None = None) -> Json:
    at = now or fs.utcnow()
    user = fs.read_user(db, uid)
    return usage_view(user, meters.overview(db, uid, user, at), at)
