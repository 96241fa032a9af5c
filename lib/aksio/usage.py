"""Usage and quotas per user and period, in ``users/{uid}/usage/{period}``.

Periods are UTC calendar months (``2026-11``: generations, tokens) and UTC days
(``2026-11-23``: tutor messages). A charge reads the plan (``users/{uid}``) and the
period's counter and increments it in one transaction, so two concurrent requests can never
both take the last unit; over the limit it is a 429 saying when the period resets
(``details.resetsAt`` and ``Retry-After``). Tokens and model calls are added to the month's
document by the step that spent them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aksio import errors, plans

PeriodKind = Literal["month", "day"]


@dataclass(frozen=True)
class Meter:
    field: str  # the counter in the usage document
    period: PeriodKind
    limit_attr: str  # the attribute of plans.Limits
    what: str  # for messages


GENERATIONS = Meter("generations", "month", "generations_per_month", "flashcard generations")
TUTOR_MESSAGES = Meter("tutorMessages", "day", "tutor_messages_per_day", "tutor messages")


def period_key(kind: PeriodKind, now: datetime) -> str:
    now = now.astimezone(UTC)
    return now.strftime("%Y-%m") if kind == "month" else now.strftime("%Y-%m-%d")


def period_end(kind: PeriodKind, now: datetime) -> datetime:
    """When the period that contains ``now`` ends (the next one starts)."""
    now = now.astimezone(UTC)
    if kind == "day":
        return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def usage_ref(db: Any, uid: str, period: str) -> Any:
    return db.collection("users").document(uid).collection("usage").document(period)


def limit_for(meter: Meter, user: dict[str, Any] | None, now: datetime) -> int:
    return int(getattr(plans.limits_for(user, now), meter.limit_attr))


def over_quota(meter: Meter, limit: int, used: int, now: datetime) -> errors.TooManyRequests:
    resets = period_end(meter.period, now)
    retry_after = max(1, int((resets - now).total_seconds()))
    return errors.TooManyRequests(
        f"You have used all {limit} {meter.what} of your plan for this {meter.period}; "
        f"more are available from {resets.isoformat().replace('+00:00', 'Z')}.",
        code="quota_exceeded",
        details={
            "quota": meter.field,
            "limit": limit,
            "used": used,
            "period": period_key(meter.period, now),
            "resetsAt": resets.isoformat().replace("+00:00", "Z"),
        },
        headers={"Retry-After": str(retry_after)},
    )


def charge_in(tx: Any, db: Any, uid: str, meter: Meter, now: datetime, *, amount: int = 1) -> int:
    """Inside transaction ``tx``: check the quota and count ``amount`` more. Does its reads
    (the user, the counter) then its write, so call it after the caller's own reads and
    before the caller's writes. Returns the new count; over the limit raises the 429."""
    user_snap = db.collection("users").document(uid).get(transaction=tx)
    user = (user_snap.to_dict() or {}) if user_snap.exists else {}
    period = period_key(meter.period, now)
    ref = usage_ref(db, uid, period)
    snap = ref.get(transaction=tx)
    data = (snap.to_dict() or {}) if snap.exists else {}
    used = int(data.get(meter.field) or 0)
    limit = limit_for(meter, user, now)
    if used + amount > limit:
        raise over_quota(meter, limit, used, now)
    tx.set(
        ref,
        {meter.field: used + amount, "period": period, "resetsAt": period_end(meter.period, now), "updatedAt": now},
        merge=True,
    )
    return used + amount


def charge(db: Any, uid: str, meter: Meter, now: datetime | None = None) -> int:
    """Check and count one unit in its own transaction."""
    from google.cloud import firestore

    when = now or datetime.now(UTC)

    @firestore.transactional
    def run(tx: Any) -> int:
        return charge_in(tx, db, uid, meter, when)

    result: int = run(db.transaction(max_attempts=25))
    return result


def refund(db: Any, uid: str, meter: Meter, when: datetime) -> None:
    """Give back a unit charged at ``when`` whose work failed before producing anything."""
    from google.cloud import firestore

    ref = usage_ref(db, uid, period_key(meter.period, when))

    @firestore.transactional
    def run(tx: Any) -> None:
        snap = ref.get(transaction=tx)
        used = int(((snap.to_dict() or {}) if snap.exists else {}).get(meter.field) or 0)
        if used > 0:
            tx.update(ref, {meter.field: used - 1})

    run(db.transaction(max_attempts=25))


def token_update(prompt_tokens: int, completion_tokens: int, calls: int, now: datetime) -> dict[str, Any]:
    """The fields to merge into the month's usage document for tokens spent at ``now``."""
    from google.cloud import firestore

    return {
        "promptTokens": firestore.Increment(prompt_tokens),
        "completionTokens": firestore.Increment(completion_tokens),
        "tokens": firestore.Increment(prompt_tokens + completion_tokens),
        "modelCalls": firestore.Increment(calls),
        "period": period_key("month", now),
        "updatedAt": now,
    }


def read_usage(db: Any, uid: str, now: datetime | None = None) -> dict[str, Any]:
    """This month's and today's counters with the plan's limits (for the account screen)."""
    now = now or datetime.now(UTC)
    user_snap = db.collection("users").document(uid).get()
    user = (user_snap.to_dict() or {}) if user_snap.exists else {}
    month = usage_ref(db, uid, period_key("month", now)).get()
    day = usage_ref(db, uid, period_key("day", now)).get()
    m = (month.to_dict() or {}) if month.exists else {}
    d = (day.to_dict() or {}) if day.exists else {}
    return {
        "generations": {"used": int(m.get("generations") or 0), "limit": limit_for(GENERATIONS, user, now)},
        "tutorMessages": {"used": int(d.get("tutorMessages") or 0), "limit": limit_for(TUTOR_MESSAGES, user, now)},
        "tokens": int(m.get("tokens") or 0),
    }
