"""The exam plan of a course (``GET /courses/{id}/plan``) and the new-card allowance the
course's study queue uses: the rules are :mod:`aksio.courses.plan`, the forecast
:mod:`aksio.courses.simulation` (FSRS's simulator, imported by :func:`exam_plan` only)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aksio import errors
from aksio.courses import model, plan
from aksio.courses.model import Json
from aksio.study import progress
from aksio.study.days import day_key

if TYPE_CHECKING:  # pragma: no cover
    from google.cloud.firestore import Client


def exam_plan(db: Client, uid: str, course_id: str) -> Json:
    """New cards a day to see every card a margin before the exam, the predicted reviews a
    day, the predicted retention on the exam date if the plan is followed, and whether it
    fits the daily limits (with what would)."""
    from aksio.courses import service
    from aksio.courses.simulation import forecast
    from aksio.study import reports

    data = service.require_course(db, uid, course_id)
    exam = model.exam_day(data)
    if exam is None:
        raise errors.Conflict("The course has no exam date; set examDate first.", code="no_exam_date")
    decks = tuple(service.deck_ids_of(db, uid, course_id, data, None))
    state = reports.course_state(db, uid, decks)
    settings, today = state["settings"], state["today"]
    days_left = max(0, (exam - today).days)
    new_left = int(state["newLeft"])
    margin = model.exam_margin(data)
    per_day = plan.allowance(new_left + state["newToday"], days_left, margin)
    sim = forecast(
        new_cards=new_left,
        days=days_left,
        per_day=per_day,
        desired=settings.desired_retention,
        parameters=state["parameters"],
    )
    decay = state["decay"]
    floor = plan.steady_recall(settings.desired_retention, decay)
    at = reports.exam_instant(exam, settings.timezone)
    seen, seen_recall = progress.maintained(state["entries"], at, floor, decay)
    seen_load = progress.review_rate(state["entries"], settings.desired_retention, decay)
    daily: list[dict[str, Any]] = [
        {
            "day": day_key(today + timedelta(days=i)),
            "newCards": sim.new_per_day[i] if i < len(sim.new_per_day) else 0,
            "reviews": round((sim.reviews_per_day[i] if i < len(sim.reviews_per_day) else 0) + seen_load),
        }
        for i in range(days_left)
    ]
    peak = max((int(d["reviews"]) for d in daily), default=0)
    total = new_left + seen
    fit = plan.fit(
        new_left=new_left,
        days_left=days_left,
        per_day=per_day,
        peak_reviews=peak,
        new_limit=settings.new_cards_per_day,
        review_limit=settings.reviews_per_day,
        today=today,
    )
    last_new = next((d["day"] for d in reversed(daily) if d["newCards"]), None)
    return {
        "courseId": course_id,
        "examDate": exam.isoformat(),
        "day": day_key(today),
        "daysLeft": days_left,
        "marginDays": plan.margin_days(days_left) if margin is None else margin,
        "newCards": new_left,
        "seenCards": seen,
        "newCardsPerDay": per_day,
        **({"lastNewDay": last_new} if last_new else {}),
        "daily": daily,
        "peakReviews": peak,
        **({"predictedRetention": (sim.expected_recalled + seen_recall) / total} if total else {}),
        "limits": {"newCardsPerDay": settings.new_cards_per_day, "reviewsPerDay": settings.reviews_per_day},
        "fits": fit.fits,
        "suggestions": fit.suggestions,
    }


def new_allowance(data: dict[str, Any], state: Json) -> int | None:
    """Today's new cards for the course's study queue under its plan (what is left of the
    allowance), or None when the course has no exam ahead (the user's limit applies)."""
    exam = model.exam_day(data)
    if exam is None or exam <= state["today"]:
        return None
    days_left = (exam - state["today"]).days
    done = int(state["newToday"])
    return max(0, plan.allowance(int(state["newLeft"]) + done, days_left, model.exam_margin(data)) - done)
