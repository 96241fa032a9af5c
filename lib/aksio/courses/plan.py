"""The exam plan: how many new cards a day see every card of a course a margin before its
exam, what that costs in reviews, and the retention it leads to on the exam date. Pure
arithmetic here; the review load and retention come from FSRS's own simulator
(:mod:`aksio.courses.simulation`, fsrs-rs-python), imported only by the plan route.

- Margin: the last :func:`margin_days` days before the exam introduce nothing new, so every
  card has had a few reviews by then (a fifth of the time left, 1 to 7 days).
- Allowance: ``ceil(new cards left / (days left - margin))`` a day, recomputed each study day
  from what is left, so a day missed is spread over the days that remain; the margin is the
  course's own (``examMargin``, fixed when the exam date is set), so it does not shrink as
  the exam comes closer. The course's study queue uses it as its new-card limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

MAX_MARGIN = 7


def margin_days(days_left: int) -> int:
    """Days before the exam with no new cards."""
    return max(1, min(MAX_MARGIN, days_left // 5)) if days_left > 1 else 0


def allowance(new_left: int, days_left: int, margin: int | None = None) -> int:
    """New cards to introduce today (``days_left``: study days until the exam day, today
    included) so that the ``new_left`` unseen cards are all seen ``margin`` days before the
    exam (the course's margin, fixed when its exam date was set; by default the margin for
    ``days_left``). Inside the margin, what is still unseen is spread over the days left."""
    if new_left <= 0 or days_left <= 0:
        return 0
    margin = margin_days(days_left) if margin is None else margin
    return math.ceil(new_left / (days_left - margin if days_left > margin else days_left))


def steady_recall(desired: float, decay: float) -> float:
    """The mean predicted recall of a card reviewed on schedule, over its interval: FSRS's
    curve averaged from the review (R = 1) to the due day (R = ``desired``)."""
    d = decay
    return float((desired ** ((d - 1) / d) - 1) / ((1 - d) * (desired ** (-1 / d) - 1)))


@dataclass(frozen=True)
class Fit:
    fits: bool
    suggestions: list[dict[str, Any]]


def fit(
    *,
    new_left: int,
    days_left: int,
    per_day: int,
    peak_reviews: int,
    new_limit: int,
    review_limit: int,
    today: date,
) -> Fit:
    """Whether the plan fits the user's daily limits, and what would when it does not: a later
    exam date, a higher limit, or fewer cards."""
    suggestions: list[dict[str, Any]] = []
    too_many_new = per_day > new_limit
    too_many_reviews = peak_reviews > review_limit
    if days_left <= 0 and new_left > 0:
        return Fit(False, [{"kind": "fewerCards", "cards": 0}])
    if too_many_new:
        days_needed = math.ceil(new_left / max(1, new_limit)) if new_limit else None
        if days_needed is not None:
            # the margin grows with the time left: find the first date that fits
            days = days_needed
            while days - margin_days(days) < days_needed:
                days += 1
            suggestions.append({"kind": "laterExam", "examDate": (today + timedelta(days=days)).isoformat()})
        suggestions.append({"kind": "higherNewLimit", "newCardsPerDay": per_day})
        fewer = new_limit * max(0, days_left - margin_days(days_left))
        suggestions.append({"kind": "fewerCards", "cards": fewer})
    if too_many_reviews:
        suggestions.append({"kind": "higherReviewLimit", "reviewsPerDay": peak_reviews})
    return Fit(not (too_many_new or too_many_reviews), suggestions)
