"""Load balancing and easy days, as Anki 24.11 does them. Pure.

When FSRS gives a review an interval with a fuzz range (intervals of 2.5 days or more), the day
inside the range is not drawn uniformly: each day is weighted by how few cards are already due
then, ``1 / (1 + due)²``, and the review's fixed draw (:func:`aksio.study.scheduler.fuzz_draw`)
picks by those weights, so a retried or replayed review lands on the same day. Days the student
marked light (easy days) count their due cards as if they had ``1 / EASY_DAY_SHARE`` times as
many, so at balance they hold that share of a normal day's reviews.

What it knows is a histogram of due cards per study day, ``dueDays`` on the user document
(``{"2026-11-30": 41, ...}``, the next :data:`HORIZON_DAYS` study days), changed in the review's
own write of that document: a review moves its card from its old due day to its new one; an undo
moves it back. Cards created, deleted or suspended elsewhere don't touch it: it is a guide for
spreading load, not a count anything else relies on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

HORIZON_DAYS = 180
EASY_DAY_SHARE = 0.5
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def histogram(stored: Any, today: date) -> dict[date, int]:
    """The stored ``dueDays`` from ``today`` on (past and malformed entries dropped)."""
    out: dict[date, int] = {}
    if not isinstance(stored, Mapping):
        return out
    end = today + timedelta(days=HORIZON_DAYS)
    for key, count in stored.items():
        try:
            day = date.fromisoformat(str(key))
        except ValueError:
            continue
        if today <= day < end and isinstance(count, int) and not isinstance(count, bool) and count > 0:
            out[day] = count
    return out


def moved(hist: Mapping[date, int], today: date, old: date | None, new: date | None) -> dict[str, int]:
    """The stored form of ``hist`` after one card's due day moves from ``old`` to ``new``
    (either None: the card was not, or is no longer, due on a day)."""
    out = dict(hist)
    end = today + timedelta(days=HORIZON_DAYS)
    if old is not None and old in out:
        out[old] -= 1
        if out[old] <= 0:
            del out[old]
    if new is not None and today <= new < end:
        out[new] = out.get(new, 0) + 1
    return {day.isoformat(): n for day, n in sorted(out.items())}


@dataclass(frozen=True)
class Balancer:
    """Chooses a day in a fuzz range: the review's study day, the histogram, the light days."""

    review_day: date
    due: Mapping[date, int]
    easy_days: frozenset[int] = frozenset()  # weekday numbers, Monday 0

    def weight(self, offset: int) -> float:
        day = self.review_day + timedelta(days=offset)
        load = float(self.due.get(day, 0))
        if day.weekday() in self.easy_days:
            load = load / EASY_DAY_SHARE + (1 / EASY_DAY_SHARE - 1)  # an empty light day is not free
        return 1.0 / (1.0 + load) ** 2

    def choose(self, low: int, high: int, draw: float) -> int | None:
        """The interval (days) in ``[low, high]`` picked by ``draw`` in [0, 1) under the weights;
        None when every day weighs the same (then FSRS's own uniform fuzz applies, unchanged)."""
        if high <= low:
            return None
        weights = [self.weight(d) for d in range(low, high + 1)]
        if len(set(weights)) == 1:
            return None
        target = draw * sum(weights)
        for offset, w in zip(range(low, high + 1), weights, strict=True):
            target -= w
            if target < 0:
                return offset
        return high


def easy_weekdays(names: Sequence[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(n) for n in names if n in WEEKDAYS)
