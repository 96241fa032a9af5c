"""Usage and quotas per user and period: the only code that reads and writes
``users/{uid}/usage/{period}``.

Periods are UTC calendar months (``2026-11``: generations, document pages, tokens) and UTC
days (``2026-11-23``: tutor messages). A charge reads the limit and the period's counter
and increments it in one transaction, so two concurrent requests can never both take the
last unit; over the limit it raises :class:`OverQuota` (a 429 at the edge saying when the
period resets: ``details.resetsAt`` and ``Retry-After``). Tokens and model calls are added
to the month's document by the step that spent them (:func:`add_tokens_in`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from aksio import errors, plans
from aksio import firestore as fs

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

PeriodKind = Literal["month", "day"]
USAGE = "usage"


@dataclass(frozen=True)
class Meter:
    field: str  # the counter in the usage document
    period: PeriodKind
    limit_attr: str  # the attribute of plans.Limits
    what: str  # for messages


GENERATIONS = Meter("generations", "month", "generations_per_month", "flashcard generations")
TUTOR_MESSAGES = Meter("tutorMessages", "day", "tutor_messages_per_day", "tutor messages")
PAGES = Meter("pages", "month", "pages_per_month", "document pages")


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


def usage_ref(db: Client, uid: str, period: str) -> Any:
    """``users/{uid}/usage/{period}`` (callers outside this module are being moved to the
    functions below)."""
    return fs.user_col(db, uid, USAGE).document(period)


def limit_for(meter: Meter, user: dict[str, Any] | None, now: datetime) -> int:
    return int(getattr(plans.limits_for(user, now), meter.limit_attr))


class OverQuota(errors.QuotaExceeded):
    """A meter's limit for the current period is used up (nothing was counted)."""

    def __init__(self, meter: Meter, limit: int, used: int, now: datetime) -> None:
        resets = period_end(meter.period, now)
        at = resets.isoformat().replace("+00:00", "Z")
        super().__init__(
            f"You have used all {limit} {meter.what} of your plan for this {meter.period}; "
            f"more are available from {at}.",
            code="quota_exceeded",
            details={
                "quota": meter.field,
                "limit": limit,
                "used": used,
                "period": period_key(meter.period, now),
                "resetsAt": at,
            },
            retry_after=max(1, int((resets - now).total_seconds())),
        )
        self.meter = meter
        self.limit = limit
        self.used = used


def over_quota(meter: Meter, limit: int, used: int, now: datetime) -> OverQuota:
    return OverQuota(meter, limit, used, now)


def _count(data: dict[str, Any] | None, meter: Meter) -> int:
    return int((data or {}).get(meter.field) or 0)


def current(db: Client, uid: str, meter: Meter, now: datetime) -> int:
    """The meter's count in the period that contains ``now`` (outside any transaction)."""
    return _count(fs.read(usage_ref(db, uid, period_key(meter.period, now))), meter)


def check(db: Client, uid: str, meter: Meter, now: datetime, *, amount: int, limit: int) -> None:
    """Would ``amount`` more exceed ``limit``? :class:`OverQuota` if so (nothing is counted)."""
    count = current(db, uid, meter, now)
    if count + amount > limit:
        raise over_quota(meter, limit, count, now)


def charge_in(tx: Any, db: Client, uid: str, meter: Meter, now: datetime, *, amount: int = 1) -> int:
    """Inside transaction ``tx``: check the plan's quota and count ``amount`` more. Does its
    reads (the user, the counter) then its write, so call it after the caller's own reads and
    before the caller's writes. Returns the new count; over the limit raises :class:`OverQuota`."""
    user = fs.read_user(db, uid, tx)
    period = period_key(meter.period, now)
    ref = usage_ref(db, uid, period)
    count = _count(fs.read(ref, tx), meter)
    limit = limit_for(meter, user, now)
    if count + amount > limit:
        raise over_quota(meter, limit, count, now)
    tx.set(
        ref,
        {meter.field: count + amount, "period": period, "resetsAt": period_end(meter.period, now), "updatedAt": now},
        merge=True,
    )
    return count + amount


def charge_pages_in(tx: Any, db: Client, uid: str, pages: int, *, limit: int, now: datetime) -> int:
    """Inside transaction ``tx``: count ``pages`` document pages against the month's ``limit``
    (the plan's, read by the caller). Reads the counter then writes it; returns the new count.
    Over the limit raises :class:`OverQuota` and writes nothing."""
    period = period_key(PAGES.period, now)
    ref = usage_ref(db, uid, period)
    count = _count(fs.read(ref, tx), PAGES)
    if count + pages > limit:
        raise over_quota(PAGES, limit, count, now)
    tx.set(ref, {PAGES.field: count + pages, "period": period, "updatedAt": now}, merge=True)
    return count + pages


def charge(db: Client, uid: str, meter: Meter, now: datetime | None = None) -> int:
    """Check and count one unit in its own transaction (contention: :class:`aksio.errors.Contention`)."""
    when = now or fs.utcnow()
    return fs.run_transaction(db, lambda tx: charge_in(tx, db, uid, meter, when), what=f"charge {meter.field}")


def refund(db: Client, uid: str, meter: Meter, when: datetime) -> None:
    """Give back a unit charged at ``when`` whose work failed before producing anything."""
    ref = usage_ref(db, uid, period_key(meter.period, when))

    def run(tx: Any) -> None:
        count = _count(fs.read(ref, tx), meter)
        if count > 0:
            tx.update(ref, {meter.field: count - 1})

    fs.run_transaction(db, run, what=f"refund {meter.field}")


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


def add_tokens_in(  # noqa: PLR0917 - the positional order generation calls it with
    tx: Any, db: Client, uid: str, prompt_tokens: int, completion_tokens: int, calls: int, now: datetime
) -> None:
    """Inside transaction ``tx`` (a write only, so after the caller's reads): add the tokens
    and model calls spent at ``now`` to that month's usage document."""
    ref = usage_ref(db, uid, period_key("month", now))
    tx.set(ref, token_update(prompt_tokens, completion_tokens, calls, now), merge=True)


def meters() -> tuple[Meter, ...]:
    """Every meter this module defines, in definition order (a new module-level meter is
    part of the usage overview without being listed anywhere)."""
    return tuple(v for v in globals().values() if isinstance(v, Meter))


def overview(db: Client, uid: str, user: dict[str, Any] | None, now: datetime) -> list[dict[str, Any]]:
    """Each meter of :func:`meters`: its limit under the plan at ``now``, what is used in the
    period containing ``now``, and when that period resets (one read per period document)."""
    periods: dict[str, dict[str, Any] | None] = {}
    out = []
    for meter in meters():
        key = period_key(meter.period, now)
        if key not in periods:
            periods[key] = fs.read(usage_ref(db, uid, key))
        limit, used = limit_for(meter, user, now), _count(periods[key], meter)
        out.append(
            {
                "quota": meter.field,
                "what": meter.what,
                "period": meter.period,
                "periodKey": key,
                "limit": limit,
                "used": used,
                "remaining": max(0, limit - used),
                "resetsAt": period_end(meter.period, now),
            }
        )
    return out


def delete_user_usage(db: Client, uid: str) -> int:
    """Delete every usage document of the user (account deletion)."""
    return fs.delete_collection(db, fs.user_col(db, uid, USAGE))
