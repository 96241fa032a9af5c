"""One review, computed without I/O: the card's new schedule (FSRS), leech handling, the
review log, the user's new stats and ``nextDueAt``, and the answer sent to the client.

``nextDueAt`` (on ``users/{uid}``) is kept as a cheap lower bound:
*nextDueAt ≤ the earliest ``due`` of any card that is neither new nor suspended*
(absent when there has never been such a card). A review sets it to
``min(nextDueAt, the reviewed card's new due)``; undo and unsuspend lower it the same way.
It is never raised here (that would need a query), so it may lie in the past after the
card defining it was reviewed; the reminders job then confirms with one limit-1 query
(``queue in [learning, review] order by due``) and may write the true value back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio.study import load, progress
from aksio.study import stats as stats_mod
from aksio.study.days import day_key, study_day
from aksio.study.model import LEECH_TAG, RATING_NAMES, Schedule, utc
from aksio.study.scheduler import SchedulerConfig, fuzz_draw, schedule_review

if TYPE_CHECKING:  # pragma: no cover
    from aksio.prefs import StudySettings as Settings

MAX_FUTURE_SKEW = timedelta(seconds=60)
MAX_AGE = timedelta(days=30)


def check_reviewed_at(reviewed_at: datetime | None, now: datetime) -> datetime:
    """The review time: ``now`` when not given; at most 60 s ahead and 30 days back."""
    if reviewed_at is None:
        return utc(now)
    if reviewed_at.tzinfo is None:
        raise errors.Invalid(
            "reviewedAt needs a time zone (e.g. 2026-01-31T10:00:00Z).",
            code="invalid_reviewed_at",
            details=[{"field": "reviewedAt", "in": "body", "message": "timezone required"}],
        )
    at = utc(reviewed_at)
    if at > now + MAX_FUTURE_SKEW:
        raise errors.Invalid(
            "reviewedAt is in the future.",
            code="reviewed_at_in_future",
            details=[{"field": "reviewedAt", "in": "body", "message": "more than 60 s in the future"}],
        )
    if at < now - MAX_AGE:
        raise errors.Invalid(
            "reviewedAt is more than 30 days old.",
            code="reviewed_at_too_old",
            details=[{"field": "reviewedAt", "in": "body", "message": "older than 30 days"}],
        )
    return at


def is_leech(lapses: int, threshold: int) -> bool:
    """Anki's rule: at the threshold, then every half threshold more lapses."""
    if lapses < threshold:
        return False
    return (lapses - threshold) % max(1, threshold // 2) == 0


def iso(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")


def schedule_json(s: Schedule) -> dict[str, Any]:
    return {
        "state": s.state,
        "queue": s.queue,
        "step": s.step,
        "stability": s.stability,
        "difficulty": s.difficulty,
        "due": iso(s.due),
        "lastReview": iso(s.last_review),
        "reps": s.reps,
        "lapses": s.lapses,
        "suspended": s.suspended,
        "tags": list(s.tags),
    }


@dataclass(frozen=True)
class ReviewOutcome:
    after: Schedule
    log: dict[str, Any]
    stats: dict[str, Any]
    next_due_at: datetime | None
    result: dict[str, Any]
    due_days: dict[str, int]  # the user's histogram of due cards after the review (aksio.study.load)


def due_day(s: Schedule, settings: Settings) -> date | None:
    """The study day a card counts as due on in the histogram; None for new or suspended cards."""
    if s.state == "new" or s.suspended or s.due is None:
        return None
    return study_day(s.due, settings.timezone, settings.day_starts_at_hour)


def apply_review(
    *,
    card_id: str,
    card: dict[str, Any],
    rating: int,
    review_id: str,
    reviewed_at: datetime,
    duration_ms: int | None,
    now: datetime,
    settings: Settings,
    config: SchedulerConfig,
    user_stats: dict[str, Any] | None,
    next_due_at: datetime | None,
    due_days: Any = None,
) -> ReviewOutcome:
    """Everything one review changes. ``card`` is the stored card document; ``due_days`` the
    user's stored histogram of due cards (load balancing)."""
    before = Schedule.from_stored(card)
    if before.suspended:
        raise errors.Conflict("The card is suspended; unsuspend it to review it.", code="card_suspended")
    tz, hour = settings.timezone, settings.day_starts_at_hour
    day = study_day(reviewed_at, tz, hour)
    today = study_day(now, tz, hour)
    hist = load.histogram(due_days, today)
    balancer = None
    if settings.load_balancing:
        balancer = load.Balancer(review_day=day, due=hist, easy_days=load.easy_weekdays(settings.easy_days))
    scheduled = schedule_review(
        before, rating, reviewed_at, config, draw=fuzz_draw(card_id, review_id), balancer=balancer
    )
    lapses = before.lapses + (1 if rating == 1 and before.state == "review" else 0)
    tags = before.tags
    suspended = False
    leech = rating == 1 and before.state == "review" and is_leech(lapses, settings.leech_threshold)
    if leech:
        if LEECH_TAG not in tags:
            tags = (*tags, LEECH_TAG)
        suspended = settings.leech_action == "suspend"
    after = Schedule(
        state=scheduled.state,
        step=scheduled.step,
        stability=scheduled.stability,
        difficulty=scheduled.difficulty,
        due=scheduled.due,
        last_review=scheduled.last_review,
        reps=before.reps + 1,
        lapses=lapses,
        suspended=suspended,
        tags=tags,
        last_review_id=review_id,
    )
    old_stats = stats_mod.normalise(user_stats)
    new_stats = stats_mod.record_review(
        old_stats,
        day=day,
        today=today,
        rating=rating,
        before_state=before.state,
        note_id=card.get("noteId"),
        duration_ms=duration_ms,
    )
    new_stats["decks"] = progress.record(
        new_stats["decks"],
        card.get("deckId"),
        day=day,
        today=today,
        duration_ms=duration_ms,
        before=progress.seen_of(before),
        after=progress.seen_of(after),
    )
    new_next_due = next_due_at
    if not after.suspended and after.due is not None:
        new_next_due = after.due if next_due_at is None else min(utc(next_due_at), after.due)
    result = {
        "reviewId": review_id,
        "cardId": card_id,
        "rating": rating,
        "ratingName": RATING_NAMES[rating],
        "reviewedAt": iso(reviewed_at),
        "card": schedule_json(after),
        "intervalDays": round((after.due - reviewed_at).total_seconds() / 86400, 4) if after.due else None,
        "leech": leech,
    }
    log = {
        "cardId": card_id,
        "deckId": card.get("deckId"),
        "noteId": card.get("noteId"),
        "rating": rating,
        "reviewedAt": reviewed_at,
        "durationMs": duration_ms,
        "studyDay": day_key(day),
        "before": before.to_stored(),
        "after": after.to_stored(),
        "longestStreakBefore": old_stats["streak"]["longest"],
        "result": result,
        "undoneAt": None,
    }
    return ReviewOutcome(
        after=after,
        log=log,
        stats=new_stats,
        next_due_at=new_next_due,
        result=result,
        due_days=load.moved(hist, today, due_day(before, settings), due_day(after, settings)),
    )


def undo_review(
    *, log: dict[str, Any], user_stats: dict[str, Any] | None, next_due_at: datetime | None
) -> tuple[Schedule, dict[str, Any], datetime | None]:
    """The card's schedule before the review in ``log``, the stats without it, and nextDueAt."""
    before = Schedule.from_stored(log["before"])
    new_stats = stats_mod.unrecord_review(
        user_stats,
        day=datetime.fromisoformat(log["studyDay"]).date(),
        rating=int(log["rating"]),
        before_state=str(log["before"].get("state") or "new"),
        duration_ms=log.get("durationMs"),
        longest_before=log.get("longestStreakBefore"),
    )
    day = datetime.fromisoformat(log["studyDay"]).date()
    new_stats["decks"] = progress.record(
        new_stats["decks"],
        log.get("deckId"),
        day=day,
        today=day,
        duration_ms=log.get("durationMs"),
        before=progress.seen_of(before),
        after=progress.seen_of(Schedule.from_stored(log.get("after") or {})),
        undo=True,
    )
    new_next_due = next_due_at
    if before.state != "new" and not before.suspended and before.due is not None:
        new_next_due = before.due if next_due_at is None else min(utc(next_due_at), before.due)
    return before, new_stats, new_next_due
