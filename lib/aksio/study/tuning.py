"""A user's own scheduling parameters: the optimizer job, what the user sees, a reset.

The job (``optimize-fsrs``, a Cloud Tasks target) reads every review log of the user, fits
(:mod:`aksio.study.optimizer`), and stores in the user document's ``fsrs`` map the outcome:
``parameters`` only when the fit predicts the latest reviews better than the current ones
(the next reviews use them: :func:`aksio.study.reviews.scheduler_config`), the metrics of
both, the date, and a suggested desired retention. It runs on demand (``POST
/scheduling/optimize``) and when a user's review count grew by :data:`REFIT_GROWTH` since the
last fit (reviews set ``fsrsRefitDue``; the daily ``refit-fsrs`` job enqueues them). A rerun
computes the same fit (fsrs-rs is deterministic) and writes the same: retries are harmless.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from aksio import errors, prefs, tasks
from aksio.study import optimizer, queries

Json = dict[str, Any]
OPTIMIZER_FUNCTION = "optimize-fsrs"
REFIT_GROWTH = 0.25  # refit when the review count grew by a quarter since the last fit
RETENTION_BOUNDS = (0.70, 0.95)  # of a suggestion (the setting allows 0.70-0.97)


def stored_parameters(user: Json) -> list[float] | None:
    params = (user.get("fsrs") or {}).get("parameters")
    if isinstance(params, list) and len(params) == len(optimizer.DEFAULT_PARAMETERS):
        return [float(p) for p in params]
    return None


def total_reviews(user: Json) -> int:
    total = (user.get("stats") or {}).get("totalReviews")
    return int(total) if isinstance(total, int) else 0


def next_fit_at(reviews: int) -> int:
    return max(optimizer.MIN_REVIEWS, int(reviews * (1 + REFIT_GROWTH)))


def view(user: Json) -> Json:
    """What the user sees: their parameters (null: FSRS's defaults) and the last fit."""
    f = user.get("fsrs") or {}
    params = stored_parameters(user)
    return {
        "parameters": params,
        "usingDefaults": params is None,
        "defaultParameters": list(optimizer.DEFAULT_PARAMETERS),
        "fittedAt": f.get("fittedAt"),
        "lastRun": f.get("lastRun"),
        "suggestedRetention": f.get("suggestedRetention"),
        "reviews": total_reviews(user),
        "minReviews": optimizer.MIN_REVIEWS,
    }


def get(db: Any, uid: str) -> Json:
    return view(queries.read_user(db, uid))


def request_fit(db: Any, uid: str, now: datetime) -> Json:
    """Enqueue a fit (202); one task per user and review count, so a repeated request while
    nothing changed is the same task. Fewer than the minimum reviews → 409."""
    user = queries.read_user(db, uid)
    reviews = total_reviews(user)
    if reviews < optimizer.MIN_REVIEWS:
        raise errors.Conflict(
            f"Fitting needs at least {optimizer.MIN_REVIEWS} reviews; you have {reviews}.",
            code="not_enough_reviews",
        )
    enqueue(uid, reviews)
    queries.write_scheduling(db, uid, {"fsrs": {"requestedAt": now}})
    return view(queries.read_user(db, uid)) | {"queued": True}


def enqueue(uid: str, reviews: int) -> bool:
    digest = hashlib.sha256(uid.encode()).hexdigest()[:20]
    return tasks.enqueue_call(OPTIMIZER_FUNCTION, f"fsrs-{digest}-{reviews}", {"uid": uid})


def reset(db: Any, uid: str) -> Json:
    """Back to FSRS's defaults (the fit history stays)."""
    queries.forget_parameters(db, uid)
    return view(queries.read_user(db, uid))


def run_fit(db: Any, uid: str, now: datetime) -> str:
    """The job: fit, decide, store. Returns what happened (``adopted``, ``kept``, ``too_few``)."""
    user = queries.read_user(db, uid)
    if not user:
        return "no_user"
    reviews = optimizer.reviews_of(queries.review_logs(db, uid))
    current = stored_parameters(user)
    fit = optimizer.optimise(current, reviews)
    marker = {"fsrsRefitDue": False, "fsrsNextFitAt": next_fit_at(len(reviews))}
    if fit is None:
        run = {"at": now, "outcome": "too_few", "reviews": len(reviews)}
        queries.write_scheduling(db, uid, {"fsrs": {"lastRun": run}} | marker)
        return "too_few"
    outcome = "adopted" if fit.adopted else "kept"
    run = {
        "at": now,
        "outcome": outcome,
        "reviews": fit.reviews,
        "fitted": fit.fitted.stored(),
        "current": fit.current.stored(),
    }
    fields: Json = {"lastRun": run}
    chosen = list(fit.parameters) if fit.adopted else current
    if fit.adopted:
        fields |= {"parameters": list(fit.parameters), "fittedAt": now, "metrics": fit.fitted.stored()}
    fields["suggestedRetention"] = suggest_retention(chosen, prefs.of_user(user))
    queries.write_scheduling(db, uid, {"fsrs": fields} | marker)
    return outcome


def suggest_retention(parameters: list[float] | None, settings: prefs.StudySettings) -> float:
    """The desired retention with the least study time per card remembered (fsrs-rs's
    ``optimal_retention`` over a simulated deck of this user's daily limits), within bounds."""
    import fsrs_rs_python as rs

    config = rs.default_simulator_config()
    config.deck_size = 2000
    config.learn_span = 180
    config.learn_limit = max(1, settings.new_cards_per_day)
    config.review_limit = max(1, settings.reviews_per_day)
    value = float(rs.optimal_retention(config, parameters or list(optimizer.DEFAULT_PARAMETERS)))
    low, high = RETENTION_BOUNDS
    return round(min(high, max(low, value)), 2)
