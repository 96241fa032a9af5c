"""Usage and quotas per user and period: the only code that reads and writes
``users/{uid}/usage/{period}``.

Periods are UTC calendar months (``2026-11``: generations, document pages, tokens) and UTC
days (``2026-11-23``: tutor messages). A charge reads the limit and the period's counter
and increments it in one transaction, so two concurrent requests can never both take the
last unit; over the limit it raises :class:`OverQuota` (a 429 at the edge saying when the
period resets: ``details.resetsAt`` and ``Retry-After``). Tokens and model calls are added
to the month's document by the step that spent them (:func:`add_tokens_in`).

Tokens are budgeted before they are spent: :func:`reserve` counts an upper bound of what a
model or embedding call can cost (:mod:`aksio.ai.bounds`) against the month's
``aiTokens``/``embeddingTokens`` in one transaction, so concurrent calls can never together
pass the plan's limit; a reservation that does not fit is :class:`OverQuota` and no call is
made. :func:`settle` then replaces the reservation with what the call really used (the
unused part is released). A process that dies between the two keeps the whole reservation
counted: the budget errs on the side of the operator.
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
AI_TOKENS = Meter("aiTokens", "month", "ai_tokens_per_month", "AI tokens")
EMBEDDING_TOKENS = Meter("embeddingTokens", "month", "embedding_tokens_per_month", "embedding tokens")
AI_CALLS = Meter("aiCalls", "month", "ai_calls_per_month", "AI calls")  # model and embedding requests


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

    def __init__(self, meter: Meter, limit: int, used: int, now: datetime, needed: int = 1) -> None:
        resets = period_end(meter.period, now)
        at = resets.isoformat().replace("+00:00", "Z")
        if needed > 1 and used < limit:
            what = (
                f"This request needs up to {needed} {meter.what}, but only {limit - used} of your plan's "
                f"{limit} for this {meter.period} are left; more are available from {at}."
            )
        else:
            what = (
                f"You have used all {limit} {meter.what} of your plan for this {meter.period}; "
                f"more are available from {at}."
            )
        details = {
            "quota": meter.field,
            "limit": limit,
            "used": used,
            "period": period_key(meter.period, now),
            "resetsAt": at,
        }
        if needed > 1:
            details["needed"] = needed
        super().__init__(
            what,
            code="quota_exceeded",
            details=details,
            retry_after=max(1, int((resets - now).total_seconds())),
        )
        self.meter = meter
        self.limit = limit
        self.used = used


def over_quota(meter: Meter, limit: int, used: int, now: datetime, needed: int = 1) -> OverQuota:
    return OverQuota(meter, limit, used, now, needed)


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
        raise over_quota(meter, limit, count, now, amount)
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
        raise over_quota(PAGES, limit, count, now, pages)
    tx.set(ref, {PAGES.field: count + pages, "period": period, "updatedAt": now}, merge=True)
    return count + pages


def release_in(tx: Any, db: Client, uid: str, meter: Meter, period: str, *, amount: int) -> None:
    """Inside ``tx`` (a read then a write): give back ``amount`` counted in ``period``."""
    ref = usage_ref(db, uid, period)
    count = _count(fs.read(ref, tx), meter)
    tx.set(ref, {meter.field: max(0, count - amount)}, merge=True)


def charge(db: Client, uid: str, meter: Meter, now: datetime | None = None) -> int:
    """Check and count one unit in its own transaction (contention: :class:`aksio.errors.Contention`)."""
    when = now or fs.utcnow()
    return fs.run_transaction(db, lambda tx: charge_in(tx, db, uid, meter, when), what=f"charge {meter.field}")


def refund(db: Client, uid: str, meter: Meter, when: datetime, amount: int = 1) -> None:
    """Give back ``amount`` units charged at ``when`` whose work failed before producing anything."""
    ref = usage_ref(db, uid, period_key(meter.period, when))

    def run(tx: Any) -> None:
        count = _count(fs.read(ref, tx), meter)
        if count > 0:
            tx.update(ref, {meter.field: max(0, count - amount)})

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


# -- token budgets: reserve before a call, settle after ----------------------------------------


@dataclass(frozen=True)
class Reservation:
    """Tokens of a meter, and AI calls, counted before the call that may spend them (see
    :func:`reserve`)."""

    uid: str
    meter: Meter
    amount: int
    period: str
    calls: int = 0


def _reserve_in(tx: Any, db: Client, uid: str, meter: Meter, *, amount: int, calls: int, now: datetime) -> None:
    user = fs.read_user(db, uid, tx)
    period = period_key(meter.period, now)
    ref = usage_ref(db, uid, period)
    data = fs.read(ref, tx)
    changes: dict[str, Any] = {"period": period, "resetsAt": period_end(meter.period, now), "updatedAt": now}
    for m, n in ((meter, amount), (AI_CALLS, calls)):
        count, limit = _count(data, m), limit_for(m, user, now)
        if n and count + n > limit:
            raise over_quota(m, limit, count, now, n)
        changes[m.field] = count + n
    tx.set(ref, changes, merge=True)


def reserve(
    db: Client, uid: str, meter: Meter, amount: int, *, calls: int = 1, now: datetime | None = None
) -> Reservation:
    """Count ``amount`` tokens of ``meter`` (the most the coming call can spend) and ``calls``
    AI calls (the most requests it makes) against the plan's monthly limits, in one
    transaction; :class:`OverQuota` (with ``details.limit`` and ``needed``) when either does
    not fit, and then nothing is counted and the caller makes no call."""
    when = now or fs.utcnow()
    amount, calls = max(0, int(amount)), max(0, int(calls))
    fs.run_transaction(
        db,
        lambda tx: _reserve_in(tx, db, uid, meter, amount=amount, calls=calls, now=when),
        what=f"reserve {meter.field}",
    )
    return Reservation(uid, meter, amount, period_key(meter.period, when), calls)


def settle(db: Client, reservation: Reservation, used: int, calls: int | None = None) -> None:
    """Replace the reservation by what the call really ``used`` (tokens) and made (``calls``;
    None: as reserved): the unused part goes back (atomic increments, so it needs no
    transaction and races with none)."""
    from google.cloud import firestore

    changes: dict[str, Any] = {}
    if int(used) != reservation.amount:
        changes[reservation.meter.field] = firestore.Increment(int(used) - reservation.amount)
    if calls is not None and int(calls) != reservation.calls:
        changes[AI_CALLS.field] = firestore.Increment(int(calls) - reservation.calls)
    if changes:
        ref = usage_ref(db, reservation.uid, reservation.period)
        ref.set(changes | {"updatedAt": fs.utcnow()}, merge=True)


def require_room(db: Client, uid: str, meter: Meter, *, amount: int, calls: int, now: datetime | None = None) -> None:
    """:class:`OverQuota` now when not even ``amount`` tokens and ``calls`` calls are left this
    month (a fast answer for work that reserves later, e.g. a generation job's steps; the
    reservations themselves are what bound the spending)."""
    when = now or fs.utcnow()
    user = fs.read_user(db, uid)
    data = fs.read(usage_ref(db, uid, period_key(meter.period, when)))
    for m, n in ((meter, amount), (AI_CALLS, calls)):
        count, limit = _count(data, m), limit_for(m, user, when)
        if count + n > limit:
            raise over_quota(m, limit, count, when, n)


def settle_spent(db: Client, reservation: Reservation, spent: Any) -> None:
    """Settle to a provider's reported usage (:class:`aksio.ai.base.Usage`); when the client
    sent the request again (``retried``), what the earlier sends cost is unknown, so the
    reserved tokens stay counted."""
    used = reservation.amount if getattr(spent, "retried", 0) else int(spent.total_tokens)
    settle(db, reservation, used, int(spent.calls))


def release(db: Client, reservation: Reservation) -> None:
    """The call was never made (or billed nothing): everything reserved goes back."""
    settle(db, reservation, 0, 0)


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
