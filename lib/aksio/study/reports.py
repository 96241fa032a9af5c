"""Read-only study services: the study queue and the statistics.

Both read the user document once (settings, stats) and query the cards through
:mod:`aksio.study.queries`; the rules are pure (:mod:`aksio.study.queue`,
:mod:`aksio.study.stats`, :mod:`aksio.study.days`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio import firestore as fs
from aksio.prefs import of_user as settings_of
from aksio.study import progress as progress_mod
from aksio.study import queries as q
from aksio.study import stats as stats_mod
from aksio.study import tags
from aksio.study.days import day_key, study_day
from aksio.study.model import utc
from aksio.study.queue import Candidate, Limits, build_queue, limits_for
from aksio.study.service import Json, card_view, live_deck
from aksio.wire import compact, iso

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client

    from aksio.study import api

FORECAST_DAYS = 30
DAY_KEYS = ("day", *stats_mod.DAY_FIELDS)  # the fields of aksio.study.api.DayStats


def _candidates(snaps: list[Any], queue: str) -> list[Candidate]:
    out = []
    for snap in snaps:
        data = fs.data_of(snap)
        due = data.get("due")
        out.append(
            Candidate(
                card_id=snap.id,
                queue=queue,
                due=utc(due) if isinstance(due, datetime) else datetime.min.replace(tzinfo=UTC),
                note_id=data.get("noteId"),
                data=data,
            )
        )
    return out


def scope_of(db: Client, uid: str, query: Any) -> q.Scope:
    return course_scope(db, uid, query)[0]


def course_scope(db: Client, uid: str, query: Any) -> tuple[q.Scope, dict[str, Any] | None]:
    """The cards a queue or stats query names: of ``deckId``, of ``courseId`` (its decks; of
    one of its sections with ``sectionId``), or all. 404 for a deck or course that is not the
    caller's, or a deck that is not in the course named with it."""
    deck = getattr(query, "deck_id", None)
    course = getattr(query, "course_id", None)
    section = getattr(query, "section_id", None)
    if section and not course:
        raise errors.Invalid(
            "sectionId needs courseId.",
            code="section_without_course",
            details=[{"field": "sectionId", "in": "query", "message": "send courseId too"}],
        )
    decks: tuple[str, ...] | None = None
    data = None
    if course:
        from aksio.courses import service as courses

        data = courses.require_course(db, uid, course)
        decks = tuple(courses.deck_ids_of(db, uid, course, data, section))
    if deck:
        live_deck(q.read_deck(db, uid, deck), deck)
        if decks is not None and deck not in decks:
            raise errors.NotFound(f"No deck {deck} in course {course}.", code="deck_not_found")
        decks = (deck,)
    tag = getattr(query, "tag", None)
    return q.Scope(decks=decks, tag=tags.normalise(tag, "tag") if tag else None), data


def study_queue(db: Client, uid: str, query: api.QueueQuery) -> Json:
    now = fs.utcnow()
    user = fs.read_user(db, uid)
    settings = settings_of(user)
    stats = stats_mod.normalise(user.get("stats"))
    today = study_day(now, settings.timezone, settings.day_starts_at_hour)
    limits = limits_for(settings, stats_mod.today_counts(stats, today))
    scope, course = course_scope(db, uid, query)
    if course is not None and scope.decks is not None and not getattr(query, "section_id", None):
        # a course with an exam ahead: its plan's allowance of new cards, not the user's limit
        from aksio.courses import planning

        entries = [stats["decks"][d] for d in scope.decks if d in stats["decks"]]
        state = {
            "today": today,
            "newLeft": q.count_new(db, uid, q.Scope(decks=scope.decks), 10**6),
            "newToday": progress_mod.new_cards_on(entries, today),
        }
        allowed = planning.new_allowance(course, state)
        if allowed is not None:
            limits = Limits(new_remaining=allowed, review_remaining=limits.review_remaining)
    fetch = query.limit * 2  # room for buried siblings
    learning = _candidates(q.due_cards(db, uid, scope, "learning", now=now, limit=fetch), "learning") if fetch else []
    review_n = min(fetch, limits.review_remaining)
    review = _candidates(q.due_cards(db, uid, scope, "review", now=now, limit=review_n), "review") if review_n else []
    new_n = min(fetch, limits.new_remaining)
    new = _candidates(q.new_cards(db, uid, scope, new_n), "new") if new_n else []
    available = {
        "learning": q.count_due(db, uid, scope, "learning", now),
        "review": q.count_due(db, uid, scope, "review", now) if limits.review_remaining else 0,
        "new": q.count_new(db, uid, scope, limits.new_remaining) if limits.new_remaining else 0,
    }
    result = build_queue(
        learning=learning,
        review=review,
        new=new,
        settings=settings,
        limits=limits,
        studied_notes=stats_mod.studied_notes_today(stats, today),
        limit=query.limit,
        available=available,
    )
    return {
        "day": day_key(today),
        "cards": [card_view(dict(c.data), c.card_id) for c in result.cards],
        "counts": {k: result.counts[k] for k in ("new", "learning", "review")},
        "limits": {
            "newRemaining": result.limits.new_remaining,
            "reviewRemaining": result.limits.review_remaining,
        },
        "buried": result.buried,
    }


def stats(db: Client, uid: str, query: api.StatsQuery) -> Json:
    now = fs.utcnow()
    user = fs.read_user(db, uid)
    settings = settings_of(user)
    tz, hour = settings.timezone, settings.day_starts_at_hour
    stored = stats_mod.normalise(user.get("stats"))
    today = study_day(now, tz, hour)
    per_day = stats_mod.reviews_per_day(stored, today, query.days)
    retention, review_count = stats_mod.true_retention(per_day)
    scope = scope_of(db, uid, query)
    by_state = {s: q.count_where(db, uid, "state", s, scope) for s in ("new", "learning", "review", "relearning")}
    suspended = q.count_where(db, uid, "suspended", True, scope)
    forecast = {day_key(today + timedelta(days=i)): 0 for i in range(FORECAST_DAYS)}
    for due in q.due_before(db, uid, now + timedelta(days=FORECAST_DAYS + 1), scope):
        key = day_key(max(study_day(due, tz, hour), today))
        if key in forecast:
            forecast[key] += 1
    return {
        "day": day_key(today),
        "totalReviews": stored["totalReviews"],
        "byRating": dict(stored["byRating"]),
        "streak": compact(
            {
                "current": stats_mod.current_streak(stored, today),
                "longest": stored["streak"]["longest"],
                "lastDay": stored["streak"]["lastDay"],
            }
        ),
        "reviewsPerDay": [{k: d[k] for k in DAY_KEYS} for d in per_day],
        "retention": compact({"trueRetention": retention, "reviewCount": review_count, "days": query.days}),
        "cards": by_state | {"suspended": suspended, "total": sum(by_state.values())},
        "forecast": [{"day": k, "due": v} for k, v in forecast.items()],
    }


EXAM_HOUR = 9  # an exam day's recall is predicted for 9:00 in the user's time zone


def exam_instant(exam: date, timezone: str) -> datetime:
    from aksio.study.days import zone

    return datetime.combine(exam, time(hour=EXAM_HOUR), tzinfo=zone(timezone)).astimezone(UTC)


def progress(db: Client, uid: str, decks: tuple[str, ...], *, exam: date | None, days: int) -> Json:
    """Progress of the cards of ``decks``: cards by state (count aggregations), reviews and
    time per day, mastery now and predicted recall at the exam with no more reviews (from the
    per-deck aggregates of the user document). Never reads the cards themselves."""
    now = fs.utcnow()
    user = fs.read_user(db, uid)
    settings = settings_of(user)
    today = study_day(now, settings.timezone, settings.day_starts_at_hour)
    stored = stats_mod.normalise(user.get("stats"))
    entries = [stored["decks"][d] for d in decks if d in stored["decks"]]
    fsrs = user.get("fsrs")
    decay = progress_mod.decay_of(fsrs.get("parameters") if isinstance(fsrs, dict) else None)
    scope = q.Scope(decks=decks)
    by_state = {s: q.count_where(db, uid, "state", s, scope) for s in ("new", "learning", "review", "relearning")}
    suspended = q.count_where(db, uid, "suspended", True, scope)
    desired = settings.desired_retention
    now_m = progress_mod.mastery(entries, now, desired, decay)
    out: Json = {
        "day": day_key(today),
        "cards": by_state | {"suspended": suspended, "total": sum(by_state.values())},
        "reviewsPerDay": progress_mod.per_day(entries, today, days),
        "mastery": compact(
            {
                "seenCards": now_m.seen,
                "meanRecall": now_m.mean_recall,
                "shareAboveDesired": now_m.share_above,
                "desiredRetention": desired,
            }
        ),
    }
    if exam is not None:
        at = exam_instant(exam, settings.timezone)
        exam_m = progress_mod.mastery(entries, max(at, now), desired, decay)
        out["exam"] = compact(
            {"date": exam.isoformat(), "at": iso(at), "recallIfNoReviews": exam_m.mean_recall, "seenCards": exam_m.seen}
        )
    return out


def course_state(db: Client, uid: str, decks: tuple[str, ...]) -> Json:
    """What a course's exam plan starts from: the user's settings, today's study day, the
    unseen cards of ``decks`` (a count), the new cards they introduced today, their aggregates
    and the user's FSRS parameters. Reads the user document and counts; no card."""
    now = fs.utcnow()
    user = fs.read_user(db, uid)
    settings = settings_of(user)
    today = study_day(now, settings.timezone, settings.day_starts_at_hour)
    stored = stats_mod.normalise(user.get("stats"))
    entries = [stored["decks"][d] for d in decks if d in stored["decks"]]
    fsrs = user.get("fsrs")
    params = fsrs.get("parameters") if isinstance(fsrs, dict) else None
    return {
        "now": now,
        "settings": settings,
        "today": today,
        "newLeft": q.count_new(db, uid, q.Scope(decks=decks), 10**6) if decks else 0,
        "newToday": progress_mod.new_cards_on(entries, today),
        "entries": entries,
        "parameters": list(params) if isinstance(params, list) and len(params) == 21 else None,
        "decay": progress_mod.decay_of(params if isinstance(params, list) else None),
    }
