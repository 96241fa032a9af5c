"""Simulated students for the scheduling benchmarks: each has its own true FSRS-6 memory model,
studies a deck every day (new cards, then what is due), and recalls each card with the
probability its true model gives. What schedules the reviews is the app's own scheduler
choice (defaults, or fitted parameters), so the logs look like the app's.

Used by ``bench/fsrs_optimizer.py`` and ``bench/load_balancing.py``; needs ``fsrs-rs-python``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fsrs_rs_python as rs

DEFAULT = list(rs.DEFAULT_PARAMETERS)
START = date(2026, 1, 5)  # a Monday


def recall_probability(params: list[float], stability: float, days: float) -> float:
    decay = -params[20]
    factor = 0.9 ** (1 / decay) - 1
    return (1 + factor * days / stability) ** decay


def student_parameters(rng: random.Random) -> list[float]:
    """A student's true model: the defaults with each weight scaled by a log-normal factor."""
    w = [p * math.exp(rng.gauss(0, 0.35)) for p in DEFAULT]
    w[20] = rng.uniform(0.1, 0.6)  # the forgetting curve's shape differs most between people
    return list(rs.check_and_fill_parameters(w))


@dataclass
class SimCard:
    id: str
    true: Any = None  # MemoryState under the student's true model
    sched: Any = None  # MemoryState under the scheduler's parameters
    last: date | None = None
    due: date | None = None


@dataclass
class Student:
    true_params: list[float]
    rng: random.Random
    new_per_day: int = 15
    logs: list[dict[str, Any]] = field(default_factory=list)

    def rating(self, card: SimCard, today: date) -> int:
        if card.true is None:
            return self.rng.choices([1, 2, 3, 4], weights=[0.25, 0.1, 0.55, 0.1])[0]
        assert card.last is not None
        p = recall_probability(self.true_params, card.true.stability, (today - card.last).days)
        if self.rng.random() >= p:
            return 1
        return self.rng.choices([2, 3, 4], weights=[0.1, 0.8, 0.1])[0]

    def study(self, reviews: int, scheduler: list[float], retention: float = 0.9) -> list[dict[str, Any]]:
        """Study day after day until ``reviews`` reviews are logged; the logs (review-log form)."""
        true_model, sched_model = rs.FSRS(self.true_params), rs.FSRS(scheduler)
        cards: list[SimCard] = []
        today = START
        while len(self.logs) < reviews:
            due = [c for c in cards if c.due is not None and c.due <= today]
            fresh = [SimCard(id=f"c{len(cards) + i}") for i in range(self.new_per_day)]
            cards += fresh
            for card in due + fresh:
                if len(self.logs) >= reviews:
                    break
                self.review(card, today, true_model, sched_model, retention)
            today += timedelta(days=1)
        return self.logs

    def review(self, card: SimCard, today: date, true_model: Any, sched_model: Any, retention: float) -> None:
        rating = self.rating(card, today)
        elapsed = 0 if card.last is None else (today - card.last).days
        true_next = true_model.next_states(card.true, retention, elapsed)
        sched_next = sched_model.next_states(card.sched, retention, elapsed)
        name = ("again", "hard", "good", "easy")[rating - 1]
        card.true = getattr(true_next, name).memory
        state = getattr(sched_next, name)
        card.sched = state.memory
        card.last = today
        card.due = today + timedelta(days=max(1, round(state.interval)))
        at = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10, seconds=len(self.logs))
        self.logs.append({"cardId": card.id, "rating": rating, "studyDay": today.isoformat(), "reviewedAt": at})
