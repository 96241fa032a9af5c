"""The review service: grade a card, undo a card's last review, read a stored review.

Each runs on a :class:`~aksio.study.repository.StudyStore`, so the same rules run on
Firestore in production and on an in-memory store in the service tests. The rules
themselves are pure (:mod:`aksio.study.review`); this module decides what is read, in which
order, and what a retry or a concurrent duplicate is answered.

Idempotency by the client's review id without a third read: the log is created with
``create``; when that collides (:class:`~aksio.study.repository.Exists`) the review was
applied before and is answered from the stored log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aksio import errors, prefs
from aksio import firestore as fs
from aksio.study import api, load
from aksio.study.days import study_day
from aksio.study.model import Schedule, parse_rating
from aksio.study.repository import Exists, StudyStore, StudyTx, existing_card
from aksio.study.review import apply_review, check_reviewed_at, due_day, schedule_json, undo_review
from aksio.study.scheduler import SchedulerConfig

Clock = Callable[[], datetime]


def scheduler_config(user: dict[str, Any] | None, settings: prefs.StudySettings) -> SchedulerConfig:
    options = (user or {}).get("fsrs")
    return SchedulerConfig.from_settings(settings, options if isinstance(options, dict) else None)


def first_reminder(user: dict[str, Any] | None, settings: prefs.StudySettings, now: datetime) -> dict[str, Any]:
    """A user who has cards to review from now on gets a reminder instant (``nextReminderAt``,
    what the reminders run looks for), set in the review's own user write: once, when absent."""
    if (user or {}).get("nextReminderAt") is not None:
        return {}
    from aksio.reminders.model import next_slot, prefs_of

    slot = next_slot(now, prefs_of(settings))
    return {"nextReminderAt": slot.at} if slot is not None else {}


def refit_marker(user: dict[str, Any] | None, stats: dict[str, Any]) -> dict[str, Any]:
    """``fsrsRefitDue`` once the review count reaches ``fsrsNextFitAt`` (the optimizer's
    minimum before a first fit): the daily refit job looks for it (aksio.study.tuning)."""
    from aksio.study.optimizer import MIN_REVIEWS

    user = user or {}
    due_at = user.get("fsrsNextFitAt")
    threshold = due_at if isinstance(due_at, int) else MIN_REVIEWS
    if user.get("fsrsRefitDue") is True or int(stats.get("totalReviews") or 0) < threshold:
        return {}
    return {"fsrsRefitDue": True}


def _stored_result(store: StudyStore, review_id: str, card_id: str) -> dict[str, Any] | None:
    data = store.review(review_id)
    if data is None:
        return None
    if data.get("cardId") != card_id:
        raise errors.Conflict(f"Review id {review_id} was already used for another card.", code="review_id_conflict")
    result: dict[str, Any] = data["result"]
    return result


def review_card(
    store: StudyStore, body: api.ReviewRequest, *, clock: Clock = fs.utcnow
) -> tuple[api.ReviewResult, bool]:
    """Apply one review; returns the result and whether it replays an earlier one."""
    rating = parse_rating(body.rating)
    check_reviewed_at(body.reviewed_at, clock())  # a bad time is a 400 before anything is read

    def run(tx: StudyTx) -> dict[str, Any] | None:
        card_data, user, _ = tx.card_and_user(body.card_id)
        card = existing_card(card_data, body.card_id)
        if card.get("lastReviewId") == body.review_id:
            return None  # this very review is the card's last one: a replay
        settings = prefs.of_user(user)
        # The clock is read after the reads: they lock the card, so a review that waited for
        # a concurrent one is timed after it and the two apply in the order they are logged.
        now = clock()
        outcome = apply_review(
            card_id=body.card_id,
            card=card,
            rating=rating,
            review_id=body.review_id,
            reviewed_at=check_reviewed_at(body.reviewed_at, now),
            duration_ms=body.duration_ms,
            now=now,
            settings=settings,
            config=scheduler_config(user, settings),
            user_stats=(user or {}).get("stats"),
            next_due_at=(user or {}).get("nextDueAt"),
            due_days=(user or {}).get("dueDays"),
        )
        tx.update_card(body.card_id, outcome.after.to_stored() | {"updatedAt": now})
        tx.create_review(body.review_id, outcome.log | {"createdAt": now})
        extra = first_reminder(user, settings, now) | {"dueDays": outcome.due_days} | refit_marker(user, outcome.stats)
        tx.write_user(user, stats=outcome.stats, next_due=outcome.next_due_at, now=now, extra=extra)
        return outcome.result

    try:
        result = store.run(run, what="review")
    except (errors.NotFound, errors.Conflict) as exc:
        # A retry of a review that was applied before the card became unreviewable
        # (deleted, or suspended as a leech by that very review) still gets its answer.
        if exc.code in ("card_not_found", "card_suspended"):
            stored = _stored_result(store, body.review_id, body.card_id)
            if stored is not None:
                return api.ReviewResult.model_validate(stored), True
        raise
    except Exists:  # a concurrent delivery of the same review committed first
        result = None
    if result is not None:
        return api.ReviewResult.model_validate(result), False
    stored = _stored_result(store, body.review_id, body.card_id)
    if stored is None:  # pragma: no cover - the log exists whenever the card names it
        raise errors.Unavailable("The review is being recorded; retry shortly.")
    return api.ReviewResult.model_validate(stored), True


def schedule_model(data: dict[str, Any]) -> api.CardSchedule:
    """A stored card's schedule in the API's form (the same form a review result carries)."""
    return api.CardSchedule.model_validate(schedule_json(Schedule.from_stored(data)))


def undo(store: StudyStore, body: api.UndoRequest, *, clock: Clock = fs.utcnow) -> api.UndoResult:
    """Take back the last review of a card: the card's schedule before it and the stats
    without it. The log is kept, marked ``undoneAt`` (so a retried review stays undone).
    Undoing the same review again answers the same; an older review is a 409."""
    now = clock()

    def run(tx: StudyTx) -> api.UndoResult:
        card_data, user, _ = tx.card_and_user(body.card_id)
        card = existing_card(card_data, body.card_id)
        last_id = card.get("lastReviewId")
        review_id = body.review_id or last_id
        if not review_id:
            raise errors.Conflict("This card has no review to undo.", code="nothing_to_undo")
        entry = tx.review(review_id)
        if entry is None or entry.get("cardId") != body.card_id:
            raise errors.NotFound(f"No review {review_id} of this card.", code="review_not_found")
        if entry.get("undoneAt") is not None and last_id != review_id:
            return api.UndoResult(review_id=review_id, card_id=body.card_id, card=schedule_model(card))
        if last_id != review_id:
            raise errors.Conflict("Only the last review of a card can be undone.", code="not_last_review")
        before, new_stats, next_due = undo_review(
            log=entry, user_stats=(user or {}).get("stats"), next_due_at=(user or {}).get("nextDueAt")
        )
        restored = before.to_stored() | {"updatedAt": now}
        tx.update_card(body.card_id, restored)
        tx.update_review(review_id, {"undoneAt": now})
        settings = prefs.of_user(user)
        today = study_day(now, settings.timezone, settings.day_starts_at_hour)
        after = Schedule.from_stored(entry.get("after") or card)
        hist = load.histogram((user or {}).get("dueDays"), today)
        due_days = load.moved(hist, today, due_day(after, settings), due_day(before, settings))
        tx.write_user(user, stats=new_stats, next_due=next_due, now=now, extra={"dueDays": due_days})
        return api.UndoResult(review_id=review_id, card_id=body.card_id, card=schedule_model(restored))

    return store.run(run, what="undo")
